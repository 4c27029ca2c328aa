"""Train: retrain in a background worker, watch progress and loss live, cancel, compare versions, pick the
active one, refill the suggestion queue."""
from __future__ import annotations

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
    current_job,
    RunMetrics,
    list_runs,
    metrics_of,
    settings,
    start_training,
    verdicts_by_confidence,
)
import knowco.services as services  # services.suggest loads the model code (5 s): only when it is asked for

def reliability_chart(metrics: RunMetrics) -> alt.LayerChart:
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


st.title("Train")
db = database()
defaults = TrainOptions(backbone=settings().model or DEFAULT_BACKBONE)

# Enter in a number box must not start a run with the other boxes half-edited: only the button does
with st.form("train_form", enter_to_submit=False):
    presets = list(dict.fromkeys([defaults.backbone, *PRESETS]))
    backbone = st.selectbox("Backbone", presets, key="train_backbone",
                            help="splade-tiny is small and fast on a CPU; any Hugging Face masked LM name or local "
                                 "path can be given with `python run_app.py --model`.")
    with st.expander("Advanced options"):
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
        held = f.slider("Share of labels held out to measure quality", 0.0, 0.5, defaults.held_out_share, 0.05,
                        key="train_held_out")
        g, h, i = st.columns(3)
        entity_loss = g.toggle("Entity-masking loss", defaults.entity_loss, key="train_entity_loss")
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
        st.progress(min(1.0, job.progress), text=job.message)
        if job.curve:
            curve = pd.DataFrame(job.curve, columns=["step", "loss"]).set_index("step")
            st.line_chart(curve, height=180, x_label="step", y_label="training loss")
        if job.cancel_requested:
            st.caption("Cancelling at the next step…")
        elif st.button("Cancel", key="train_cancel", icon=":material/stop:"):
            with guarded("cancel the job"):
                cancel(db, actor(), job.id)
                st.rerun(scope="fragment")


job_panel()


def opinions_panel(measured) -> None:
    """How the queue's confidence was made: the structural model chosen, the combiner's fit and its spread."""
    combiner, structure = measured.combiner, measured.structure
    if not combiner and not structure:
        return
    opinions = "text and graph opinions" if structure else "the text model's opinions"
    title = "Confidence of suggestions: " + (
        f"{opinions} combined (AUC {combiner['auc']:.2f} on held-out facts)"
        if combiner.get("fitted") else "not calibrated yet (what the evidence is worth on its own)")
    with st.expander(title):
        if structure:
            tried = ", ".join(f"{name} {mrr:.3f}" for name, mrr in structure["mrr"].items())
            size = f" of size {structure['embedding_dim']}" if structure.get("embedding_dim") else ""
            st.markdown(f"**Graph model:** {md(structure['interaction'])}{size}, chosen on held-out facts by mean "
                        f"reciprocal rank ({md(tried)}); {structure['seconds']:.0f} s to train.")
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
    with st.expander(f"Per relation, on {measured.held_out} held-out items"):
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


runs = list_runs(db)
st.subheader("Model versions")
if not runs:
    st.caption("No model trained yet: press Retrain.")
    st.stop()
