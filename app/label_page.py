"""Label: the examples of one relation, how many are missing to reach 8, and forms to add triple and sentence
labels; existing labels are edited or deleted in a table (every change is kept in the history)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database, is_admin
from app.ui import flash, guarded, marked_sentence, md
from knowco.services import (
    EXAMPLES_PER_RELATION,
    NO_RELATION_CHOICE,
    DOES_NOT_HOLD,
    HOLDS,
    ExampleEdit,
    LabelTask,
    add_sentence,
    add_sentence_label,
    add_triple_label,
    answer_label_task,
    detect_mentions,
    edit_labels,
    find_sentences,
    get_sentence,
    label_overlap,
    label_tasks_waiting,
    list_examples,
    list_relations,
    search_entities,
)

st.title("Label")
db = database()
relations = list_relations(db)
if not relations:
    st.info("There are no relations yet: import a KG on the Import / Export page first.")
    st.stop()
by_name = {r.name: r for r in relations}
relation = st.selectbox("Relation", list(by_name), key="label_relation",
                        format_func=lambda n: f"{by_name[n].label} ({n})" if by_name[n].label != n else n)
info = by_name[relation]
needed = label_overlap(db)
me = actor().name
# others' labels still waiting for answers are asked blind (the "Waiting" tab), so their answers stay hidden here
examples = [x for x in list_examples(db, relation) if x.status != "pending" or x.created_by == me]
count = sum(x.status == "settled" for x in examples)
unsettled = len(examples) - count
st.progress(min(1.0, count / EXAMPLES_PER_RELATION),
            text=f"{count} / {EXAMPLES_PER_RELATION} examples"
            + (f" — {EXAMPLES_PER_RELATION - count} missing" if count < EXAMPLES_PER_RELATION else " — enough to train")
            + (f" ({unsettled} more waiting for curators' answers or an adjudicator)" if unsettled else ""))
if needed > 1:
    st.caption(f"A label trains the model once {needed} curators give the same answer (an admin sets this on the "
               "Team page); where they differ, an admin adjudicates.")
if info.description:
    st.caption(md(info.description))


def entity_picker(label: str, key: str, avoid: str | None = None) -> str | None:
    """A search box and a list of matches: autocomplete that stays fast on 100k entities. Once something is
    typed, the first match that is not `avoid` is preselected (head and tail never start as the same entity);
    with the box empty nothing is, so no entity looks chosen that the curator did not choose."""
    query = st.text_input(f"Search {label}", key=f"{key}_q", placeholder="type part of a name")
    matches = search_entities(db, query, limit=100)
    if not matches:
        st.caption("No entity matches.")
        return None
    names = {m.name: (f"{m.label} ({m.type})" if m.type else m.label) for m in matches}
    order = list(names)
    first = next((i for i, name in enumerate(order) if name != avoid), 0) if query.strip() else None
    return st.selectbox(label, order, index=first, format_func=names.get, key=f"{key}_{query}",
                        placeholder="choose one, or type above to search")


waiting, waiting_total = label_tasks_waiting(db, actor())
tab_names = ["Add a triple", "Add a sentence", f"Examples ({len(examples)})"]
if needed > 1 or waiting_total:  # a title without the count: answering one must not change the tab shown
    tab_names.append("Waiting for your answer")
triples_tab, sentences_tab, table_tab, *waiting_tab = st.tabs(tab_names)
if waiting_total:
    st.caption(f":material/pending: {waiting_total} label{'s' if waiting_total > 1 else ''} other curators entered "
               "wait for your answer (last tab).")


def added_words(example_id: int) -> str:
    """Where a new label stands: with an overlap above 1 it may have been someone else's waiting task, which
    this curator's label answered (settling or disputing it)."""
    if needed <= 1:
        return ""
    status = next((x.status for x in list_examples(db) if x.id == example_id), "pending")
    return {"pending": f" — it trains the model once {needed} curators agree",
            "settled": " — it answered the same label another curator entered: you agree, it trains the model",
            "disputed": " — it answered the same label another curator entered differently: it goes to "
                        "adjudication"}[status]

