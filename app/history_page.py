"""History: the audit log, who did what and when, in words; a row's raw record one click away."""
from __future__ import annotations

import json
from datetime import datetime, time, timezone

import pandas as pd
import streamlit as st

from app.state import actor, database
from knowco.services import HIDDEN, action_words, history, history_choices

st.title("History")
db = database()
actors, actions = history_choices(db)
a, b, c, d = st.columns([2, 2, 1, 1])
who = a.multiselect("Who", actors, key="history_actors", placeholder="everyone")
what = b.multiselect("Action", actions, key="history_actions", placeholder="every action")
since = c.date_input("Since", value=None, key="history_since")
limit = d.number_input("Rows", 10, 10000, 500, 50, key="history_limit")
rows = history(db, actors=who, actions=what, limit=int(limit), viewer=actor().name,
               since=datetime.combine(since, time.min, tzinfo=timezone.utc) if since else None)
if not rows:
    st.info("Nothing recorded with these filters.")
else:
    # keyed by the filters and the newest event: a selection never points at another row once the rows change
    # "undone" is a column of its own: at the end of a long summary a table cell cut it off
    shown = st.dataframe(pd.DataFrame([{"when": r.at, "who": r.actor, "action": action_words(r.action),
                                        "undone": r.undone, "what": r.summary or r.target} for r in rows]),
                         hide_index=True, width="stretch", on_select="rerun",
                         key=f"history_table_{rows[0].id}_{len(rows)}_{sorted(who)}_{sorted(what)}_{since}",
                         selection_mode="single-row",
                         column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                                        "undone": st.column_config.CheckboxColumn(width="small"),
                                        "what": st.column_config.TextColumn(width="large")})
    picked = [i for i in shown.selection.rows if i < len(rows)]
    if picked:
        row = rows[picked[0]]
        if row.summary == HIDDEN:
            st.caption(f"Event {row.id}: {HIDDEN}.")
        else:
            st.caption(f"Event {row.id} as stored (it concerns {row.target} {row.target_id or ''}):")
            st.json(json.loads(json.dumps(row.details, ensure_ascii=False, default=str)))
    else:
        st.caption("Select a row to see the record behind it.")
