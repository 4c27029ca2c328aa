"""Train: retrain in a background worker, watch progress and loss live, cancel, compare versions, pick the
active one, refill the suggestion queue."""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from app.state import actor, database
from app.ui import flash, guarded, md
from knowco.services import (
    DEFAULT_BACKBONE,
    MIN_CALIBRATION_ITEMS,
    MIN_TRUSTED_ITEMS,
    PRESETS,
    TrainOptions,
    activate,
    cancel,
    checked_items,
    current_job,
    job_words,
    last_rerank,
    drop_standing_rule,
    list_relations,
    make_standing_rule,
    found_words,
    RunMetrics,
    list_runs,
    metrics_of,
    quality_words,
    settings,
    standing_rules,
    start_training,
    times_in_ten,
    verdicts_by_confidence,
)
import knowco.services as services  # services.suggest loads the model code (5 s): only when it is asked for

def reliability_chart(metrics: RunMetrics) -> alt.LayerChart:
    """Before and after temperature scaling, for admins: each bin's mean confidence against its share right."""
    rows = [{"when": when, "confidence": confidence, "accuracy": accuracy, "labels": count}
            for when, bins in (("before", metrics.reliability_before), ("after", metrics.reliability_after))
            for _, confidence, accuracy, count in bins]
    frame = pd.DataFrame(rows)
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="x:Q", y="y:Q")
    curves = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("confidence:Q", scale=alt.Scale(domain=[0, 1]), title="confidence"),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="share correct"),
        color=alt.Color("when:N", sort=["before", "after"], title="temperature scaling"),
        size=alt.Size("labels:Q", legend=None), tooltip=["when", "confidence", "accuracy", "labels"])
    return (diagonal + curves).properties(height=300)


