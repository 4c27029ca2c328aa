"""The Review page's spot check: freeze the slice its filters show, judge a random sample of it, read what the
sample says of the rest, and accept the rest on that statement (one undo takes it back)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import actor, database
from app.ui import act, md
from knowco.services import (SPOT_CHECK_SAMPLE, SpotCheckView, accept, accept_rest, open_spot_checks, reject,
                             set_wanted_width, start_spot_check, wanted_width)


def _judge_row(check: SpotCheckView, item) -> None:
    a, b, c = st.columns([6, 1, 1])
    a.markdown(f"{md(item.words)} · confidence {item.confidence:.2f}")
    if b.button("Holds", key=f"review_spot_accept_{check.id}_{item.triple_id}", icon=":material/check:",
                width="stretch"):
        act("accept", lambda: "Holds, accepted: " + accept(database(), actor(), item.triple_id))
    if c.button("No", key=f"review_spot_reject_{check.id}_{item.triple_id}", icon=":material/close:",
                width="stretch", help="it does not hold"):
        act("reject", lambda: "Does not hold, rejected: " + reject(database(), actor(), item.triple_id, "false"))


def check_panel(check: SpotCheckView, width: float) -> None:
    st.markdown(f"**Spot check {check.id}** of {check.size} suggestions ({md(check.slice_words)}), started by "
                f"{md(check.created_by)}")
    judged = check.judged
    st.progress(judged / max(1, len(check.sample)), text=f"{judged} of the {len(check.sample)} sampled judged")
    words = check.words()
    st.markdown(md(words[:1].upper() + words[1:]) + ".")
    if check.narrow_enough(width):
        st.caption(f"The interval is {check.estimate.width:.0%} wide, no wider than the {width:.0%} your team asks "
                   "for: you may stop judging here.")
    elif check.estimate.precision is not None:
        st.warning(f"The interval is {check.estimate.width:.0%} wide, wider than the {width:.0%} your team asks for: "
                   "judge more of the sample (or a larger one) before you sign off.", icon=":material/warning:")
    waiting = [item for item in check.sample if item.status == "suggested"]
    for item in waiting[:10]:
        _judge_row(check, item)
    if len(waiting) > 10:
        st.caption(f"… and {len(waiting) - 10} more of the sample after these.")
    done = [item for item in check.sample if item.status != "suggested"]
    if done:
        st.dataframe(pd.DataFrame([{"suggestion": i.words, "band": i.band, "verdict": i.status} for i in done]),
                     hide_index=True, width="stretch", key=f"review_spot_done_{check.id}")
    st.caption("The slice was frozen when the check started: re-ranking from verdicts since may move these "
               "suggestions' confidences, never which suggestions the check covers.")
    e = check.estimate
    ready = e.precision is not None and e.rest > 0 and e.held > 0
    sure = st.checkbox(f"I sign off on this statement for the {e.rest} left", key=f"review_spot_sure_{check.id}_{e.rest}",
                       disabled=not ready)
    if st.button(f"Accept the rest ({e.rest})", key=f"review_spot_accept_rest_{check.id}", type="primary",
                 disabled=not (ready and sure), help="the history and the exports record the statement with every "
                                                     "suggestion it accepts; one undo takes all of them back"):
        act("accept the rest", lambda: "Accepted the rest: " + accept_rest(database(), actor(), check.id))


def spot_check_section(filters: dict, total: int) -> None:
    """Start a spot check of what the filters show, or carry on with the open ones."""
    checks = open_spot_checks(database())
    with st.expander("Accept many at once: check a random sample first" + (f" ({len(checks)} open)" if checks
                                                                             else ""), expanded=bool(checks)):
        width = wanted_width(database())
        for check in checks:
            with st.container(border=True):
                check_panel(check, width)
        a, b, c = st.columns([1, 1, 2])
        size = a.number_input("Sample size", 1, 500, SPOT_CHECK_SAMPLE, key="review_spot_size")
        points = b.number_input("Stop at an interval this wide (points)", 1, 100, round(width * 100),
                                key="review_spot_width", help="the team's setting: once the 95 % interval is no "
                                "wider, the page says you may stop judging")
        if points != round(width * 100):
            act("set the interval width", lambda: set_wanted_width(database(), actor(), points / 100))
        c.caption("The sample is drawn at random from each confidence band in proportion; what it holds says how "
                  "much of the rest holds, with a 95 % interval.")
        if st.button(f"Start a spot check of the {total:,} suggestions these filters show",
                     key="review_spot_start", disabled=total == 0):
            act("start a spot check", lambda: _started(start_spot_check(database(), actor(), **filters,
                                                                         sample_size=int(size))))


def _started(check: SpotCheckView) -> str:
    if check.joined:
        return (f"{check.created_by} has a spot check of this slice open (spot check {check.id}): you joined it, "
                "so you judge one sample together")
    return f"Spot check {check.id} started: judge its sample"
