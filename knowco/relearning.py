"""Learning from verdicts without a retrain: every `QueuePolicy.rerank_every` verdicts (and on *Suggest now*)
the pending queue is re-ranked from the opinions stored with each suggestion and what curators made of the
judged ones (`engine.queue.verdict_model`), in one transaction that touches only suggestions still pending, so a
curator judging meanwhile loses nothing. The Review page says that the order changed, and why.

The graph's patterns are mined again from the facts of the moment at each re-rank (about a second on UMLS), so a
pending suggestion's "12 of 13" counts the facts accepted since its suggest pass: the card, the exports and
the re-rank's own fit read the refreshed pattern, and the Train page lists the strongest ones now. Likewise a
suggestion that became a second value since its suggest pass (its first value accepted meanwhile) says so and
is worth what the relation's cardinality leaves of one.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Optional

from engine.queue.cardinality import Cardinalities, with_second_chance
from engine.queue.patterns import SHOWN, Patterns
from engine.queue.policy import QueuePolicy
from engine.queue.verdict_model import Row, rerank
from storage import verdict_rows
from storage.database import Database
from storage.runs import active_run
from storage.models import utcnow

from knowco.errors import report_internal
from knowco.options import recorded_policy
from knowco.settings import settings


def _policy(session) -> QueuePolicy:
    run = active_run(session)
    return recorded_policy(run.hyperparameters if run else None)


def _prior(confidence: float, opinions: dict) -> float:
    """The model's own confidence, before any re-rank changed the stored one."""
    return float(opinions.get("model", confidence))


def _fresh_patterns(facts: list, names: dict[int, tuple[str, str, str]], pending: list, policy: QueuePolicy
                    ) -> tuple[dict[int, Optional[dict]], list[dict]]:
    """The pending suggestions whose best pattern changed with the facts (id → the pattern now, or None), and
    the strongest patterns now."""
    mined = Patterns(facts, policy)
    ids = [i for i, *_ in pending if i in names]
    stored = {i: opinions.get("pattern") for i, _, _, opinions in pending}
    now = {i: rule.as_dict() if rule is not None else None for i, rule in zip(ids, mined.best([names[i] for i in ids]))}
    return {i: p for i, p in now.items() if p != stored.get(i)}, [r.as_dict() for r in mined.strongest(SHOWN)]


def rerank_queue(database: Database, user: str, *, force: bool = False) -> Optional[str]:
    """Re-rank the pending queue from the verdicts where `rerank_every` new ones came in since the last time (or
    whenever `force`); returns the summary the Review page shows, or None where nothing was re-ranked. It reads,
    fits outside any write, then writes in one short transaction that changes only suggestions still pending
    at the confidence they were read with, and nothing where another re-rank wrote meanwhile (a literature trial
    showed two banners 2 s apart, "from 10 verdicts" and "from 11 verdicts": the 11th verdict's re-rank had read
    the record before the 10th's was written)."""
    with database.sessions() as session:
        policy = _policy(session)
        last = verdict_rows.last_rerank(session) or {}
        judged = _judged_if_due(session, policy, last, force)
        if judged is None:
            return None
        pending = verdict_rows.pending_rows(session)
        facts = list(dict.fromkeys(verdict_rows.fact_triples(session) + verdict_rows.holding_labels(session)))
        names = verdict_rows.pending_names(session)
    pending = _refresh_opinions(database, facts, names, pending, policy)
    rows = [Row(relation, _prior(confidence, opinions), opinions) for relation, confidence, opinions, _ in judged]
    waiting = [Row(relation, _prior(confidence, opinions), opinions) for _, relation, confidence, opinions in pending]
    result = rerank(rows, [ok for *_, ok in judged], waiting, policy)
    if result is None:
        return None
    before = {i: confidence for i, _, confidence, _ in pending}
    new = {i: p for (i, *_), p in zip(pending, result.confidence)}
    summary = result.summary(*_moves(before, new))
    with database.transaction() as session:
        if not force and (verdict_rows.last_rerank(session) or {}) != last:
            return None  # another re-rank wrote while this one fitted: one banner per `rerank_every` verdicts
        verdict_rows.keep_model_confidence(session, {i: row.prior for (i, *_), row in zip(pending, waiting)})
        verdict_rows.set_confidences(session, new, read=before)
        verdict_rows.record_rerank(session, user, {"verdicts": result.verdicts, "accepted": result.accepted,
                                                   "method": result.method, "summary": summary,
                                                   "at": utcnow().isoformat(timespec="seconds")})
    return summary