def sureness_chart(bins: list) -> alt.LayerChart:
    """For curators: one bar per band of sureness, as high as the share of its items the model got right, with
    a black tick where the bar would reach if the sureness meant what it says, and the count of items on top
    (a few dots and one line segment said nothing to a curator)."""
    frame = pd.DataFrame([{"band": f"{max(0.0, high - 0.1):.1f}–{high:.1f}", "said": said, "right": right,
                           "items": f"{count} item{'s' if count != 1 else ''}"} for high, said, right, count in bins])
    base = alt.Chart(frame).encode(x=alt.X("band:N", title="how sure the model was", sort=None,
                                           axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar(color="#4c78a8").encode(
        y=alt.Y("right:Q", scale=alt.Scale(domain=[0, 1]), title="how often it was right", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("band:N", title="sureness"), alt.Tooltip("right:Q", title="right", format=".0%"),
                 alt.Tooltip("items:N", title="items")])
    said = base.mark_tick(color="black", thickness=3, size=40).encode(y="said:Q")
    counts = base.mark_text(dy=-8).encode(y="right:Q", text="items:N")
    return (bars + said + counts).properties(height=320)


def loss_chart(curve: list) -> alt.Chart:
    """The training loss so far, with its axes' ranges given (the chart computed them from data that was still
    arriving and filled the browser's console with "Infinite extent" warnings while it polled)."""
    frame = pd.DataFrame([(step, loss) for step, loss in curve if math.isfinite(loss)], columns=["step", "loss"])
    steps = [float(frame.step.min()), float(max(frame.step.max(), frame.step.min() + 1))]
    losses = [0.0, float(frame.loss.max()) * 1.05 or 1.0]
    return alt.Chart(frame).mark_line().encode(
        x=alt.X("step:Q", scale=alt.Scale(domain=steps), title="step"),
        # a short title: one longer than the chart is high squeezed the y axis away in the browser
        y=alt.Y("loss:Q", scale=alt.Scale(domain=losses), title="training loss"),
    ).properties(height=180)


st.title("Train")
db = database()
defaults = TrainOptions(backbone=settings().model or DEFAULT_BACKBONE)

# Enter in a number box must not start a run with the other boxes half-edited: only the button does
with st.form("train_form", enter_to_submit=False):
    st.caption("Retrain learns from your labels, your facts and your documents, then refills the review queue. "
               "A new version becomes active only if it is at least as good as the one in use.")
    with st.expander("Advanced options (for admins)"):
        presets = list(dict.fromkeys([defaults.backbone, *PRESETS]))
        backbone = st.selectbox("Language model", presets, key="train_backbone",
                                help="splade-tiny is small and fast on a CPU; any Hugging Face masked LM name or "
                                     "local path can be given with `python run_app.py --model`.")
        a, b, c = st.columns(3)
        stage1 = a.number_input("Stage 1 epochs (prompt only)", 0, 200, defaults.stage1_epochs, key="train_stage1")
        stage2 = b.number_input("Stage 2 epochs (all weights)", 1, 200, defaults.stage2_epochs, key="train_stage2")
        lr = c.number_input("Stage 2 learning rate", 1e-6, 1e-1, defaults.stage2_lr, format="%.5f",
                            key="train_lr")
        d, e, e2, f = st.columns(4)
        seed = d.number_input("Seed", 0, 2**31 - 1, defaults.seed, key="train_seed")
        facts = e.number_input("Items from the KG per epoch (0: labels only)", 0, 100_000,
                               defaults.kg_items_per_epoch, key="train_facts",
                               help="each epoch trains on every label and this many items drawn afresh from the "
                                    "whole KG: accepted facts, their reversals and corrupted negatives")
        stating = e2.number_input("Sentences stating facts per epoch", 0, 100_000,
                                  defaults.corpus_sentences_per_epoch, key="train_fact_sentences",
                                  help="sentences of your documents that mention both entities of an accepted "
                                       "fact, learned from as examples of its relation (and, reversed, of none)")
        held = f.slider("Share of labels kept aside to check quality", 0.0, 0.5, defaults.held_out_share, 0.05,
                        key="train_held_out")
        g, h, i = st.columns(3)
        entity_loss = g.toggle("Entity-masking loss", defaults.entity_loss, key="train_entity_loss",
                               help="also learn to fill in the entities' masked names")
        suggest_after = h.toggle("Suggest when done", defaults.suggest_after, key="train_suggest_after")
        per_relation = i.number_input("Suggestions per relation", 1, 1000, defaults.queue.per_relation,
                                      key="train_per_relation")
    submitted = st.form_submit_button("Retrain", type="primary", icon=":material/play_arrow:")

if submitted:
    with guarded("start training"):
        run = start_training(db, actor(), TrainOptions(
            backbone=backbone, seed=int(seed), stage1_epochs=int(stage1), stage2_epochs=int(stage2),
            stage2_lr=float(lr), kg_items_per_epoch=int(facts), corpus_sentences_per_epoch=int(stating),
            held_out_share=float(held),
            entity_loss=entity_loss, suggest_after=suggest_after).with_queue(per_relation=int(per_relation)))
        flash(f"Training {run.name} started in the background")
        st.rerun()


@st.fragment(run_every=1.0)
def job_panel() -> None:
    """Polled every second: only this part of the page reruns while a job is going."""
    with guarded("show the job's progress"):
        show_job()


def show_job() -> None:
    job = current_job(db)
    if job is None:
        if st.session_state.pop("train_watching", None) is not None:
            st.rerun()
        return
    st.session_state["train_watching"] = job.id
    with st.status(f"{job.name}: {job.status}", expanded=True, state="running"):
        st.progress(min(1.0, job.progress), text=job_words(db, job))
        if len(job.curve) >= 2:
            st.altair_chart(loss_chart(job.curve), width="stretch")
            st.caption("Training loss: how much the model still gets wrong on what it learns from; it should fall.")
        if job.cancel_requested:
            st.caption("Cancelling at the next step…")
        elif st.button("Cancel", key="train_cancel", icon=":material/stop:"):
            with guarded("cancel the job"):
                cancel(db, actor(), job.id)
                st.rerun(scope="fragment")


job_panel()


def confidence_panel(measured, finished_at) -> None:
    """For curators: what the suggestions' confidences rest on, in their words; where curators' verdicts
    recalibrated them since the version, that first (a curator's trial read "not checked against your KG yet"
    after 30 verdicts had re-ranked the queue three times)."""
    combiner = measured.combiner
    if not combiner and not measured.structure:
        return
    reranked = last_rerank(db, since=finished_at)
    if reranked is not None:
        with st.expander(f"How sure the suggestions are: recalibrated on {reranked['verdicts']} of your verdicts "
                         f"({reranked['accepted']} accepted)"):
            st.caption("The suggestions still waiting were re-scored from what you and your team made of the "
                       "judged ones at the latest re-rank (every few verdicts, and on Suggest now); the table of "
                       "past suggestions below shows how often each confidence held.")
        return
    if combiner.get("fitted"):
        title = (f"How sure the suggestions are: checked against {combiner['facts']} of your facts kept aside from "
                 "training")
        words = ("A confidence of 0.8 means that about 8 in 10 suggestions like this one hold, judged by how the "
                 "facts kept aside scored among the candidates around them.")
    else:
        title = "How sure the suggestions are: not checked against your KG yet, so the figures are cautious"
        words = ("Too few of your facts could be kept aside to check the confidences on, so each is a cautious "
                 "estimate: a suggestion read in a sentence of your documents, or backed by the graph's own "
                 "paths, comes first; one guessed from the names alone stays low. The judged suggestions recalibrate "
                 "it as you go.")
    with st.expander(title):
        st.caption(words)


def graph_model_words(structure: dict) -> str:
    """The structural model chosen, and each try's held-out MRR (and the epoch it stopped at, where it did)."""
    stopped = structure.get("stopped") or {}
    tried = ", ".join(f"{name} {mrr:.3f}" + (f" at epoch {stopped[name]['best_epoch']}" if name in stopped else "")
                      for name, mrr in structure["mrr"].items())
    size = f" of size {structure['embedding_dim']}" if structure.get("embedding_dim") else ""
    why = structure.get("narrowed", "")
    narrowed = f" {md(why[:1].upper() + why[1:])}." if why else ""
    return (f"**Graph model:** {md(structure['interaction'])}{size}, chosen on held-out facts by mean reciprocal "
            f"rank ({md(tried)}); {structure['seconds']:.0f} s to train.{narrowed}")


def opinions_details(measured) -> None:
    """For admins: the structural model chosen, the combiner's fit and its spread."""
    combiner, structure = measured.combiner, measured.structure
    if not combiner and not structure:
        return
    opinions = "text and graph opinions" if structure else "the text model's opinions"
    title = "Confidence of suggestions: " + (
        f"{opinions} combined (AUC {combiner['auc']:.2f} on held-out facts)"
        if combiner.get("fitted") else "not calibrated yet (what the evidence is worth on its own)")
    with st.expander(title):
        if structure:
            st.markdown(graph_model_words(structure))
        if combiner.get("fitted"):
            reverses = combiner.get("missing_reverses", 0)
            counted = (f" and {reverses} missing reverses of facts, each counted as a fact by the share of its "
                       "relation's missing reverses expected to hold" if reverses else "")
            proposed = (" (those the candidate search would have proposed)"
                        if combiner.get("facts_in_pool") == combiner["facts"] else "")
            st.markdown(f"**Combiner:** fitted on {combiner['facts']} held-out facts{proposed} against "
                        f"{combiner['negatives']} candidates{counted}; calibrated on out-of-fold scores.")
            if not combiner.get("reads_text", True):
                needed = combiner.get("min_facts_in_text")
                st.caption(f"Only {combiner.get('facts_in_text', 0)} held-out facts are mentioned in your documents"
                           + (f" (at least {needed} are needed)" if needed else "")
                           + ": too few to learn how far a sentence can be trusted, so a suggestion read from "
                           "text is as sure as its sentence says it (the text model's probability, shared with "
                           "whatever else the sentence could say, and how clearly it reads the way round).")
            a, b, c = st.columns(3)
            a.metric("Calibration error (ECE)", f"{combiner['ece']:.3f}")
            b.metric("Share above 0.8", f"{combiner['above_08']:.0%}")
            c.metric("Share below 0.2", f"{combiner['below_02']:.0%}")
            weights = pd.DataFrame([{"opinion": k, "weight": v} for k, v in combiner["weights"].items()])
            st.dataframe(weights, hide_index=True, key="train_combiner_weights")
            ratio = combiner["negatives"] / max(1, combiner["facts"])
            st.caption(f"A confidence of 0.8 means: of candidates like this one, 80 % are facts like the held-out "
                       f"ones, with facts and candidates weighed one to {ratio:.1f}. A calibration that separates "
                       "has shares both above 0.8 and below 0.2.")
        elif combiner:
            st.caption(md(combiner.get("reason", "")))


def rule_words(pattern: dict, labels: dict[str, str]) -> str:
    """A pattern in the relations' labels: "born in, then located in ⇒ citizen of"."""
    steps = [labels.get(r, r) + ("" if forwards else " (the other way)") for r, forwards in pattern["body"]]
    return f"{', then '.join(steps)} ⇒ {labels.get(pattern['relation'], pattern['relation'])}"


def patterns_panel(latest, measured) -> None:
    """The KG's strongest patterns, each of which a curator can make a standing rule, and the standing rules;
    mined again from the facts of the moment where curators' verdicts re-ranked the queue since the version."""
    patterns = (measured.suggestions or {}).get("patterns") or []
    now = services.patterns_now(db, since=latest.finished_at)
    mined_again = now is not None
    if mined_again:
        patterns = now["patterns"]
    rules = standing_rules(db)
    if not patterns and not rules:
        return
    labels = {r.name: r.label for r in list_relations(db)}
    with st.expander(f"Patterns in your KG ({len(patterns)}) and standing rules ({len(rules)})"):
        st.caption("A pattern is a path in your graph that comes with a relation: \"12 of 13\" means 12 of the 13 pairs "
                   "the path links also hold the relation. Make one a standing rule and every suggest pass puts "
                   "the pairs it links in the queue, with the pattern as their reason.")
        if mined_again:
            st.caption(f"Counted on the {now['facts']} facts your KG holds now (verdicts since {md(latest.name)} "
                       "included).")
        standing = {r.words for r in rules}
        for i, pattern in enumerate(patterns):
            a, b = st.columns([5, 2])
            a.markdown(f"{md(rule_words(pattern, labels))}: **{pattern['support']} of {pattern['linked']}**")
            if pattern["rule"] not in standing and b.button("Make it a standing rule", key=f"train_make_rule_{i}"):
                with guarded("make the standing rule"):
                    flash(make_standing_rule(db, actor(), pattern))
                    st.rerun()
        for i, rule in enumerate(rules):
            a, b = st.columns([5, 2])
            a.markdown(f"Standing rule: {md(rule_words(rule.as_dict(), labels))} (made by {md(rule.made_by)})")
            if b.button("Drop it", key=f"train_drop_rule_{i}"):
                with guarded("drop the standing rule"):
                    flash(drop_standing_rule(db, actor(), rule.words))
                    st.rerun()


def policy_panel(run) -> None:
    """The queue policy the version recorded: every setting that decided what the queue holds, so a curator (or
    whoever compares two versions) sees what a change of settings changed."""
    policy = services.recorded_policy(run.hyperparameters)
    with st.expander(f"Queue settings of {run.name}"):
        st.dataframe(pd.DataFrame([{"setting": k, "value": str(v)} for k, v in policy.as_dict().items()]),
                     hide_index=True, width="stretch", key="train_queue_policy")
        st.caption("Recorded with the version; Suggest now reuses them.")


HEAD_NAMES = {"prompt": "the prompt (label words at [MASK])", "classifier": "the [CLS] classifier",
              "average": "the average of the prompt and the [CLS] classifier"}


def stage_times(measured) -> str:
    """How long each stage of the retrain took, e.g. 'graph model 2 s · text model 21 s · suggestions 3 s'."""
    stages = [("graph model", (measured.structure or {}).get("seconds")), ("text model", measured.train_seconds),
              ("suggestions", (measured.suggestions or {}).get("seconds"))]
    return " · ".join(f"{name} {seconds:.0f} s" for name, seconds in stages if seconds is not None)


def comparison_panel(latest, measured) -> None:
    """The newest version against the one that was active when it finished, on the same items, in plain words;
    a worse one was kept inactive and can still be made active here."""
    compared = measured.compared
    if not compared:
        return
    other = compared["version"]
    words = (f"On the {compared['items']} held-out items neither version trained on, {md(latest.name)} was right "
             f"{compared['new_right']} times and {md(other)} {compared['old_right']} times.")
    if not (compared.get("worse") and not latest.is_active):
        st.caption(words)
        return
    st.warning(f"{words} So {md(latest.name)} was not made active: {md(other)} still answers, and the review queue "
               f"still holds its suggestions.", icon=":material/trending_down:")
    if st.button(f"Make {latest.name} active anyway", key="train_activate_anyway",
                 help="then press Suggest now for its suggestions"):
        with guarded("change the active model"):
            activate(db, actor(), latest.id)
            flash(f"{latest.name} is now the active model; press Suggest now for its suggestions")
            st.rerun()


def head_panel(measured) -> None:
    """Which head predicts, and by how much it was ahead where it was chosen."""
    head = measured.head
    if not head:
        return
    scores = head.get("scores") or {}
    text = f"**Predicts with** {HEAD_NAMES.get(head['chosen'], head['chosen'])}: "
    if head.get("by_data", True) and len(scores) > 1:
        runner_up = max(s["micro_f1"] for name, s in scores.items() if name != head["chosen"])
        ahead = scores[head["chosen"]]["micro_f1"] - runner_up
        text += f"chosen by {md(head['basis'])}, " + (f"ahead by {ahead:.2f} in micro-F1" if ahead else "a tie")
    else:
        text += md(head["basis"])
    st.markdown(text + ".")
    if len(scores) > 1:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1]["micro_f1"])
        st.caption("Micro-F1 there: " + ", ".join(f"{name} {s['micro_f1']:.2f}" for name, s in ranked) + ". The "
                   "quality figures above are the chosen head's on the same items, so a little optimistic: the best "
                   "of three was kept.")
    if head.get("no_relation_shift"):
        before, after = head["shift_scores"]["without"], head["shift_scores"]["with"]
        st.caption(f"The model says “no relation” less readily: that answer's score is lowered by "
                   f"{-head['no_relation_shift']:.1f}, chosen on the same items (micro-F1 {before:.2f} → {after:.2f}).")


