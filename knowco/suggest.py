"""Fill the review queue: candidate pairs per relation (types, neighbourhood), scored by the active model in
batches, the most probable missing triples of each relation written as suggestions.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from sqlalchemy import select

from engine.candidates import candidates
from engine.link_prediction import LpTask, PairScores
from engine.training import TrainingCancelled
from engine.types import EntityText, RelationSpec
from storage.database import Database
from storage.labels import training_data
from storage.models import Triple
from storage.review import replace_suggestions
from storage.runs import active_run

from knowco.model_store import load_model

BATCH_PAIRS = 512


class NoActiveModel(ValueError):
    """Suggesting needs a trained model."""


@dataclass
class SuggestReport:
    model_version: str
    candidates: int
    scored_pairs: int
    capped_relations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    new: int = 0
    rescored: int = 0
    removed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        capped = f" (capped: {', '.join(self.capped_relations)})" if self.capped_relations else ""
        return (f"model {self.model_version}: {self.candidates} candidate triples from {self.scored_pairs} pairs"
                f"{capped} in {self.seconds:.1f} s; {self.new} new suggestions, {self.rescored} re-scored, "
                f"{self.removed} old ones removed")


def _known(database: Database) -> set[tuple[int, int, int]]:
    with database.sessions() as session:
        return set(map(tuple, session.execute(select(Triple.head_id, Triple.relation_id, Triple.tail_id))))


def suggest(database: Database, user: str, *, relation: Optional[str] = None, per_relation: int = 25,
            max_pairs: int = 5000, model=None, model_version_id: Optional[int] = None, cancel=None,
            progress: Optional[Callable[[int, int], None]] = None) -> SuggestReport:
    """Score candidates with `model` (default: the active version) and replace the pending queue with the top
    `per_relation` of each relation. Triples already accepted, suggested or rejected are never candidates.
    """
    started = time.perf_counter()
    run = active_run(database)
    if model is None:
        if run is None or not run.checkpoint_path:
            raise NoActiveModel("no trained model yet: press Retrain on the Train page (or run `python -m knowco train`)")
        model = load_model(run.checkpoint_path)
    data = training_data(database)
    relations = {r.name: r for r in data.relations}
    if relation is not None and relation not in relations:
        raise ValueError(f"there is no relation named {relation!r}")
    names = [relation] if relation else [r for r in relations if r in model.index]
    with database.sessions() as session:
        all_triples = session.execute(select(Triple.head_id, Triple.relation_id, Triple.tail_id)).all()
    ids = {e.id: name for name, e in data.entities.items()}
    relation_names = {r.id: r.name for r in data.relations}
    known = {(ids[h], relation_names[r], ids[t]) for h, r, t in all_triples}
    per = candidates(data.facts, {n: e.type for n, e in data.entities.items()},
                     {n: (relations[n].head_type, relations[n].tail_type) for n in names}, known, max_pairs)
    task = LpTask({n: EntityText(n, e.label, e.description) for n, e in data.entities.items()},
                  [RelationSpec(r.name, r.label) for r in data.relations])
    scores = PairScores(model, task)
    pairs = sorted({pair for c in per for pair in c.pairs})
    for start in range(0, len(pairs), BATCH_PAIRS):
        if cancel is not None and cancel.is_set():
            raise TrainingCancelled("cancelled while suggesting")
        scores.fill(pairs[start:start + BATCH_PAIRS])
        if progress is not None:
            progress(min(start + BATCH_PAIRS, len(pairs)), len(pairs))
    scored = []
    for c in per:
        ranked = sorted(((scores.score(h, c.relation, t), h, t) for h, t in c.pairs), reverse=True)
        scored += [(h, c.relation, t, round(p, 6)) for p, h, t in ranked[:per_relation]]
    version_id = model_version_id if model_version_id is not None else (run.id if run else None)
    counts = replace_suggestions(database, version_id, scored, user, relations=names)
    return SuggestReport(
        model_version=run.name if run else "?", candidates=sum(len(c.pairs) for c in per), scored_pairs=len(pairs),
        capped_relations=[c.relation for c in per if c.capped], seconds=time.perf_counter() - started,
        new=counts["new"], rescored=counts["rescored"], removed=counts["removed"])
