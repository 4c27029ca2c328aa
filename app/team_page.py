"""Team: how many curators decide each suggestion, how much they agree per relation (and on which items
they differ), who did how much, and, for an adjudicator, the disputed suggestions with every verdict side by
side."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database, is_admin
from app.ui import flash, guarded, md
from knowco.services import (MAX_OVERLAP, REJECT_REASONS, adjudicate, agreement, curator_counts, disputed,
                             review_overlap, set_review_overlap)

st.title("Team")
db = database()
needed = review_overlap(db)

st.subheader("Curators per suggestion")
if is_admin():
    with st.form("team_overlap", enter_to_submit=False, border=False):
        chosen = st.number_input("Verdicts each suggestion needs", min_value=1, max_value=MAX_OVERLAP, value=needed,
                                 step=1,
                                 help="1: the first verdict decides. 2 or more: a suggestion becomes a fact (or a "
                                      "rejection) when that many curators agree; any disagreement sends it to "
                                      "adjudication below.")
        if st.form_submit_button("Save"):
            with guarded("set the overlap"):
                settled = set_review_overlap(db, actor(), int(chosen))
                flash(f"Each suggestion now needs {int(chosen)} verdict{'s' if chosen > 1 else ''}"
                      + (f"; {settled} waiting suggestions had enough verdicts and were settled" if settled else ""))
                st.rerun()
else:
    st.markdown(f"Each suggestion needs **{needed}** curator verdict{'s' if needed > 1 else ''} (an admin sets this).")

st.subheader("Agreement per relation")
measured = agreement(db)
if not measured:
    st.caption("No suggestion has been judged by two curators yet: raise the overlap above to measure agreement.")
else:
    st.dataframe(pd.DataFrame([{
        "relation": a.relation, "items judged by 2+": a.items, "curators": ", ".join(a.curators),
        "all agree": a.agreed, "Cohen's κ": a.kappa, "Krippendorff's α": a.alpha, "differ": len(a.disagreements),
        "low": "low" if a.low else ""} for a in measured]),
        hide_index=True, width="stretch", key="team_agreement",
        column_config={"all agree": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
                       "Cohen's κ": st.column_config.NumberColumn(format="%.2f"),
                       "Krippendorff's α": st.column_config.NumberColumn(format="%.2f")})
    st.caption("κ: two curators who judged the same items; α: any number, some items judged by fewer. 1 is full "
               "agreement, 0 what chance gives; below 0.4 is marked low. Empty where every verdict was the same "
               "(chance cannot be told apart).")
    for item in measured:
        if item.disagreements:
            with st.expander(f"{md(item.relation)}: {len(item.disagreements)} items where the curators differ"):
                st.dataframe(pd.DataFrame([{"suggestion": d.triple, "status": d.status,
                                            **{c: d.decisions.get(c, "") for c in item.curators}}
                                           for d in item.disagreements]),
                             hide_index=True, width="stretch", key=f"team_differ_{item.relation}")

counts = curator_counts(db)
if counts:
    st.subheader("Verdicts per curator")
    st.dataframe(pd.DataFrame([vars(c) for c in counts]), hide_index=True, width="stretch", key="team_counts")

st.subheader("Adjudication")
waiting = disputed(db)
if not waiting:
    st.caption("Nothing disputed.")
for item in waiting:
    with st.container(border=True):
        st.markdown(f"**{md(item.head)}** → *{md(item.relation)}* → **{md(item.tail)}**"
                    + (f" · confidence {item.confidence:.2f}" if item.confidence is not None else ""))
        columns = st.columns(max(1, len(item.verdicts)))
        for column, verdict in zip(columns, item.verdicts):
            with column:
                st.markdown(f"**{md(verdict.curator)}**: {verdict.decision}"
                            + (f" ({md(verdict.reason)})" if verdict.reason else ""))
                if verdict.comment:
                    st.caption(f"“{md(verdict.comment)}”")
        if is_admin():
            a, b, c, d = st.columns([2, 3, 1, 1])
            why = a.selectbox("If rejected, because", REJECT_REASONS, key=f"team_reason_{item.triple_id}")
            note = b.text_input("Comment (kept with the decision)", key=f"team_comment_{item.triple_id}")
            for column, decision, label in ((c, "accepted", "Accept"), (d, "rejected", "Reject")):
                if column.button(label, key=f"team_{decision}_{item.triple_id}", width="stretch"):
                    with guarded("adjudicate"):
                        flash(f"{'Accepted' if decision == 'accepted' else 'Rejected'}: "
                              f"{adjudicate(db, actor(), item.triple_id, decision, why, note)}")
                        st.rerun()
        else:
            st.caption("An admin adjudicates.")
