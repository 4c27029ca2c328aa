"""Review: one suggestion at a time with its evidence, accept (a) / reject (x) / skip (s) / undo (u) from the
keyboard, correct it before accepting, or accept everything above a threshold at once. Where several curators
decide each suggestion (the Team page's overlap), each sees what they have not judged yet, and "my next items"
hands out suggestions nobody else holds a seat of."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.spot_check_panel import spot_check_section
from app.state import actor, database
from app.ui import act, marked_sentence, md, reason_words
from knowco.services import (
    REJECT_REASONS,
    accept,
    accept_corrected,
    bulk_accept,
    evidence,
    last_rerank,
    list_relations,
    mark_relation,
    my_next_items,
    queue_size,
    reject,
    search_entities,
    sentences_mentioning,
    review_overlap,
    undo_last,
)
from knowco.services import queue as suggestion_queue
from knowco.services import unlearned

SKIPPED = "review_skipped"

st.title("Review")
db = database()
relations = {r.name: r for r in list_relations(db)}
skipped: list[int] = st.session_state.setdefault(SKIPPED, [])

me = actor().name
needed = review_overlap(db)
a, b, c, d = st.columns([2, 2, 3, 2])
relation = a.selectbox("Relation", [None, *relations], key="review_relation", persist_state="session",
                       format_func=lambda n: "all relations" if n is None else relations[n].label)
order = b.segmented_control("Order", ["confidence", "uncertainty"], default="confidence", required=True,
                            key="review_order", persist_state="session",
                            help="uncertainty: the pairs where the model's two likeliest answers (no relation included) are "
                                 "closest first: the verdicts that teach the model most")
low, high = c.slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.01, key="review_range", persist_state="session")
mine = d.toggle("My next items", key="review_mine", persist_state="session",
                help="suggestions held for you for 15 minutes: nobody else asking for their next items is given them "
                     "beyond the number of curators each needs, so two people do not judge the same one at once")
SOURCES = {"everything": None, "read by the model in a sentence": True, "the rest": False}
source = st.columns([4, 5])[0].selectbox(
    "Source", list(SOURCES), key="review_source", persist_state="session",
    help="read by the model in a sentence: suggestions the text model read in a sentence of your documents, shown "
         "with it. The rest come from the graph and the entities' names; a sentence that mentions both entities "
         "may still be shown beside one, where the model did not read this relation in it")
filters = dict(relation=relation, min_confidence=low, max_confidence=high, from_text=SOURCES[source])
total = queue_size(db, **filters, curator=me)
#: rows of "Next in the queue" a curator can ask for (a trial's curator wanted more than the 20 it used to stop at)
NEXT_ROWS = (20, 50, 100, 200)
rows = st.session_state.get("review_next_rows") or NEXT_ROWS[0]
if mine:  # each item listed is held for this curator: a table of 200 would hold 200
    queue = my_next_items(db, actor(), **filters, order=order or "confidence", limit=NEXT_ROWS[0] + 1,
                          exclude=skipped)
else:
    queue = suggestion_queue(db, **filters, order=order or "confidence", limit=rows + 1, exclude=skipped, curator=me)
st.caption((f"{total:,} suggestions match" if total != 1 else "1 suggestion matches") + (f"; {len(skipped)} skipped this session" if skipped else "")
           + (f". Each suggestion needs {needed} curators' verdicts (the Team page sets this): you see those you "
              "have not judged; it is decided when they agree, else an adjudicator decides" if needed > 1 else ""))
reranked = last_rerank(db)
if reranked:
    st.caption(f"{md(reranked['summary'])} ({reranked['at'].replace('T', ' ').replace('+00:00', '')} UTC; it happens "
               "every few verdicts, "
               "from the opinions behind each suggestion and what you and your team made of the judged ones)")
spot_check_section({"relation": relation, "min_confidence": low, "max_confidence": high,
                    "from_text": SOURCES[source]}, queue_size(db, **filters))
silent = unlearned(db)
if silent:
    st.caption(f"Nothing is suggested for {', '.join(md(n) for n in silent)}: no accepted fact or label of "
               f"{'it' if len(silent) == 1 else 'them'} to learn from yet.")


def opinion_line(opinions: dict) -> str:
    """The separate opinions behind the confidence in a curator's words, e.g. "text model 0.81 · graph model
    0.64 · 2 sentences mention both (read as this relation at 0.90 at best, its likeliest reading in 1 of them)"."""
    parts = [f"text model {opinions['text']:.2f}"] if "text" in opinions else []
    if "graph" in opinions:
        parts.append(f"graph model {opinions['graph']:.2f}")
    count = opinions.get("sentences", 0)
    read = []
    if count and "sentence" in opinions:
        read.append(f"read as this relation at {opinions['sentence']:.2f} at best")
    leads = opinions.get("leads", 0)
    if leads:
        read.append("its likeliest reading" if count == 1 else f"its likeliest reading in {leads} of them")
    mention = "mentions" if count == 1 else "mention"
    parts.append(f"{count} sentence{'s' if count != 1 else ''}" + (f" {mention} both" if count else "")
                 + (f" ({', '.join(read)})" if read else ""))
    if "margin" in opinions:
        parts.append(f"its two likeliest answers {opinions['margin']:.2f} apart")
    return " · ".join(parts)


