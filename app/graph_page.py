"""Graph: an entity's neighbourhood or a filtered slice of the KG, accepted facts solid, suggestions dashed and
coloured by confidence; below it, the chosen entity's facts and pending suggestions, and a form to retract one
of its facts."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database
from app.ui import flash, guarded, md
from knowco.services import (busiest_entity, get_entity, list_relations, render_html, retract, search_entities,
                             subgraph)

CENTER = "graph_center"


def recenter(name: str) -> None:
    """Runs before the rerun, so it may clear the search box and drop the centre box's old choice."""
    st.session_state[CENTER] = name
    for key in [k for k in st.session_state if str(k).startswith("graph_center_pick_")]:
        del st.session_state[key]
    st.session_state["graph_search"] = ""

st.title("Graph")
db = database()
relations = list_relations(db)
if CENTER not in st.session_state:  # a first look starts on the best-connected entity, not a hairball
    st.session_state[CENTER] = busiest_entity(db)

with st.container(border=True):
    a, b, c = st.columns([2, 2, 1])
    query = a.text_input("Find an entity", key="graph_search", persist_state="session",
                         placeholder="type part of a name")
    matches = search_entities(db, query, limit=200)
    options = [None] + [m.name for m in matches]
    current = st.session_state.get(CENTER)
    if current and current not in options and not query.strip():
        options.insert(1, current)
    default = options.index(current) if current is not None and current in options else int(bool(query.strip() and matches))
    labels = {m.name: f"{m.label} ({m.type})" if m.type else m.label for m in matches}
    # a new search is a new list: keying the box by the query makes it start at the best match
    center = b.selectbox("Centre on", options, index=default,
                         format_func=lambda name: "— whole graph (first edges) —" if name is None
                         else labels.get(name, name), key=f"graph_center_pick_{query}")
    st.session_state[CENTER] = center
    hops = c.radio("Hops", [1, 2], horizontal=True, key="graph_hops", persist_state="session", disabled=center is None)
    d, e, f, g = st.columns([3, 3, 2, 1])  # room for the status chips (they were clipped)
    chosen = d.multiselect("Relations", [r.name for r in relations], key="graph_relations", persist_state="session",
                           placeholder="all relations")
    statuses = e.multiselect("Show", ["accepted", "suggested", "rejected", "retracted"], default=["accepted", "suggested"],
                             key="graph_statuses", persist_state="session")
    low, high = f.slider("Suggestion confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key="graph_confidence",
                         persist_state="session")
    max_nodes = g.number_input("Max nodes", 10, 2000, 300, 10, key="graph_max_nodes", persist_state="session")

graph = subgraph(db, center=center, relations=chosen, statuses=statuses or ["accepted"], min_confidence=low,
                 max_confidence=high, max_nodes=int(max_nodes), hops=int(hops))
solid = sum(edge.status == "accepted" for edge in graph.edges)
st.caption(f"{len(graph.nodes)} entities, {solid} accepted facts, {len(graph.edges) - solid} suggested, rejected "
           "or retracted (the legend above the picture says which line is which)"
           + (f". Stopped at {max_nodes} nodes: narrow the filters to see the rest." if graph.truncated else "."))
if graph.edges:
    st.iframe(render_html(graph, center=center), height=640)
else:
    st.info("Nothing matches these filters.")

st.subheader("Entity details")
names = sorted(graph.nodes, key=lambda n: graph.nodes[n].label.lower())
if names:
    pick = st.selectbox("Entity", names, index=names.index(center) if center in names else 0,
                        format_func=lambda n: graph.nodes[n].label, key="graph_detail")
    entity = get_entity(db, pick)
    if entity is not None:
        st.markdown(f"**{md(entity.label)}**" + (f" · {md(entity.type)}" if entity.type else ""))
        if entity.description:
            st.text(entity.description)
        if pick != center:
            st.button("Centre the graph on this entity", key="graph_recenter", on_click=recenter, args=(pick,))
        around = subgraph(db, center=pick, statuses=["accepted", "suggested"], max_nodes=500)
        # a fact has no confidence: an empty cell, not "None"
        rows = pd.DataFrame([{"head": around.nodes[e.head].label, "relation": e.relation_label,
                              "tail": around.nodes[e.tail].label, "status": e.status,
                              "confidence": "" if e.confidence is None else f"{e.confidence:.2f}"}
                             for e in around.edges])
        if len(rows):
            st.dataframe(rows.sort_values(["status", "relation"]), hide_index=True, width="stretch",
                         key="graph_entity_facts")
        else:
            st.caption("This entity has no accepted facts or pending suggestions.")
        facts = [e for e in around.edges if e.status == "accepted"]
        if facts:
            # keyed by the entity, so a form never keeps another entity's fact or reason
            with st.form(f"graph_retract_{pick}", border=True, clear_on_submit=True):
                st.markdown("**Retract a fact** (kept as retracted with your reason; *Undo* on the Review page "
                            "takes it back)")
                # the names in the text: two facts whose labels read alike stay apart
                fact = st.selectbox("Fact", facts, key=f"graph_retract_fact_{pick}", index=None,
                                    placeholder="pick the fact",
                                    format_func=lambda e: f"{e.head} —{e.relation}→ {e.tail}")
                reason = st.text_input("Why", key=f"graph_retract_reason_{pick}",
                                       placeholder="e.g. wrong direction, imported by mistake")
                if st.form_submit_button("Retract", icon=":material/remove_circle:") and fact is not None:
                    with guarded("retract the fact"):
                        flash(f"Retracted {retract(db, actor(), fact.head, fact.relation, fact.tail, reason)}")
                        st.rerun()
