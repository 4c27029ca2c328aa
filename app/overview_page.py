"""Overview: the KG at a glance and what to do next."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import database
from knowco.overview import overview

st.title("Overview")
data = overview(database())
stats = data.stats
columns = st.columns(5)
columns[0].metric("Entities", f"{stats.entities:,}")
columns[1].metric("Relations", f"{stats.relations:,}")
columns[2].metric("Accepted triples", f"{stats.triples['accepted']:,}")
columns[3].metric("Suggested", f"{stats.triples['suggested']:,}")
columns[4].metric("Rejected", f"{stats.triples['rejected']:,}")

st.subheader("Labelled examples per relation")
if data.progress:
    frame = pd.DataFrame(
        [{"relation": p.relation, "examples": p.examples, "missing": p.missing,
          "progress": min(1.0, p.examples / p.target)} for p in data.progress]
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"progress": st.column_config.ProgressColumn("progress to 8", min_value=0.0, max_value=1.0)},
        key="overview_progress",
    )
    incomplete = [p for p in data.progress if p.missing]
    if incomplete:
        st.info(f"{len(incomplete)} relations have fewer than {incomplete[0].target} examples: label more before retraining.")
else:
    st.info("The knowledge graph is empty: import a KG with `python -m knowco import PATH`.")
