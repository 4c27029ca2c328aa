"""Accept many at once with a stated precision: a curator freezes a slice of the queue (the Review page's
filters), judges a random sample of it stratified by confidence band (ordinary verdicts, under the team's
overlap rule), reads the estimated precision of the rest with its 95 % interval (`engine.spot_check`), and
accepts the rest, signing off on that statement: every triple it accepts records the spot check, whose
estimate, interval, sample and signer the history and the exports carry. One undo takes it all back.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from engine.spot_check import Estimate, Stratum, band_of, band_words, draw, estimate
from storage import project_settings, review, spot_checks, triple_rows
from storage.audit import record_event
from storage.database import Database
from storage.models import utcnow
from storage.spot_checks import SpotCheckRow

from knowco.access import Actor, require
from knowco.errors import CuratorError
from knowco.verdicts import set_with_label

#: the sample a spot check draws unless asked otherwise
SAMPLE_SIZE = 40
#: the interval width (high − low) at which the page says the curator may stop judging, unless the team set
#: another (project setting `WIDTH_KEY`)
NARROW_ENOUGH = 0.15
WIDTH_KEY = "spot_check_width"


class SpotCheckError(CuratorError):
    """A spot check that cannot be started or signed off: one sentence saying why."""


@dataclass(frozen=True)
class SampleItem:
    triple_id: int
    words: str
    confidence: float
    band: str
    status: str


@dataclass
class SpotCheckView:
    id: int
    #: the slice in words, e.g. "treats, confidence 0.80–1.00"
    slice_words: str
    size: int
    sample: list[SampleItem]
    estimate: Estimate
    status: str
    created_by: str
    #: the curator asked for a slice a spot check already open covers, and joined that one
    joined: bool = False

    @property
    def judged(self) -> int:
        return sum(item.status in ("accepted", "rejected", "retracted") for item in self.sample)

    def narrow_enough(self, width: float = NARROW_ENOUGH) -> bool:
        return self.estimate.precision is not None and self.estimate.width <= width

    def words(self) -> str:
        """What the sample says of the rest, in a curator's words."""
        e = self.estimate
        if e.rest == 0:
            return "nothing is left to accept: every suggestion of the slice was judged or is gone"
        if e.precision is None:
            return (f"{e.judged} of the sample judged so far; judge at least one suggestion of each band to get "
                    f"an estimate for the {e.rest} left")
        return (f"accept these {e.rest}: about {e.precision:.0%} hold ({e.low:.0%}–{e.high:.0%}, 95 % interval), "
                f"from the {e.judged} you checked ({e.held} held)")


def wanted_width(database: Database) -> float:
    """The interval width at which the team stops judging a sample."""
    with database.sessions() as session:
        return float(project_settings.value_of(session, WIDTH_KEY, NARROW_ENOUGH))


def set_wanted_width(database: Database, actor: Actor, width: float) -> str:
    require(actor, "review")
    if not 0.01 <= width <= 1.0:
        raise SpotCheckError("the interval width is between 1 and 100 percentage points")
    with database.transaction() as session:
        project_settings.set_value(session, WIDTH_KEY, round(width, 4), actor.name, "set_spot_check_width",
                                   {"width": round(width, 4)})
    return f"spot checks may stop once their interval is {width:.0%} wide or narrower"


def _slice_words(slice_: dict) -> str:
    # "when frozen": a re-rank from verdicts moves confidences, never which suggestions the check covers
    parts = [slice_.get("relation") or "all relations",
             f"confidence {slice_.get('min_confidence', 0.0):.2f}–{slice_.get('max_confidence', 1.0):.2f} when frozen"]
    if slice_.get("from_text") is not None:
        parts.append("read in a sentence" if slice_["from_text"] else "not read in a sentence")
    return ", ".join(parts)


def start_spot_check(database: Database, actor: Actor, *, relation: Optional[str] = None,
                     min_confidence: float = 0.0, max_confidence: float = 1.0, from_text: Optional[bool] = None,
                     sample_size: int = SAMPLE_SIZE, seed: Optional[int] = None) -> SpotCheckView:
    """Freeze the slice's pending suggestions and draw the sample to judge (all of it where the slice is no
    larger than the sample). Where a check of the same slice is open and has suggestions left, the curator joins
    it instead: two curators judge one sample (their verdicts under the team's overlap rule) and one of them
    signs off, rather than two estimates of one slice."""
    require(actor, "review")
    if sample_size < 1:
        raise SpotCheckError("the sample needs at least one suggestion")
    slice_ = {"relation": relation, "min_confidence": min_confidence, "max_confidence": max_confidence,
              "from_text": from_text}
    with database.transaction() as session:
        joined = _open_check_of(session, slice_)
        if joined is not None:
            return replace(_view(session, joined), joined=True)
        found = review.suggestions(session, relation=relation, min_confidence=min_confidence,
                                   max_confidence=max_confidence, limit=10_000_000, from_text=from_text)
        if not found:
            raise SpotCheckError("no pending suggestion is in this slice; widen the filters")
        members = {s.id: band_of(s.confidence) for s in found}
        check_seed = seed if seed is not None else len(found) * 7919 + int(utcnow().timestamp())
        sample = draw([(s.id, s.confidence) for s in found], sample_size, check_seed)
        row = spot_checks.create(session, slice_, members, sample, actor.name, utcnow())
        record_event(session, actor=actor.name, action="start_spot_check", target="spot_check", target_id=row.id,
                     details={"slice": _slice_words(slice_), "size": len(found), "sample": len(sample)})
        return _view(session, row)