def per_relation_panel(measured) -> None:
    """Which relations the model gets and which it misses, where one micro-F1 hides it."""
    if not measured.per_relation:
        return
    with st.expander(f"Per relation, on {checked_items(measured.held_out, measured.held_out_source)}"):
        st.dataframe(pd.DataFrame(measured.per_relation), hide_index=True, width="stretch",
                     key="train_per_relation",
                     column_config={k: st.column_config.NumberColumn(format="%.2f")
                                    for k in ("precision", "recall", "f1")})
        st.caption("support: held-out items of the relation. A relation with a support of 1 or 2 says little.")


def verdicts_panel() -> None:
    """Whether the confidences shown have meant what they say on this KG: past verdicts by confidence band."""
    bins = [b for b in verdicts_by_confidence(db) if b.judged]
    judged = sum(b.judged for b in bins)
    if not judged:
        return
    were = "s were" if judged != 1 else " was"
    with st.expander(f"How {judged} past suggestion{were} judged, by their confidence"):
        st.dataframe(pd.DataFrame([{"confidence": f"{b.low:.1f}–{b.high:.1f}", "judged": b.judged,
                                    "accepted": b.accepted, "share accepted": b.acceptance} for b in bins]),
                     hide_index=True, width="stretch", key="train_verdicts",
                     column_config={"share accepted": st.column_config.ProgressColumn(min_value=0.0,
                                                                                      max_value=1.0)})
        if judged < MIN_TRUSTED_ITEMS:
            st.caption(f"Only {judged} verdict{'s' if judged != 1 else ''} so far: too few to say whether the "
                       "confidences hold.")
        else:
            st.caption("Where the confidence means what it says, the share accepted rises with it (about 0.9 "
                       "in the 0.8–1.0 band).")