finished = [r for r in runs if r.status == "succeeded"]
if finished:
    latest = finished[0]
    previous = finished[1] if len(finished) > 1 else None
    st.markdown(f"Latest: **{md(latest.name)}**" + (f", compared with **{md(previous.name)}**" if previous else ""))
    columns = st.columns(4)
    measured, earlier = metrics_of(latest), metrics_of(previous) if previous else None
    for column, (key, label) in zip(columns, [("accuracy", "Held-out accuracy"), ("micro_f1", "Held-out micro-F1")]):
        value = getattr(measured, key)
        before = getattr(earlier, key) if earlier else None
        # no arrow for a change that rounds to nothing ("+0.00" with a green arrow read as better)
        column.metric(label, "—" if value is None else f"{value:.2f}",
                      None if value is None or before is None or round(value - before, 2) == 0
                      else f"{value - before:+.2f}")
    columns[2].metric("Labels", latest.n_examples, None if previous is None else latest.n_examples - previous.n_examples)
    columns[3].metric("Held-out items", measured.held_out,
                      help="labels and accepted facts kept out of this version's training to measure it, with "
                           "the facts' corrupted negatives; the combiner below counts only the held-out facts")
    st.caption({"labels": "Quality is measured on labels held out of that version's training; early stopping "
                          "never sees them.",
                "facts": "No labels held out (none, or too few to spare): quality is measured on accepted facts "
                         "held out of training (and their corrupted negatives), which says how well the model knows the KG, "
                         "not how well it finds what is missing.",
                "labels and facts": "Quality is measured on labels and accepted facts held out of that version's "
                                    "training (with the facts' corrupted negatives); early stopping never sees them.",
                "cross-validation": "Quality is measured by cross-validation: each label was predicted by a model "
                                    "trained without it (one per fold); the version itself learned from every label.",
                "none": "Nothing could be held out to measure this version."}.get(measured.held_out_source, ""))
    if stage_times(measured):
        st.caption(f"Time: {stage_times(measured)}.")
    comparison_panel(latest, measured)
    head_panel(measured)
    if measured.reliability_before and not measured.calibrated():
        st.caption(f"Only {measured.held_out} held-out items: too few to calibrate on (at least "
                   f"{MIN_CALIBRATION_ITEMS}), so the text model's own probabilities are used, and the figures "
                   "above are too noisy to trust.")
    elif measured.reliability_before:
        with st.expander(f"Calibration: expected calibration error {measured.ece_before:.3f} before, "
                         f"{measured.ece_after:.3f} after temperature scaling (T = {measured.temperature:.2f})"):
            st.altair_chart(reliability_chart(measured), width="stretch")
            st.caption("Each point is a confidence bin of the held-out items (size = how many). On the diagonal, "
                       "a confidence of 0.8 is right 80 % of the time. T is fitted on these same held-out items, so the "
                       "'after' curve is optimistic; suggestions' confidences use T.")

    if measured.micro_f1 == 0 and measured.accuracy:
        st.caption("Accuracy counts the held-out items that state no relation too; micro-F1 counts the relations "
                   "only, so 0.00 means the model found none of the held-out items that state one.")
    if not measured.trustworthy() and measured.held_out:
        st.warning(f"Measured on only {measured.held_out} held-out items: one item moves these figures by "
                   f"{100 / measured.held_out:.0f} points, so they are too noisy to trust (label more, at least "
                   f"{MIN_TRUSTED_ITEMS} held out).", icon=":material/warning:")
    per_relation_panel(measured)
    policy_panel(latest)
    opinions_panel(measured)
    verdicts_panel()

def _figure(value, digits: int = 2) -> str:
    """A figure for a table cell: a run that measured nothing shows "—", not "None"."""
    return "—" if value is None else f"{value:.{digits}f}"


table = pd.DataFrame([{
    "version": r.name, "active": r.is_active, "status": r.status, "message": r.message, "backbone": r.backbone,
    "labels": r.n_examples, "accuracy": _figure(metrics_of(r).accuracy), "micro-F1": _figure(metrics_of(r).micro_f1),
    "epochs": f"{r.hyperparameters.get('stage1_epochs', '?')} + {r.hyperparameters.get('stage2_epochs', '?')}",
    "by": r.created_by, "started": r.created_at, "seconds": _figure(metrics_of(r).train_seconds, 0)} for r in runs])
st.dataframe(table, hide_index=True, width="stretch", key="train_versions",
             column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})

left, right = st.columns(2)
with left:
    if finished:
        names = {r.name: r for r in finished}
        active = next((r.name for r in finished if r.is_active), finished[0].name)
        pick = st.selectbox("Active model", list(names), index=list(names).index(active), key="train_active_pick")
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