def _judged_if_due(session, policy: QueuePolicy, last: dict, force: bool) -> Optional[list]:
    """The judged rows where `rerank_every` verdicts came in since the `last` re-rank (or `force`), else None.
    It counts before it reads a row: nine verdicts in ten re-rank nothing, and a verdict in the app waited 86 ms
    for the 3,600 pending rows it then dropped (the API's load-test KG)."""
    since = int(last.get("verdicts", 0))
    if not force and verdict_rows.judged_at_most(session) - since < policy.rerank_every:
        return None
    judged = verdict_rows.judged_rows(session)
    return judged if force or len(judged) - since >= policy.rerank_every else None


def _moves(before: dict[int, float], after: dict[int, float]) -> tuple[int, int, float]:
    """How many confidences fell and rose by more than 0.01, and the largest change."""
    changes = [p - before[i] for i, p in after.items()]
    return (sum(1 for c in changes if c < -0.01), sum(1 for c in changes if c > 0.01),
            max((abs(c) for c in changes), default=0.0))


def _refresh_opinions(database: Database, facts: list, names: dict[int, tuple[str, str, str]], pending: list,
                      policy: QueuePolicy) -> list:
    """Store what the facts of the moment say of each pending suggestion (its best pattern, whether it is a
    second value now), and return the pending rows with it."""
    patterns, strongest = _fresh_patterns(facts, names, pending, policy)
    with database.sessions() as session:
        marks = verdict_rows.one_valued_marks(session)
    seconds = _fresh_second_values(facts, names, pending, policy, marks)
    changes = {i: {"pattern": pattern} for i, pattern in patterns.items()}
    for i, values in seconds.items():
        changes.setdefault(i, {}).update(values)
    sinking = {i: values["model"] for i, values in seconds.items() if "model" in values}
    read = {i: c for i, _, c, _ in pending if i in sinking}
    demoted = {i: min(read[i], model) for i, model in sinking.items()}
    with database.transaction() as session:
        verdict_rows.update_opinions(session, changes)
        verdict_rows.set_confidences(session, demoted, read=read)  # shown so even where no re-rank follows
        verdict_rows.record_patterns(session, {"facts": len(facts), "patterns": strongest,
                                               "at": utcnow().isoformat()})
    return [(i, r, demoted.get(i, c), _with(o, changes[i]) if i in changes else o) for i, r, c, o in pending]


def _fresh_second_values(facts: list, names: dict[int, tuple[str, str, str]], pending: list, policy: QueuePolicy,
                         marks: dict[str, set[str]]) -> dict[int, dict]:
    """The pending suggestions that became a second value since they were scored (the first value was accepted
    meanwhile: "Cupertino located_in Netherlands" kept 0.11 and no note after "Cupertino located_in United
    States" was accepted, in a curator's trial): the reason, and the model's confidence combined with what the
    relation's cardinality leaves of a second value, as the suggest pass would have scored it. One that already
    was a second value gets the counts of the moment on its card, its confidence unchanged (a literature trial's
    cards kept "14 of the 14 entities" after a 15th was accepted). A confidence a fitted combiner calibrated
    (marked "calibrated") is lowered for a second value of a side only, never for a pair's second link: the
    combiner was fitted without that rule."""
    cardinalities = Cardinalities(facts, policy, marks)
    out = {}
    for i, _, confidence, opinions in pending:
        # as in the suggest pass, a pair's second link is a prior before calibration only
        why = cardinalities.side_second_value if opinions.get("calibrated") else cardinalities.second_value
        reason = why(names[i]) if i in names else None
        if reason is None:
            continue
        if opinions.get("second_value") is None:
            out[i] = {"second_value": reason.as_dict(),
                      "model": with_second_chance(_prior(confidence, opinions), reason.chance())}
        elif opinions["second_value"] != reason.as_dict():
            out[i] = {"second_value": reason.as_dict()}
    return out