def _figure(value, digits: int = 2) -> str:
    """A figure for a table cell: a run that measured nothing shows "—", not "None"."""
    return "—" if value is None else f"{value:.{digits}f}"


HELD_OUT_WORDS = {
    "labels": "The items kept aside are labels that version never trained on.",
    "facts": "Every label went into training (under 100 labels, each one counts too much to spare), so it was "
             "checked on some of your facts it never trained on: that says how well it knows your KG, not how well "
             "it finds what is missing.",
    "labels and facts": "The items kept aside are labels and facts that version never trained on.",
    "cross-validation": "Each label was checked by a model trained without it; the version itself learned from "
                        "every label.",
    "none": "Nothing could be kept aside to check this version on."}


def quality_panel(latest, previous) -> RunMetrics:
    """The latest version in the curator's words: how often it was right where it could be checked, against the
    version before it."""
    measured, earlier = metrics_of(latest), metrics_of(previous) if previous else None
    said = (f"**{md(latest.name)}** is "
            f"{md(quality_words(measured.accuracy, measured.held_out, measured.held_out_source))}")
    if earlier is not None and earlier.accuracy is not None and measured.accuracy is not None:
        said += f" ({md(previous.name)}: {md(times_in_ten(earlier.accuracy))})"
    st.markdown(said + ".")
    a, b = st.columns(2)
    a.metric("Right on items it did not learn from", "—" if measured.accuracy is None else f"{measured.accuracy:.0%}",
             None if measured.accuracy is None or earlier is None or earlier.accuracy is None
             or round(100 * (measured.accuracy - earlier.accuracy)) == 0  # "+0 %" with a green arrow read as better
             else f"{100 * (measured.accuracy - earlier.accuracy):+.0f} points")
    b.metric("Labels", latest.n_examples, None if previous is None else latest.n_examples - previous.n_examples)
    st.caption(HELD_OUT_WORDS.get(measured.held_out_source, ""))
    if stage_times(measured):
        st.caption(f"Time: {stage_times(measured)}.")
    if not measured.trustworthy() and measured.held_out:
        st.warning(f"Checked on only {measured.held_out} items: one item more or less right moves the figure by "
                   f"{100 / measured.held_out:.0f} points, so it is a rough guide (label more to check on at least "
                   f"{MIN_TRUSTED_ITEMS}).", icon=":material/warning:")
    return measured