def _open_check_of(session, slice_: dict) -> Optional[SpotCheckRow]:
    for row in spot_checks.open_checks(session):
        if row.slice == slice_ and "suggested" in spot_checks.statuses(session, list(row.members)).values():
            return row
    return None


def _strata(row: SpotCheckRow, status: dict[int, str]) -> list[Stratum]:
    sampled = set(row.sample)
    strata = []
    for band in sorted(set(row.members.values())):
        members = [i for i, b in row.members.items() if b == band]
        judged = [i for i in members if i in sampled and status.get(i) in ("accepted", "rejected", "retracted")]
        held = sum(status.get(i) == "accepted" for i in judged)
        rest = sum(1 for i in members if i not in sampled and status.get(i) == "suggested")
        strata.append(Stratum(band, len(members), len(judged), held, rest))
    return strata


def _view(session, row: SpotCheckRow) -> SpotCheckView:
    status = spot_checks.statuses(session, list(row.members))
    found = spot_checks.items(session, row.sample)
    sample = [SampleItem(i, *(found[i][:2] if i in found else ("(removed by a newer suggest pass)", 0.0)),
                         band_words(row.members[i]), found[i][2] if i in found else "removed") for i in row.sample]
    return SpotCheckView(row.id, _slice_words(row.slice), len(row.members), sample, estimate(_strata(row, status)),
                         row.status, row.created_by)


def spot_check(database: Database, check_id: int) -> SpotCheckView:
    with database.sessions() as session:
        row = spot_checks.get(session, check_id)
        if row is None:
            raise SpotCheckError(f"there is no spot check {check_id}")
        return _view(session, row)


def open_spot_checks(database: Database) -> list[SpotCheckView]:
    with database.sessions() as session:
        return [_view(session, row) for row in spot_checks.open_checks(session)]


def accept_rest(database: Database, actor: Actor, check_id: int) -> str:
    """Accept the slice's suggestions left (neither sampled nor decided), signing off on the estimate the
    sample gives them; refused where the sample says nothing of a band or held nothing."""
    require(actor, "review")
    with database.transaction() as session:
        row = spot_checks.get(session, check_id, lock=True)
        if row is None or row.status != "open":
            raise SpotCheckError("that spot check is signed off already (or gone); reload the page")
        status = spot_checks.statuses(session, list(row.members))
        found = estimate(_strata(row, status))
        if found.rest == 0:
            raise SpotCheckError("nothing is left to accept: every suggestion of the slice was judged or is gone")
        if found.precision is None:
            raise SpotCheckError("the sample says nothing yet of some of the suggestions left: judge at least one "
                                 "suggestion of each confidence band first")
        if found.held == 0:
            raise SpotCheckError(f"none of the {found.judged} suggestions checked holds: nothing is accepted")
        now, sampled = utcnow(), set(row.sample)
        rest = sorted(i for i in row.members if i not in sampled and status.get(i) == "suggested")
        changes = [set_with_label(session, triple_rows.triple_row(session, i), "accepted", actor.name, now)
                   for i in rest]
        triple_rows.set_spot_check(session, rest, check_id)
        stated = {"precision": round(found.precision, 4), "low": round(found.low, 4), "high": round(found.high, 4),
                  "judged": found.judged, "held": found.held, "accepted": len(rest), "sample": row.sample,
                  "slice": _slice_words(row.slice), "slice_size": len(row.members), "method": found.method}
        if not spot_checks.sign_off(session, check_id, stated, actor.name, now):
            raise SpotCheckError("another curator signed off this spot check a moment ago; reload the page")
        changes.append({"reopen_spot_check": check_id})
        record_event(session, actor=actor.name, action="accept_spot_check", target="spot_check",
                     target_id=check_id, details={"changes": changes, "slice": _slice_words(row.slice),
                                                  "count": len(rest), **{k: v for k, v in stated.items()
                                                                         if k != "sample"}})
    return (f"accepted {len(rest)} suggestions of {_slice_words(row.slice)}: about {found.precision:.0%} hold "
            f"({found.low:.0%}–{found.high:.0%}), from the {found.judged} checked")
