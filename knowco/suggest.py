"""Fill the review queue from two sources, scored by the active model through the score cache:

- the graph: candidate pairs per relation (entity types learned from the relation's triples, two-hop pairs
  first, at most `max_pairs` per relation), the top `per_relation` of each relation by p(r | h, t);
- the text: entity names found in the stored sentences (Aho-Corasick over names, labels and aliases), every
  two mentions of a sentence classified; a triple found in several sentences is one suggestion with all of
  them as evidence.

A triple proposed by both keeps the higher confidence and the sentences.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from sqlalchemy import select

from engine.candidates import candidates
from engine.direction import keep_one_direction, symmetric_relations
from engine.mention_index import MentionIndex
from engine.text_candidates import aggregate, mention_pairs
from engine.types import NO_RELATION, EntityText
from storage.database import Database
from storage.labels import training_data
from storage.models import Entity, Sentence, Triple
from storage.review import replace_suggestions
from storage.runs import active_run

from knowco.model_store import load_model
from knowco.scoring import CachedScorer

MIN_TEXT_CONFIDENCE = 0.5


class NoActiveModel(ValueError):
    """Suggesting needs a trained model."""


@dataclass
class SuggestReport:
    model_version: str
    candidates: int
    scored_pairs: int
    capped_relations: list[str] = field(default_factory=list)
    sentences: int = 0
    mention_pairs: int = 0
    text_suggestions: int = 0
    model_calls: int = 0
    seconds: float = 0.0
    new: int = 0
    rescored: int = 0
    removed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        capped = f" (capped: {', '.join(self.capped_relations)})" if self.capped_relations else ""
        return (f"model {self.model_version}: {self.candidates} candidate triples from {self.scored_pairs} pairs"
                f"{capped}, {self.mention_pairs} mention pairs in {self.sentences} sentences "
                f"({self.text_suggestions} text suggestions); {self.model_calls} inputs sent to the model "
                f"(the rest from the cache) in {self.seconds:.1f} s; {self.new} new suggestions, "
                f"{self.rescored} re-scored, {self.removed} old ones removed")


def _surfaces(database: Database) -> list[tuple[str, str]]:
    with database.sessions() as session:
        rows = session.execute(select(Entity.name, Entity.label, Entity.aliases)).all()
    surfaces = []
    for name, label, aliases in rows:
        surfaces += [(label, name), (name, name)] + [(alias, name) for alias in aliases or []]
    return surfaces


def suggest(database: Database, user: str, *, relation: Optional[str] = None, per_relation: int = 25,
            max_pairs: int = 5000, model=None, model_version_id: Optional[int] = None, cancel=None,
            progress: Optional[Callable[[int, int], None]] = None, use_text: bool = True) -> SuggestReport:
    """Replace the pending queue (of `relation`, or all) with the active model's suggestions. Accepted and
    rejected triples are never candidates, so a rejected one is never suggested again."""
    started = time.perf_counter()
    run = active_run(database)
    if model is None:
        if run is None or not run.checkpoint_path:
            raise NoActiveModel("no trained model yet: press Retrain on the Train page (or run `python -m knowco train`)")
        model = load_model(run.checkpoint_path)
    version_id = model_version_id if model_version_id is not None else (run.id if run else None)
    data = training_data(database)
    relations = {r.name: r for r in data.relations}
    if relation is not None and relation not in relations:
        raise ValueError(f"there is no relation named {relation!r}")
    names = [relation] if relation else [r for r in relations if r in model.index]
    with database.sessions() as session:  # pending suggestions stay candidates: a new pass re-scores them
        all_triples = session.execute(select(Triple.head_id, Triple.relation_id, Triple.tail_id)
                                      .where(Triple.status != "suggested")).all()
    ids = {e.id: name for name, e in data.entities.items()}
    relation_names = {r.id: r.name for r in data.relations}
    known = {(ids[h], relation_names[r], ids[t]) for h, r, t in all_triples}
    texts = {n: EntityText(n, e.label, e.description) for n, e in data.entities.items()}
    scorer = CachedScorer(database, version_id, model)

    per = candidates(data.facts, {n: e.type for n, e in data.entities.items()},
                     {n: (relations[n].head_type, relations[n].tail_type) for n in names}, known, max_pairs)
    pairs = sorted({pair for c in per for pair in c.pairs})
    distributions = dict(zip(pairs, scorer.pairs([(texts[h], texts[t]) for h, t in pairs], cancel, progress)))
    scored: dict[tuple[str, str, str], float] = {}
    for c in per:
        ranked = sorted(((distributions[(h, t)][c.relation], h, t) for h, t in c.pairs), reverse=True)
        scored.update({(h, c.relation, t): round(p, 6) for p, h, t in ranked[:per_relation]})

    evidence: dict[tuple[str, str, str], list[tuple]] = {}
    report = SuggestReport(model_version=run.name if run else "?", candidates=sum(len(c.pairs) for c in per),
                           scored_pairs=len(pairs), capped_relations=[c.relation for c in per if c.capped])
    if use_text:
        with database.sessions() as session:
            sentences = session.execute(select(Sentence.id, Sentence.tokens)).all()
        mentions = mention_pairs(((i, tokens) for i, tokens in sentences), MentionIndex(_surfaces(database)))
        verdicts = scorer.sentences([m.example() for m in mentions], cancel, progress)
        found = [s for s in aggregate(mentions, verdicts, NO_RELATION, MIN_TEXT_CONFIDENCE)
                 if s.relation in names and (s.head, s.relation, s.tail) not in known]
        for s in found:
            key = (s.head, s.relation, s.tail)
            scored[key] = max(scored.get(key, 0.0), round(s.confidence, 6))
            evidence[key] = s.evidence
        report.sentences, report.mention_pairs, report.text_suggestions = len(sentences), len(mentions), len(found)
    scored = keep_one_direction(scored, symmetric_relations(data.facts), set(data.facts))
    evidence = {key: found for key, found in evidence.items() if key in scored}
    counts = replace_suggestions(database, version_id, [(*key, p) for key, p in scored.items()], user,
                                 relations=names, evidence=evidence)
    report.model_calls, report.seconds = scorer.model_calls, time.perf_counter() - started
    report.new, report.rescored, report.removed = counts["new"], counts["rescored"], counts["removed"]
    return report