def sureness_panel(measured) -> None:
    """Whether the model's sureness meant what it says on the items kept aside, as a chart a curator reads."""
    if not measured.reliability_before:
        return
    if not measured.calibrated():
        st.caption(f"Only {checked_items(measured.held_out, measured.held_out_source)}: too few to check how sure "
                   "the model should be "
                   f"(at least {MIN_CALIBRATION_ITEMS}), so what it reads in your documents is shown with cautious "
                   "confidences.")
        return
    with st.expander("How sure the model was, and how often it was right"):
        st.altair_chart(sureness_chart(measured.reliability_after), width="stretch")
        st.caption(f"Each bar is a band of sureness on the {checked_items(measured.held_out, measured.held_out_source)}"
                   "; it reaches the black tick where the "
                   "model was right as often as it was sure.")


def details_panel(latest, measured) -> None:
    """The technical figures, for admins."""
    a, b = st.columns(2)
    crossed = measured.held_out_source == "cross-validation"
    a.metric("Micro-F1 in cross-validation" if crossed else "Held-out micro-F1", _figure(measured.micro_f1),
             help="relations only, 'no relation' excluded: " + found_words(measured.micro_f1))
    if crossed:
        b.metric("Cross-validation checks", measured.held_out,
                 help="each label, its reverse and made-up wrong triples, checked by a model trained without that "
                      "label; the version itself learned from every label")
    else:
        b.metric("Held-out items", measured.held_out,
                 help="labels and accepted facts kept out of this version's training to measure it, with the facts' "
                      "corrupted negatives; the combiner below counts only the held-out facts")
    head_panel(measured)
    if measured.micro_f1 == 0 and measured.accuracy:
        st.caption("Accuracy counts the held-out items that state no relation too; micro-F1 counts the relations "
                   "only, so 0.00 means the model found none of the held-out items that state one.")
    if measured.reliability_before and measured.calibrated():
        with st.expander(f"Calibration: expected calibration error {measured.ece_before:.3f} before, "
                         f"{measured.ece_after:.3f} after temperature scaling (T = {measured.temperature:.2f})"):
            st.altair_chart(reliability_chart(measured), width="stretch")
            st.caption("Each point is a confidence bin of the held-out items (size = how many). On the diagonal, "
                       "a confidence of 0.8 is right 80 % of the time. T is fitted on these same held-out items, so "
                       "the 'after' curve is optimistic; suggestions' confidences use T.")
    per_relation_panel(measured)
    policy_panel(latest)
    opinions_details(measured)