with triples_tab:
    left, middle, right = st.columns([5, 3, 5])
    with left:
        head = entity_picker("Head", "label_head")
    with middle:
        st.markdown(f"**{md(info.label)}**")
        # keyed by the labels added and the relation: after each label it is "holds" again (a curator's 8
        # citizen_of labels were all saved as "does not hold" because it kept the last verdict)
        holds = st.radio("Verdict", ["holds", "does not hold"],
                         key=f"label_holds_{relation}_{st.session_state.get('label_triples_added', 0)}") == "holds"
    with right:
        tail = entity_picker("Tail", "label_tail", avoid=head)
    if st.button("Add triple label", type="primary", key="label_add_triple", disabled=not (head and tail)):
        with guarded("add the label"):
            example_id = add_triple_label(db, actor(), head, relation, tail, holds)
            st.session_state["label_triples_added"] = st.session_state.get("label_triples_added", 0) + 1
            flash(f"Added: {head} —{info.label}→ {tail} ({'holds' if holds else 'does not hold'})"
                  + added_words(example_id))
            st.rerun()

with sentences_tab:
    with st.expander("Type a new sentence"):
        typed = st.text_area("Sentence", key="label_new_sentence", height=80)
        # never disabled: a text area commits what was typed when it loses focus, so a button disabled until
        # then swallowed the first click
        clicked = st.button("Add sentence", key="label_add_sentence")
        if clicked and not typed.strip():
            st.warning("Type the sentence first.")
        elif clicked:
            with guarded("add the sentence"):
                sentence_id = add_sentence(db, actor(), typed)
                st.session_state["label_sentence_pick"] = sentence_id
                flash("Sentence added: pick its mentions below")
                st.rerun()
    search = st.text_input("Find a sentence", key="label_sentence_q", placeholder="words it contains")
    found = find_sentences(db, search, limit=100)
    chosen_id = st.session_state.get("label_sentence_pick")
    ids = [s.id for s in found]
    # a sentence just typed stays picked until another is searched for: a search shows its own matches
    if chosen_id is not None and chosen_id not in ids and not search.strip():
        typed_sentence = get_sentence(db, chosen_id)
        if typed_sentence is not None:
            found, ids = [typed_sentence] + found, [chosen_id] + ids
    if not found:
        st.caption("No sentence matches; upload documents on the Import / Export page or type one above.")
    else:
        texts = {s.id: s for s in found}
        if chosen_id not in ids:
            st.session_state.pop("label_sentence_pick", None)
        sentence_id = st.selectbox("Sentence", ids, format_func=lambda i: texts[i].text[:160],
                                   key="label_sentence_pick")
        tokens = texts[sentence_id].tokens
        mentions = detect_mentions(db, tokens)
        choices = [(m.start, m.end) for m in mentions]
        spans = {(m.start, m.end): f"{m.text}  [tokens {m.start}–{m.end - 1}]" for m in mentions}
        numbered = [f"{i}: {t}" for i, t in enumerate(tokens)]

        def span_picker(label: str, key: str, default: int) -> tuple[int, int]:
            """Keyed by the sentence: a span picked in one sentence never carries over to the next."""
            mode_options = ["detected mention", "tokens"] if choices else ["tokens"]
            mode = st.radio(f"{label} from", mode_options, horizontal=True, key=f"{key}_mode")
            if mode == "detected mention":
                return st.selectbox(label, choices, index=min(default, len(choices) - 1), format_func=spans.get,
                                    key=f"{key}_span_{sentence_id}")
            start = numbered[min(default, len(numbered) - 1)]
            first, last = st.select_slider(f"{label} tokens", numbered, value=(start, start),
                                           key=f"{key}_tokens_{sentence_id}")
            return numbered.index(first), numbered.index(last) + 1

        left, right = st.columns(2)
        with left:
            head_span = span_picker("Head", "label_s_head", 0)
        with right:
            tail_span = span_picker("Tail", "label_s_tail", 1)
        options = [NO_RELATION_CHOICE] + list(by_name)
        # nothing chosen until the curator reads the sentence: starting on the page's relation let one click
        # store a label the sentence does not state (a curator's trial)
        sentence_relation = st.selectbox("Relation stated", options, index=None,
                                         placeholder="read the sentence, then choose what it states",
                                         format_func=lambda n: n if n not in by_name else (
                                             f"{by_name[n].label} ({n})" if by_name[n].label != n else n),
                                         key=f"label_s_relation_{sentence_id}_{head_span}_{tail_span}")
        apart = head_span[1] <= tail_span[0] or tail_span[1] <= head_span[0]  # overlapping marks would garble
        st.markdown(marked_sentence(tokens, head_span, tail_span) if apart else md(" ".join(tokens)))
        if st.button("Add sentence label", type="primary", key="label_add_sentence_example",
                     disabled=sentence_relation is None):
            with guarded("add the label"):
                example_id = add_sentence_label(db, actor(), sentence_id, head_span, tail_span,
                                                None if sentence_relation == NO_RELATION_CHOICE else sentence_relation)
                flash(f"Sentence label added{added_words(example_id)}")
                st.rerun()

