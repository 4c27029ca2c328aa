"""Import / Export: upload triples, RDF, labelled sentences or plain-text documents with a preview first;
download the KG as CSV, Turtle, N-Triples or JSON-LD; repair its vocabulary (merge, rename, delete)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database
from app.ui import flash, guarded, md
from knowco.services import (
    EXPORT_CHOICES,
    IMPORT_FORMATS,
    UPLOAD_TYPES,
    delete_entity,
    delete_relation,
    entity_footprint,
    heads_with_several_tails,
    list_relations,
    mark_relation,
    merge_entities,
    merge_relations,
    preview_merge,
    relation_footprint,
    rename_relation,
    search_entities,
    export_bytes,
    export_labels_bytes,
    import_document,
    import_upload,
    preview_upload,
)

st.title("Import / Export")
db = database()
import_tab, documents_tab, export_tab, repair_tab = st.tabs(["Import a KG or labels", "Add documents", "Export",
                                                             "Repair"])

with import_tab:
    notice = st.empty()
    # a new key after each import empties the uploader, so the page no longer looks as it did before the import
    upload = st.file_uploader("TSV/CSV triples, RDF (.ttl, .nt, .jsonld, .rdf) or JSONL sentences",
                              type=UPLOAD_TYPES, key=f"data_upload_{st.session_state.get('data_imports', 0)}")
    if upload is None and "data_imported" in st.session_state:  # until the next upload: a toast fades unread
        notice.success(st.session_state["data_imported"], icon=":material/check:")
    fmt = st.selectbox("Format", [f for f in IMPORT_FORMATS if f != "kgdir"], key="data_format",
                       help="auto: from the file name and content")
    if upload is not None:
        st.session_state.pop("data_imported", None)
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
                    st.session_state["data_imported"] = f"Imported {upload.name}: {report.summary()}"
                    st.session_state["data_imports"] = st.session_state.get("data_imports", 0) + 1
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
            st.session_state["data_export"] = (content, name, mime, count, (choice, include_suggested,
                                                                           include_rejected))
    prepared = st.session_state.get("data_export")
    # a file prepared with other choices is not offered (switching Turtle to CSV kept the .ttl button)
    if prepared and prepared[4] == (choice, include_suggested, include_rejected):
        content, name, mime, count, _ = prepared
        st.download_button(f"Download {name} ({count:,} {'rows' if name.endswith('.csv') else 'statements'})",
                           content, file_name=name, mime=mime, key="data_download", type="primary",
                           icon=":material/download:")
        if name.endswith(".csv"):
            with guarded("export the labels"):
                labels, labels_name, labels_count = export_labels_bytes(db, actor())
                st.download_button(f"Download {labels_name} ({labels_count:,} labels)", labels,
                                   file_name=labels_name, mime="text/csv", key="data_download_labels",
                                   icon=":material/download:")


def entity_picker(label: str, key: str) -> str | None:
    """A search box and the entities it finds; keyed by the query, so a new search never keeps an old pick."""
    query = st.text_input(f"Find {label}", key=f"{key}_q", placeholder="type part of a name")
    found = {e.name: e.label for e in search_entities(db, query, limit=50)} if query.strip() else {}
    # the name beside the label: two entities that share a label (what a merge is for) must read apart
    return st.selectbox(label, list(found), index=None, key=f"{key}_{query}",
                        format_func=lambda name: found[name] if found[name] == name else f"{found[name]} ({name})",
                        placeholder="search first" if not found else "pick one")


def moved_words(counts: dict) -> str:
    return ", ".join(f"{n} {w}" for w, n in counts.items() if n) or "nothing to move"


def show_merge_preview(preview, source: str, target: str) -> None:
    """What the merge would move and drop, and a warning where the two are of different kinds."""
    st.caption(f"Merging {md(source)} into {md(target)}: {md(moved_words(preview.counts))}.")
    if preview.dropped:
        st.caption("Dropped: " + md("; ".join(preview.dropped[:10]))
                   + (f" … and {len(preview.dropped) - 10} more" if len(preview.dropped) > 10 else ""))
    if preview.type_clash:
        st.warning(f"{md(source)} is a {md(preview.type_clash[0])} and {md(target)} a "
                   f"{md(preview.type_clash[1])}: are they really one?", icon=":material/warning:")


def confirmed_merge(kind: str, source: str | None, target: str | None, merge) -> None:
    """A merge that first says what it would do (a rehearsal rolled back) and goes through once confirmed: it
    cannot be undone."""
    label, key = ("Merge entities", "data_merge_entities") if kind == "entity" else ("Merge relations",
                                                                                     "data_merge_relations")
    if not (source and target) or source == target:
        st.button(label, key=key, disabled=True)
        return
    with guarded("preview the merge"):
        preview = preview_merge(db, kind, source, target)
        show_merge_preview(preview, source, target)
        sure = st.checkbox(f"Merge {source} into {target} (it cannot be undone)",
                           key=f"data_merge_sure_{kind}_{source}_{target}_{preview.counts}")
        if st.button(label, key=key, disabled=not sure) and sure:
            counts = merge(db, actor(), source, target)
            flash(f"Merged {source} into {target}: {moved_words(counts)}"
                  + ("; retrain so that the model learns from the merged facts" if kind == "relation" else ""))
            st.rerun()


def confirmed_delete(what: str, name: str, footprint, delete) -> None:
    """A delete that says what it removes and goes through only once that is confirmed."""
    st.caption(f"Deleting {md(name)} removes it with {footprint.words()}.")
    # keyed by the counts: when they change, the box is a new one, unticked, and nothing is deleted
    sure = st.checkbox(f"Delete {name} and all of that", key=f"data_repair_sure_{what}_{name}_{footprint}")
    if st.button(f"Delete {what}", key=f"data_repair_delete_{what}", disabled=not sure,
                 icon=":material/delete:") and sure:
        with guarded(f"delete the {what}"):
            flash(f"Deleted {what} {name} with {delete(db, actor(), name, footprint).words()}")
            st.rerun()


with repair_tab:  # the page is an admin's (app/main.py); the services check the role again
    st.markdown("**Merge two entities that are one** (the first's facts and labels move to the second; its "
                "names become aliases)")
    a, b = st.columns(2)
    with a:
        source = entity_picker("the duplicate", "data_merge_source")
    with b:
        target = entity_picker("the entity to keep", "data_merge_target")
    confirmed_merge("entity", source, target, merge_entities)
    st.divider()
    st.markdown("**A relation**")
    specs = {r.name: r for r in list_relations(db)}
    names = {name: spec.label for name, spec in specs.items()}
    chosen = st.selectbox("Relation", list(names), index=None, key="data_repair_relation",
                          format_func=lambda n: f"{names[n]} ({n})" if names[n] != n else n)
    if chosen:
        m1, m4, m2, m3 = st.columns([2, 2, 2, 1])
        functional = m1.checkbox("One tail per head (functional)", specs[chosen].functional,
                                 key=f"data_functional_{chosen}", help="e.g. a country's capital: once a head has "
                                 "a tail, no second one is suggested")
        one_head = m4.checkbox("One head per tail", specs[chosen].one_head_per_tail, key=f"data_one_head_{chosen}",
                               help="e.g. 'wrote' (author → book): a book has one author, so once a tail has a "
                                    "head, no second one is suggested")
        symmetric = m2.checkbox("Holds both ways (symmetric)", specs[chosen].symmetric,
                                key=f"data_symmetric_{chosen}",
                                help="e.g. borders: the reverse of a fact is never taught as a negative")
        if m3.button("Save marks", key="data_mark_relation"):
            with guarded("mark the relation"):
                mark_relation(db, actor(), chosen, functional=functional, symmetric=symmetric,
                              one_head_per_tail=one_head)
                several = heads_with_several_tails(db, chosen) if functional else 0
                flash(f"{chosen}: " + (", ".join(w for f, w in ((functional, "functional"), (symmetric, "symmetric"),
                                                                (one_head, "one head per tail")) if f) or "no marks")
                      + (f"; note: {several} head{'s have' if several != 1 else ' has'} more than one {chosen} "
                         "fact already (nothing was removed)" if several else "")
                      + "; the queue follows the marks from the next suggestions (Suggest now on the Train page)")
                st.rerun()
        c, d = st.columns(2)
        with c:
            new_name = st.text_input("New name", key=f"data_rename_{chosen}")
            new_label = st.text_input("New display label (optional)", key=f"data_relabel_{chosen}")
            if st.button("Rename", key="data_rename_relation", disabled=not new_name.strip()):
                with guarded("rename the relation"):
                    flash(f"Renamed {chosen} to {rename_relation(db, actor(), chosen, new_name, new_label)}; "
                          "retrain so that the model suggests it under its new name")
                    st.rerun()
        with d:
            into = st.selectbox("Merge into", [n for n in names if n != chosen], index=None,
                                key=f"data_merge_into_{chosen}")
            confirmed_merge("relation", chosen, into, merge_relations)
        confirmed_delete("relation", chosen, relation_footprint(db, chosen), delete_relation)
    st.divider()
    st.markdown("**Delete an entity**")
    doomed = entity_picker("the entity", "data_delete_entity")
    if doomed:
        confirmed_delete("entity", doomed, entity_footprint(db, doomed), delete_entity)