runs = list_runs(db)
st.subheader("Model versions")
if not runs:
    st.caption("No model trained yet: press Retrain.")
    st.stop()
finished = [r for r in runs if r.status == "succeeded"]
if finished:
    latest = finished[0]
    previous = finished[1] if len(finished) > 1 else None
    measured = quality_panel(latest, previous)
    comparison_panel(latest, measured)
    sureness_panel(measured)
    confidence_panel(measured, latest.finished_at)
    patterns_panel(latest, measured)
    verdicts_panel()
    if st.toggle("Details for admins", key="train_details", persist_state="session",
                 help="how the version was measured and chosen, in the engine's own terms"):
        details_panel(latest, measured)

def version_row(run, details: bool) -> dict:
    """One version in the table; a run under way says where its live progress is (its stored message lags the
    progress line above, which is read every second)."""
    measured = metrics_of(run)
    row = {"version": run.name, "active": run.is_active, "status": run.status,
           "what happened": "under way: see its progress above" if run.status in ("queued", "running")
           else run.message,
           "right on items it did not learn from": "—" if measured.accuracy is None else f"{measured.accuracy:.0%}",
           "labels": run.n_examples, "by": run.created_by, "started": run.created_at,
           "seconds": _figure(measured.train_seconds, 0)}
    if details:
        row.update({"language model": run.backbone, "micro-F1": _figure(measured.micro_f1),
                    "epochs": f"{run.hyperparameters.get('stage1_epochs', '?')} + "
                              f"{run.hyperparameters.get('stage2_epochs', '?')}"})
    return row


table = pd.DataFrame([version_row(r, bool(st.session_state.get("train_details"))) for r in runs])
st.dataframe(table, hide_index=True, width="stretch", key="train_versions",
             column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})

left, right = st.columns(2)
with left:
    if finished:
        names = {r.name: r for r in finished}
        active = next((r.name for r in finished if r.is_active), finished[0].name)
        # keyed by the active version: when a retrain makes another one active, the box shows it (it kept the old)
        pick = st.selectbox("Active model", list(names), index=list(names).index(active),
                            key=f"train_active_pick_{active}")
        if st.button("Make active", key="train_activate", disabled=names[pick].is_active):
            with guarded("change the active model"):
                activate(db, actor(), names[pick].id)
                flash(f"{pick} is now the active model")
                st.rerun()
with right:
    st.write("")
    if st.button("Suggest missing triples now", key="train_suggest", icon=":material/auto_awesome:",
                 disabled=not finished or current_job(db) is not None):
        with guarded("suggest"):
            bar = st.progress(0.0, text="scoring candidate pairs")
            report = services.suggest(db, actor(),
                                      progress=lambda done, total: bar.progress(done / max(1, total),
                                                                                text=f"scored {done} of {total} pairs"))
            flash(report.summary())
            st.rerun()