with table_tab:
    if not examples:
        st.caption("No examples for this relation yet.")
    else:
        frame = pd.DataFrame([{
            "id": x.id, "kind": x.kind, "head": x.head_mention or x.head, "tail": x.tail_mention or x.tail,
            "sentence": x.sentence or "", "relation": x.relation or NO_RELATION_CHOICE, "holds": x.holds,
            "comment": x.comment, "by": x.created_by, "at": x.created_at, "status": x.status, "delete": False}
            for x in examples]).set_index("id")
        edited = st.data_editor(
            frame, key=f"label_table_{relation}", width="stretch",
            disabled=["kind", "head", "tail", "sentence", "by", "at", "status"] + ([] if is_admin() else ["delete"]),
            column_config={
                "relation": st.column_config.SelectboxColumn(options=[NO_RELATION_CHOICE] + list(by_name),
                                                             required=True),
                "holds": st.column_config.CheckboxColumn(help="for triples: does the triple hold?"),
                "comment": st.column_config.TextColumn(help="why it holds, a doubt, a source: kept with the label"),
                "delete": st.column_config.CheckboxColumn(help="tick, then save, to delete the label"),
                "at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "status": st.column_config.TextColumn(help="settled: trains the model; pending: waits for more "
                                                           "curators' answers; disputed: waits for an admin"),
            },
        )
        changed = edited[(edited != frame).any(axis=1)]
        st.caption(f"{len(changed)} changed rows" if len(changed) else "Edit the relation, 'holds' or the comment, "
                   "or tick 'delete', then save.")
        if st.button("Save changes", key="label_save", disabled=not len(changed), type="primary"):
            edits = []
            for example_id, row in changed.iterrows():
                before = frame.loc[example_id]
                relation_changed = row["relation"] != before["relation"]
                edits.append(ExampleEdit(
                    int(example_id), delete=bool(row["delete"]),
                    holds=bool(row["holds"]) if row["holds"] != before["holds"] else None,
                    relation=row["relation"] if relation_changed and row["relation"] != NO_RELATION_CHOICE else None,
                    no_relation=relation_changed and row["relation"] == NO_RELATION_CHOICE,
                    comment=row["comment"] if row["comment"] != before["comment"] else None))
            with guarded("save the changes"):
                edit_labels(db, actor(), edits)
                flash(f"Saved {len(edits)} change{'s' if len(edits) != 1 else ''}")
                st.rerun()


def _answered(task: LabelTask, answer: str, comment: str) -> None:
    with guarded("record your answer"):
        flash(f"Recorded: {answer_label_task(db, actor(), task.example_id, answer, comment).words()}")
        st.rerun()


for tab in waiting_tab:
    with tab:
        st.caption(f"Labels other curators entered, shown without their answer: give yours. A label trains the "
                   f"model once {needed} answers agree. Showing {len(waiting)} of {waiting_total}."
                   if waiting_total else "Nothing waits for your answer.")
        for task in waiting:
            with st.container(border=True):
                if task.kind == "triple":
                    st.markdown(f"Does **{md(task.head)}** → *{md(task.relation_label or '')}* → **{md(task.tail)}** "
                                "hold?")
                    comment = st.text_input("Comment (optional)", key=f"label_wait_comment_{task.example_id}")
                    yes, no, _ = st.columns([1, 1, 4])
                    if yes.button("Holds", key=f"label_wait_yes_{task.example_id}"):
                        _answered(task, HOLDS, comment)
                    if no.button("Does not hold", key=f"label_wait_no_{task.example_id}"):
                        _answered(task, DOES_NOT_HOLD, comment)
                else:
                    st.markdown(marked_sentence(task.tokens, task.head_span, task.tail_span))
                    st.caption(f"Head: {md(task.head)} · tail: {md(task.tail)}")
                    comment = st.text_input("Comment (optional)", key=f"label_wait_comment_{task.example_id}")
                    pick, save = st.columns([4, 1], vertical_alignment="bottom")
                    choice = pick.selectbox("Relation the sentence states from head to tail",
                                            [NO_RELATION_CHOICE] + list(by_name), index=None,
                                            placeholder="choose", key=f"label_wait_relation_{task.example_id}")
                    if save.button("Record", key=f"label_wait_record_{task.example_id}", disabled=choice is None):
                        _answered(task, choice, comment)
