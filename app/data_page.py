"""Import / Export: upload triples, RDF, labelled sentences or plain-text documents with a preview first;
download the KG as CSV, Turtle, N-Triples or JSON-LD."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database
from app.ui import flash, guarded
from knowco.services import (
    EXPORT_CHOICES,
    IMPORT_FORMATS,
    UPLOAD_TYPES,
    export_bytes,
    export_labels_bytes,
    import_document,
    import_upload,
    preview_upload,
)

st.title("Import / Export")
db = database()
import_tab, documents_tab, export_tab = st.tabs(["Import a KG or labels", "Add documents", "Export"])

with import_tab:
    upload = st.file_uploader("TSV/CSV triples, RDF (.ttl, .nt, .jsonld, .rdf) or JSONL sentences",
                              type=UPLOAD_TYPES, key="data_upload")
    fmt = st.selectbox("Format", [f for f in IMPORT_FORMATS if f != "kgdir"], key="data_format",
                       help="auto: from the file name and content")
    if upload is not None:
        data = upload.getvalue()
        preview = None
        with guarded("read the file"):
            preview = preview_upload(upload.name, data, fmt)
        if preview is not None:
            st.success(f"{upload.name} reads as {preview.format}: {preview.entities} entities, {preview.relations} "
                       f"relations, {preview.triples} triples, {preview.sentence_examples} labelled sentences"
                       + (f"; will skip {sum(preview.skipped.values())} ({', '.join(preview.skipped)})"
                          if preview.skipped else ""), icon=":material/visibility:")
            if preview.sample:
                st.dataframe(pd.DataFrame(preview.sample, columns=["head", "relation", "tail"]), hide_index=True,
                             width="stretch", key="data_preview")
            if st.button("Import", type="primary", key="data_import"):
                with guarded("import the file"):
                    report = import_upload(db, actor(), upload.name, data, fmt)
                    flash(f"{upload.name}: {report.summary()}")
                    st.rerun()

with documents_tab:
    st.caption("Plain text, UTF-8, one sentence or paragraph per line; paragraphs are split into sentences.")
    document = st.file_uploader("Documents", type=["txt", "text", "md"], key="data_documents")
    if document is not None:
        text = document.getvalue().decode("utf-8-sig", errors="replace")
        st.text("\n".join(text.splitlines()[:8]))
        if st.button("Add the document", type="primary", key="data_add_document"):
            with guarded("add the document"):
                added, present = import_document(db, actor(), document.name, document.getvalue())
                flash(f"{document.name}: {added} sentences added" + (f", {present} already present" if present else ""))
                st.rerun()

with export_tab:
    choice = st.segmented_control("Format", list(EXPORT_CHOICES), default="Turtle", key="data_export_format")
    a, b = st.columns(2)
    include_suggested = a.checkbox("Include pending suggestions", key="data_include_suggested")
    include_rejected = b.checkbox("Include rejected suggestions and retracted facts", key="data_include_rejected")
    st.caption("Accepted facts are always exported; RDF carries who accepted each fact, when, which model "
               "proposed it and the sentences it was read in (PROV-O), and every curator label. A CSV export has "
               "the sentences in its evidence column and the labels in a labels.csv beside it.")
    if st.button("Prepare the file", key="data_prepare", disabled=choice is None):
        with guarded("export"):
            content, name, mime, count = export_bytes(db, actor(), choice, include_suggested=include_suggested,
                                                      include_rejected=include_rejected)
            st.session_state["data_export"] = (content, name, mime, count)
    prepared = st.session_state.get("data_export")
    if prepared:
        content, name, mime, count = prepared
        st.download_button(f"Download {name} ({count:,} {'rows' if name.endswith('.csv') else 'statements'})",
                           content, file_name=name, mime=mime, key="data_download", type="primary",
                           icon=":material/download:")
        if name.endswith(".csv"):
            with guarded("export the labels"):
                labels, labels_name, labels_count = export_labels_bytes(db, actor())
                st.download_button(f"Download {labels_name} ({labels_count:,} labels)", labels,
                                   file_name=labels_name, mime="text/csv", key="data_download_labels",
                                   icon=":material/download:")