def _with(opinions: dict, values: dict) -> dict:
    kept = {k: v for k, v in opinions.items() if k not in values}
    return {**kept, **{k: v for k, v in values.items() if v is not None}}


#: one background re-rank at a time per process: a verdict arriving meanwhile leaves it to the next one
_BACKGROUND = threading.Lock()
#: behind the API a re-rank starts at most this long after the previous one ended: under many clients the
#: verdicts of those seconds are learnt together, and back-to-back re-ranks no longer hold the interpreter the
#: requests need (8 clients: p95 per verdict 236-288 ms with them, `bench.api_load`)
BACKGROUND_GAP_S = 5.0
#: and the gap is at least the latest one's length over this share, so re-ranks take at most this share of a
#: server process's time: a 4,000-suggestion queue re-ranks in 1-2 s, and every 5 s that took 8 clients' p95
#: per verdict from 253-262 ms (no re-rank) to 363-394 ms (`bench.api_load`, 25 s phases)
BACKGROUND_SHARE = 0.05
_ended = [float("-inf")]  # when the latest background re-rank ended (time.monotonic)
_took = [0.0]  # how long it took (seconds)


def _gap() -> float:
    return max(BACKGROUND_GAP_S, _took[0] / BACKGROUND_SHARE)


def after_verdict(database: Database, user: str, *, force: bool = False) -> Optional[str]:
    """The re-rank a verdict (or a new queue, `force`) may trigger, after its own transaction: a failure here is
    logged with its id and never undoes or hides what was stored. Where the settings say so (the API), a
    verdict's re-rank runs in a background thread and this returns None at once."""
    if settings().rerank_in_background and not force:
        if (time.monotonic() - _ended[0] >= _gap() and not _recorded_within_gap(database)
                and _BACKGROUND.acquire(blocking=False)):
            threading.Thread(target=_in_background, args=(database, user), name="rerank", daemon=True).start()
        return None
    return _rerank_logged(database, user, force)


def _recorded_within_gap(database: Database) -> bool:
    """Whether any process recorded a re-rank less than the gap ago: `serve-api` runs one server process per
    CPU, and each keeps its own gap; this one is theirs together."""
    with database.sessions() as session:
        at = (verdict_rows.last_rerank(session) or {}).get("at")
    return at is not None and (utcnow() - datetime.fromisoformat(at)).total_seconds() < _gap()


def _rerank_logged(database: Database, user: str, force: bool) -> Optional[str]:
    try:
        return rerank_queue(database, user, force=force)
    except Exception as error:  # noqa: BLE001 - the verdict or queue stands; the error is logged under its id
        report_internal(error, "re-rank the queue from the verdicts")
        return None


def _in_background(database: Database, user: str) -> None:
    started = time.monotonic()
    try:
        _rerank_logged(database, user, False)
    finally:
        _ended[0] = time.monotonic()
        _took[0] = _ended[0] - started
        _BACKGROUND.release()


def last_rerank(database: Database, since: Optional[datetime] = None) -> Optional[dict]:
    """What the latest re-rank said (verdicts, accepted, method, summary, when), where there was one (after
    `since`, a version's end, where given)."""
    with database.sessions() as session:
        return _since(verdict_rows.last_rerank(session), since)


def patterns_now(database: Database, since: Optional[datetime] = None) -> Optional[dict]:
    """The strongest patterns as the latest re-rank mined them from the facts of the moment ({"facts", "patterns",
    "at"}), where one did (after `since`, a version's end, where given)."""
    with database.sessions() as session:
        return _since(verdict_rows.patterns_now(session), since)


def _since(state: Optional[dict], since: Optional[datetime]) -> Optional[dict]:
    """A recorded state ({"at": ISO time, ...}) where it is from `since` on (any, without `since`)."""
    if state is None or since is None:
        return state
    return state if datetime.fromisoformat(state["at"]).replace(tzinfo=None) >= since.replace(tzinfo=None) else None