def second_value_words(second: dict, relation_label: str) -> str:
    """Why a suggestion is a second value, in the curator's words (any relation label reads right in them)."""
    existing = ", ".join(md(e) for e in second["existing"])
    rel = f"“{md(relation_label)}”"  # quoted: a label is often a verb phrase ("is located in", "was formed in")
    if second.get("marked"):
        return f"{rel} is marked one value per entity, and {md(second['entity'])} already has {existing}."
    worth = f"so this is worth only {second['chance']:.2f} of what it would be."
    if second["side"] == "pair":
        other = relations[second["existing"][0]].label if second["existing"][0] in relations else second["existing"][0]
        return (f"your KG already links them by “{md(other)}”, and {second['single']} of the "
                f"{second['entities']} pairs it links have no {rel} as well: {worth}")
    if second.get("few"):
        worth = (f"but so few entities may show one value each by chance, so this still counts "
                 f"{second['chance']:.2f} of what it would be.")
    if second["side"] == "tail":
        return (f"in your KG, {second['single']} of the {second['entities']} entities linked by {rel} to something "
                f"have just one such link, and {md(second['entity'])} already has {existing}: {worth}")
    return (f"in your KG, {second['single']} of the {second['entities']} entities that something is linked to by "
            f"{rel} have just one such link, and {existing} → {rel} → {md(second['entity'])} is already there: "
            f"{worth}")


def pattern_words(pattern: dict, head: str, tail: str) -> str:
    """The graph's own reason as a path between the two entities, e.g. "Gothenburg ←born in— someone —citizen
    of→ Sweden, and in your KG such a path comes with *is located in* for 12 of the 13 pairs it links"."""
    def label(name: str) -> str:
        return relations[name].label if name in relations else name

    steps = [f"—{md(label(r))}→" if forwards else f"←{md(label(r))}—" for r, forwards in pattern.get("body", [])]
    path = f" {steps[0]} " if len(steps) == 1 else f" {steps[0]} something {steps[1]} " if steps else " … "
    return (f"{md(head)}{path}{md(tail)} in your KG, and such a path comes with *{md(label(pattern.get('relation', '')))}* "
            f"for {pattern['support']} of the {pattern['linked']} pairs it links.")


def mark_one_value(name: str, label: str, side: str) -> str:
    if side == "tail":
        mark_relation(db, actor(), name, functional=True)
        return f"{label} is marked one tail per head: a second value is no longer suggested"
    mark_relation(db, actor(), name, one_head_per_tail=True)
    return f"{label} is marked one head per tail: a second value is no longer suggested"


def undo_message() -> str:
    undone = undo_last(db, actor())
    return f"Undone: {undone}" if undone else "Nothing of yours to undo"


if not queue:
    st.info("Nothing to review with these filters." + (" Skipped ones come back when you clear the skip list."
                                                       if skipped else " Retrain on the Train page to get more."))
    if skipped and st.button("Clear the skip list", key="review_unskip"):
        st.session_state[SKIPPED] = []
        st.rerun()
