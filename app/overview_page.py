"""Overview: the KG at a glance, the model in use, and what to do next."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database, is_admin
from app.ui import flash, guarded, md
from knowco.services import (agreement, label_overlap, metrics_of, overview, quality_words, review_overlap,
                             seed_demo)

PAGE_FILES = {"label": "label_page.py", "train": "train_page.py", "review": "review_page.py",
              "data": "data_page.py"}
PAGE_TITLES = {"label": "Label", "train": "Train", "review": "Review", "data": "Import / Export"}
#: pages a curator's navigation does not have (app/main.py): their steps are said, not linked
ADMIN_PAGES = {"train", "data"}

st.title("Overview")
db = database()
data = overview(db)
stats = data.stats
if not stats.entities:
    with st.container(border=True):
        st.subheader("Your knowledge graph is empty: where do you start?")
        a, b = st.columns(2)
        if is_admin():
            a.page_link(PAGE_FILES["data"], label="Import my KG (TSV, CSV, RDF or labelled sentences)",
                        icon=":material/upload_file:")
        else:
            a.caption("An admin imports the KG.")
        allowed = actor().may("import")
        if b.button("Load the demo KG (a small drug–disease graph)", key="overview_load_demo",
                    icon=":material/science:", disabled=not allowed,
                    help=None if allowed else "an admin loads data; ask one"):
            with guarded("load the demo"):
                graph, sentences = seed_demo(db, actor(), mix=False)
                flash(f"Demo KG loaded: {graph.summary()}; {sentences.summary()}")
                st.rerun()
        st.caption("The demo is for trying KnowCo out; for your own KG, start a new database rather than mixing "
                   "the two (their relations would merge where the names are the same).")
columns = st.columns(5)
columns[0].metric("Entities", f"{stats.entities:,}")
columns[1].metric("Relations", f"{stats.relations:,}")
columns[2].metric("Accepted triples", f"{stats.triples['accepted']:,}")
columns[3].metric("Suggested", f"{stats.triples['suggested']:,}")
columns[4].metric("Rejected", f"{stats.triples['rejected']:,}")

# the step as text, which wraps, and a short link beside it: a page link does not wrap, and a long step was cut
# off mid-word ("… 8 per relation, sh")
with st.container(border=True):
    st.subheader("What to do next")
    for step in data.next_steps:
        if step.page in ADMIN_PAGES and not is_admin():
            st.markdown(f":material/arrow_forward: {md(step.text)} (an admin does this)")
        else:
            said, link = st.columns([5, 1], vertical_alignment="center")
            said.markdown(f":material/arrow_forward: {md(step.text)}")
            link.page_link(PAGE_FILES[step.page], label=f"Open {PAGE_TITLES[step.page]}")



def team_summary() -> None:
    """The overlaps, the agreement per relation in one line, and what waits for an adjudicator."""
    needed, labels_needed, measured = review_overlap(db), label_overlap(db), agreement(db)
    waiting, labels_waiting = data.stats.triples.get("disputed", 0), data.stats.unsettled_labels.get("disputed", 0)
    if needed == 1 and labels_needed == 1 and not measured and not waiting and not labels_waiting:
        return
    st.subheader("Team")
    figures = ", ".join(f"{md(a.relation)} {a.figure[0]} " + ("—" if a.figure[1] is None else f"{a.figure[1]:.2f}")
                        for a in measured)
    st.markdown(f"{needed} verdict{'s' if needed > 1 else ''} per suggestion, {labels_needed} answer"
                f"{'s' if labels_needed > 1 else ''} per label"
                + (f"; agreement: {figures}" if figures else "") + (f"; **{waiting} disputed**" if waiting else "")
                + (f"; **{labels_waiting} label{'s' if labels_waiting > 1 else ''} disputed**" if labels_waiting else ""))
    st.page_link("team_page.py", label="Agreement and adjudication", icon=":material/groups:")


left, right = st.columns([3, 2], gap="large")
with right:
    st.subheader("Model")
    if data.active is None:
        st.caption("No model trained yet.")
    else:
        active = data.active
        quality = metrics_of(active)
        st.markdown(f"**{md(active.name)}** ({md(active.backbone)}), trained by {md(active.created_by)} on "
                    f"{active.created_at:%Y-%m-%d %H:%M} UTC with {active.n_examples} labels")
        if quality.accuracy is not None:
            st.markdown(f"It is {md(quality_words(quality.accuracy, quality.held_out, quality.held_out_source))}.")
    if data.latest is not None and data.latest.status in ("queued", "running"):
        st.progress(data.latest.progress, text=f"{data.latest.name}: {data.latest.message}")
    team_summary()

with left:
    st.subheader("Labelled examples per relation")
    if data.progress:
        frame = pd.DataFrame(
            [{"relation": p.relation, "examples": p.examples, "missing": p.missing,
              "progress": min(1.0, p.examples / p.target)} for p in data.progress]
        )
        st.dataframe(
            frame, hide_index=True, width="stretch", key="overview_progress",
            column_config={"progress": st.column_config.ProgressColumn("progress to 8", min_value=0.0,
                                                                       max_value=1.0)},
        )
    else:
        st.info("The knowledge graph has no relations yet: import one on the Import / Export page.")
