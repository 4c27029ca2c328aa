"""Team: how many curators decide each suggestion and each label, how much they agree per relation (and on
which items they differ), who did how much, and, for an adjudicator, the disputed suggestions and labels with
every curator's answer side by side."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database, is_admin
from app.ui import flash, guarded, marked_sentence, md, reason_words
from knowco.services import (DOES_NOT_HOLD, HOLDS, MAX_OVERLAP, NO_RELATION_CHOICE, REJECT_REASONS, adjudicate,
                             adjudicate_label, agreement, curator_counts, disputed, disputed_labels, label_agreement,
                             label_overlap, list_relations, review_overlap, RelationAgreement, set_label_overlap, set_review_overlap)

st.title("Team")
db = database()
needed = review_overlap(db)

labels_needed = label_overlap(db)

st.subheader("Curators per suggestion and per label")
if is_admin():
    with st.form("team_overlap", enter_to_submit=False, border=False):
        left, right = st.columns(2)
        chosen = left.number_input("Verdicts each suggestion needs", min_value=1, max_value=MAX_OVERLAP,
                                   value=needed, step=1,
                                   help="1: the first verdict decides. 2 or more: a suggestion becomes a fact (or a "
                                        "rejection) when that many curators agree; any disagreement sends it to "
                                        "adjudication below.")
        chosen_labels = right.number_input("Answers each label needs", min_value=1, max_value=MAX_OVERLAP,
                                           value=labels_needed, step=1,
                                           help="1: a curator's label trains the model at once. 2 or more: other "
                                                "curators answer the same label task blind (Label page, 'Waiting "
                                                "for your answer'); it trains the model once that many agree, and "
                                                "goes to adjudication below where they differ.")
        if st.form_submit_button("Save"):
            with guarded("set the overlap"):
                words = []
                if int(chosen) != needed:
                    settled = set_review_overlap(db, actor(), int(chosen))
                    words.append(f"each suggestion now needs {int(chosen)} verdict{'s' if chosen > 1 else ''}"
                                 + (f" ({settled} waiting suggestions were settled)" if settled else ""))
                if int(chosen_labels) != labels_needed:
                    settled = set_label_overlap(db, actor(), int(chosen_labels))
                    words.append(f"each label now needs {int(chosen_labels)} answer{'s' if chosen_labels > 1 else ''}"
                                 + (f" ({settled} waiting labels were settled)" if settled else ""))
                flash(("; ".join(words) or "nothing changed").capitalize())
                st.rerun()
else:
    st.markdown(f"Each suggestion needs **{needed}** curator verdict{'s' if needed > 1 else ''} and each label "
                f"**{labels_needed}** answer{'s' if labels_needed > 1 else ''} (an admin sets this).")


def agreement_table(measured: list[RelationAgreement], key: str, what: str) -> None:
    """One row per relation, and the items behind each disagreement one click away."""
    st.dataframe(pd.DataFrame([{
        "relation": a.relation, "items judged by 2+": a.items, "curators": ", ".join(a.curators),
        "all agree": a.agreed, "Cohen's κ": a.kappa, "Krippendorff's α": a.alpha, "differ": len(a.disagreements),
        "low": "low" if a.low else ""} for a in measured]),
        hide_index=True, width="stretch", key=key,
        column_config={"all agree": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f"),
                       "Cohen's κ": st.column_config.NumberColumn(format="%.2f"),
                       "Krippendorff's α": st.column_config.NumberColumn(format="%.2f")})
    st.caption("κ: two curators who judged the same items; α: any number, some items judged by fewer. 1 is full "
               "agreement, 0 what chance gives; below 0.4 is marked low. Empty where every verdict was the same "
               "(chance cannot be told apart).")
    for item in measured:
        if item.disagreements:
            differ = len(item.disagreements)
            with st.expander(f"{md(item.relation)}: {differ} item{'s' if differ > 1 else ''} where the curators "
                             "differ"):
                st.dataframe(pd.DataFrame([{what: d.text, "status": d.status,
                                            **{c: d.decisions.get(c, "") for c in item.curators}}
                                           for d in item.disagreements]),
                             hide_index=True, width="stretch", key=f"{key}_differ_{item.relation}")


st.subheader("Agreement per relation")
measured = agreement(db)
if not measured:
    st.caption("No suggestion has been judged by two curators yet: raise \"Verdicts each suggestion needs\" above "
               "to measure agreement.")
else:
    agreement_table(measured, "team_agreement", "suggestion")
measured_labels = label_agreement(db)
if measured_labels:
    st.markdown("**On label tasks** (triples per relation; sentences together, where the answer is the relation)")
    agreement_table(measured_labels, "team_label_agreement", "label")

counts = curator_counts(db)
if counts:
    st.subheader("Verdicts per curator")
    st.dataframe(pd.DataFrame([vars(c) for c in counts]), hide_index=True, width="stretch", key="team_counts")

st.subheader("Suggestions to adjudicate")
waiting = disputed(db)
if not waiting:
    st.caption("No disputed suggestion.")
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
            why = a.selectbox("If rejected, because", REJECT_REASONS, key=f"team_reason_{item.triple_id}",
                              format_func=reason_words)
            note = b.text_input("Comment (kept with the decision)", key=f"team_comment_{item.triple_id}")
            for column, decision, label in ((c, "accepted", "Accept"), (d, "rejected", "Reject")):
                if column.button(label, key=f"team_{decision}_{item.triple_id}", width="stretch"):
                    with guarded("adjudicate"):
                        flash(f"{'Accepted' if decision == 'accepted' else 'Rejected'}: "
                              f"{adjudicate(db, actor(), item.triple_id, decision, why, note)}")
                        st.rerun()
        else:
            st.caption("An admin adjudicates.")


st.subheader("Labels to adjudicate")
waiting_labels = disputed_labels(db)
if not waiting_labels:
    st.caption("No disputed label.")
relation_names = [r.name for r in list_relations(db)] if waiting_labels else []
for item in waiting_labels:
    task = item.task
    with st.container(border=True):
        if task.kind == "triple":
            st.markdown(f"Does **{md(task.head)}** → *{md(task.relation_label or '')}* → **{md(task.tail)}** hold?")
            answers = [HOLDS, DOES_NOT_HOLD]
        else:
            st.markdown(marked_sentence(task.tokens, task.head_span, task.tail_span))
            st.caption(f"Which relation from **{md(task.head)}** to **{md(task.tail)}**?")
            answers = [NO_RELATION_CHOICE] + relation_names
        columns = st.columns(max(1, len(item.opinions)))
        for column, opinion in zip(columns, item.opinions):
            with column:
                st.markdown(f"**{md(opinion.curator)}**: {md(opinion.answer)}")
                if opinion.comment:
                    st.caption(f"“{md(opinion.comment)}”")
        if is_admin():
            a, b, c = st.columns([2, 3, 1], vertical_alignment="bottom")
            answer = a.selectbox("Answer", answers, index=None, placeholder="choose",
                                 key=f"team_label_answer_{task.example_id}")
            note = b.text_input("Comment (kept with the decision)", key=f"team_label_comment_{task.example_id}")
            if c.button("Settle", key=f"team_label_settle_{task.example_id}", width="stretch",
                        disabled=answer is None):
                with guarded("adjudicate the label"):
                    flash(f"Settled: {adjudicate_label(db, actor(), task.example_id, answer, note)}; the label "
                          "trains the model")
                    st.rerun()
        else:
            st.caption("An admin adjudicates.")