else:
    item = queue[0]
    with st.container(border=True):
        st.markdown(f"### {md(item.head_label)} → *{md(item.relation_label)}* → {md(item.tail_label)}")
        marks = [words for flag, words in ((relations[item.relation].functional, "one tail per head"),
                                            (relations[item.relation].one_head_per_tail, "one head per tail"),
                                            (relations[item.relation].symmetric, "holds both ways"))
                 if item.relation in relations and flag]
        if marks:
            st.caption(f"*{md(item.relation_label)}* is marked: {', '.join(marks)}")
        st.progress(item.confidence, text=f"confidence {item.confidence:.2f} · model {md(item.model_version or '?')}")
        if item.opinions:
            st.caption(opinion_line(item.opinions))
        pattern = item.opinions.get("pattern")
        # shown from 3 supporting pairs and a smoothed confidence of 0.5: a weaker pattern is no reason to give
        if pattern and pattern["support"] >= 3 and pattern["confidence"] >= 0.5:
            st.success(pattern_words(pattern, item.head_label, item.tail_label), icon=":material/account_tree:")
        second = item.opinions.get("second_value")
        if second:
            kind = "A second link between these two: " if second["side"] == "pair" else "A second value: "
            st.warning(kind + second_value_words(second, item.relation_label), icon=":material/filter_1:")
            info = relations.get(item.relation)
            side = second["side"]
            # a pair's second relation has no mark to offer: it is the KG's habit, not a relation's property
            marked = (info is None or side == "pair"
                      or (info.functional if side == "tail" else info.one_head_per_tail))
            if not marked and st.button(f"Mark {info.label} as one {side} per {'head' if side == 'tail' else 'tail'}",
                                        key=f"review_mark_one_{side}_{item.id}",
                                        help="a second value is then never suggested (the Import / Export page "
                                             "undoes the mark)"):
                act("mark the relation", lambda: mark_one_value(item.relation, info.label, side))
        if item.type_violation:
            st.warning(f"Type constraint: {item.type_violation}", icon=":material/warning:")
        elif item.opinions.get("fit", 1.0) <= 0.0:  # shares no place with the relation's known entities
            st.warning("Kind doubt: the head or the tail is not of a kind this relation's known entities are (by "
                       "type, or where the KG has no types, by the places they fill in the graph).",
                       icon=":material/warning:")
        if item.reverses_fact and "both_ways" in item.opinions:
            share = item.opinions["both_ways"]
            expected = ("" if isinstance(share, bool) else
                        f" About {share:.0%} of its facts' missing reverses are expected to hold (judged by how "
                        "often the relation of this KG that most often holds both ways misses a reverse).")
            st.info(f"Completes a relation that holds both ways: the KG already holds {md(item.tail_label)} → "
                    f"*{md(item.relation_label)}* → {md(item.head_label)}, and *{md(item.relation_label)}* is "
                    f"marked symmetric or holds both ways in most of its facts.{expected}",
                    icon=":material/sync_alt:")
        elif item.reverses_fact:
            st.warning(f"Reversed: the KG already holds {md(item.tail_label)} → *{md(item.relation_label)}* → "
                       f"{md(item.head_label)}; this suggests the other direction.", icon=":material/swap_horiz:")
        found = evidence(db, item.id)
        sentences = [] if found.sentences else sentences_mentioning(db, [item.head_label, item.head],
                                                                    [item.tail_label, item.tail])
        left, right = st.columns(2)
        with left:
            st.markdown("**Evidence from text**")
            if found.sentences:
                for tokens, head_span, tail_span, score in found.sentences:
                    st.markdown(marked_sentence(tokens, head_span, tail_span) + f"  \n:gray[model: {score:.2f} in this sentence]")
            elif sentences:
                for sentence in sentences:
                    st.text(sentence)
            else:
                st.caption("No sentence mentions both entities.")
            st.markdown("**Facts linking the pair directly**")
            if found.facts:
                for fact in found.facts:
                    st.text(" → ".join(fact))
            else:
                st.caption("None yet: this would be the first fact between these two.")
        with right:
            st.markdown("**Around the head**")
            st.text("\n".join(" → ".join(f) for f in found.head_facts) or "no facts")
            st.markdown("**Around the tail**")
            st.text("\n".join(" → ".join(f) for f in found.tail_facts) or "no facts")
        # keyed by the suggestion, so a reason or comment never carries over to the next one
        r1, r2 = st.columns([1, 3])
        why = r1.selectbox("If rejected, because", REJECT_REASONS, key=f"review_reason_{item.id}",
                           format_func=reason_words)
        note = r2.text_input("Comment (optional, kept with the verdict)", key=f"review_comment_{item.id}")
        x, v, y, z, w = st.columns(5)
        # the verdict buttons are keyed by the suggestion: a second press that reaches the server after the card
        # moved on belongs to a button that is gone, so it judges nothing (a trial's double press accepted the
        # next card unseen)
        if x.button("Accept", type="primary", key=f"review_accept_{item.id}", shortcut="a", icon=":material/check:",
                    width="stretch"):
            act("accept", lambda: ("Your verdict (accept): " if needed > 1 else "Accepted: ")
                + accept(db, actor(), item.id, note))
        # the commonest correction: the model read the pair the wrong way round
        if v.button("Swap and accept", key=f"review_swap_{item.id}", shortcut="w", icon=":material/swap_horiz:",
                    width="stretch", disabled=needed > 1,
                    help=(f"accept {item.tail_label} —{item.relation_label}→ {item.head_label} instead" if needed == 1
                          else "off while several curators decide each suggestion: reject it as 'wrong "
                               "direction' and label the swapped triple on the Label page")):
            act("accept the swapped triple", lambda: "Accepted, swapped: " + accept_corrected(
                db, actor(), item.id, head=item.tail, relation=item.relation, tail=item.head))
        if y.button("Reject", key=f"review_reject_{item.id}", shortcut="x", icon=":material/close:", width="stretch"):
            act("reject", lambda: (f"Your verdict (reject, {reason_words(why)}): " if needed > 1
                                   else f"Rejected ({reason_words(why)}): ")
                + reject(db, actor(), item.id, why, note))
        if z.button("Skip", key=f"review_skip_{item.id}", shortcut="s", icon=":material/skip_next:", width="stretch"):
            skipped.append(item.id)
            st.rerun()
        if w.button("Undo", key="review_undo", shortcut="u", icon=":material/undo:", width="stretch"):
            act("undo", undo_message)
        st.caption("Keys: a accept · w swap head and tail, then accept · x reject · s skip · u undo")

    with st.expander("Correct it before accepting"):
        if needed > 1:
            st.caption("Off while several curators decide each suggestion: reject it with its reason and label the "
                       "corrected triple on the Label page.")
        def pick(label: str, key: str, current: str, current_label: str) -> str:
            # keyed by the suggestion: the previous one's search text never carries over
            query = st.text_input(f"Search {label}", key=f"{key}_q_{item.id}", placeholder=current_label)
            names = {current: current_label} | {m.name: m.label for m in search_entities(db, query, limit=50)}
            return st.selectbox(label, list(names), format_func=names.get, key=f"{key}_{item.id}")

        e1, e2, e3 = st.columns(3)
        with e1:
            head = pick("Head", "review_edit_head", item.head, item.head_label)
        with e2:
            new_relation = st.selectbox("Relation", list(relations), index=list(relations).index(item.relation),
                                        format_func=lambda n: relations[n].label, key=f"review_edit_rel_{item.id}")
        with e3:
            tail = pick("Tail", "review_edit_tail", item.tail, item.tail_label)
        if st.button("Accept corrected triple", key="review_accept_edited", disabled=needed > 1):
            act("accept the corrected triple",
                lambda: f"Accepted: {accept_corrected(db, actor(), item.id, head=head, relation=new_relation, tail=tail)}")

    with st.expander("Accept in bulk"):
        threshold = st.slider("Accept every suggestion with confidence at least", 0.0, 1.0, 0.9, 0.01,
                              key="review_bulk_threshold")
        n = queue_size(db, relation=relation, min_confidence=threshold, max_confidence=1.0)
        scope = relations[relation].label if relation else "all relations"
        if needed > 1:
            st.caption(f"Off while each suggestion needs {needed} curators' verdicts.")
        if st.button(f"Accept {n} suggestions ({md(scope)})", key="review_bulk", disabled=n == 0 or needed > 1):
            act("accept in bulk", lambda: f"Accepted {bulk_accept(db, actor(), min_confidence=threshold, relation=relation)} suggestions (one undo takes them all back)")

    st.subheader("Next in the queue")
    if not mine:
        st.segmented_control("Rows", NEXT_ROWS, default=NEXT_ROWS[0], required=True, key="review_next_rows",
                             persist_state="session", help="how many of the next suggestions the table lists")
    st.dataframe(pd.DataFrame([{"head": s.head_label, "relation": s.relation_label, "tail": s.tail_label,
                                "confidence": s.confidence, "text model": s.opinions.get("text"),
                                "graph model": s.opinions.get("graph"), "sentences": s.opinions.get("sentences"),
                                "type check": s.type_violation or ""}
                               for s in queue[1:]]),
                 hide_index=True, width="stretch", key="review_next",
                 column_config={"confidence": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                              format="%.2f"),
                                "text model": st.column_config.NumberColumn(format="%.2f"),
                                "graph model": st.column_config.NumberColumn(format="%.2f")})

if not queue and st.button("Undo my last verdict", key="review_undo_empty", icon=":material/undo:"):
    act("undo", undo_message)
