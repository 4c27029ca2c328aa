"""Fill the review queue from two sources, scored by a model through the score cache:

- the graph: candidate pairs per relation (entity types learned from the relation's triples, two-hop pairs
  first, at most `max_pairs` per relation), the top `per_relation` of each relation by p(r | h, t);
- the text: entity names found in the stored sentences (Aho-Corasick over names, labels and aliases), every
  two mentions of a sentence classified; a triple found in several sentences is one suggestion with all of
  them as evidence.

A triple proposed by both keeps the higher confidence and the sentences; of a triple and its reverse only the
likelier is kept (engine.direction).

Planning (reading and scoring, minutes on a big KG) is apart from writing (one transaction), so a retrain can
replace the queue in the same transaction that makes its model active.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from sqlalchemy.orm import Session

from engine.candidates import RelationCandidates, candidates
from engine.direction import keep_one_direction, symmetric_relations
from engine.mention_index import MentionIndex
from engine.text_candidates import aggregate, mention_pairs
from engine.types import NO_RELATION, EntityText
from storage.database import Database
from storage.corpus import all_sentences
from storage.labels import TrainingData, entity_surfaces, reviewed_triples, training_data
from storage.review import replace_suggestions
from storage.runs import active_run

from knowco.access import Actor, require
from knowco.errors import CuratorError, NoActiveModel
from knowco.model_store import load_model
from knowco.scoring import CachedScorer

MIN_TEXT_CONFIDENCE = 0.5
Triple3 = tuple[str, str, str]
Progress = Optional[Callable[[int, int], None]]


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


@dataclass
class SuggestionPlan:
    """What a suggest pass will write: the scored triples of `relations`, their evidence, and the report so far."""

    model_version_id: Optional[int]
    relations: list[str]
    scored: dict[Triple3, float]
    evidence: dict[Triple3, list[tuple]]
    report: SuggestReport


@dataclass
class _Inputs:
    data: TrainingData
    relations: list[str]
    known: set[Triple3]
    texts: dict[str, EntityText]


def _read_inputs(session: Session, model, relation: Optional[str]) -> _Inputs:
    data = training_data(session)
    declared = {r.name for r in data.relations}
    if relation is not None and relation not in declared:
        raise CuratorError(f"there is no relation named {relation!r}")
    names = [relation] if relation else [r.name for r in data.relations if r.name in model.index]
    texts = {n: EntityText(n, e.label, e.description) for n, e in data.entities.items()}
    # pending suggestions stay candidates: a new pass re-scores them
    return _Inputs(data, names, reviewed_triples(session), texts)


def _graph_suggestions(inputs: _Inputs, scorer: CachedScorer, per_relation: int, max_pairs: int, cancel,
                       progress: Progress) -> tuple[dict[Triple3, float], list[RelationCandidates], int]:
    data = inputs.data
    specs = {r.name: r for r in data.relations}
    per = candidates(data.facts, {n: e.type for n, e in data.entities.items()},
                     {n: (specs[n].head_type, specs[n].tail_type) for n in inputs.relations}, inputs.known,
                     max_pairs)
    pairs = sorted({pair for c in per for pair in c.pairs})
    texts = inputs.texts
    distributions = dict(zip(pairs, scorer.pairs([(texts[h], texts[t]) for h, t in pairs], cancel, progress)))
    scored: dict[Triple3, float] = {}
    for c in per:
        ranked = sorted(((distributions[(h, t)][c.relation], h, t) for h, t in c.pairs), reverse=True)
        scored.update({(h, c.relation, t): round(p, 6) for p, h, t in ranked[:per_relation]})
    return scored, per, len(pairs)


def _text_suggestions(session: Session, inputs: _Inputs, scorer: CachedScorer, cancel, progress: Progress,
                      report: SuggestReport) -> list:
    sentences = all_sentences(session)
    mentions = mention_pairs(sentences, MentionIndex(entity_surfaces(session)))
    verdicts = scorer.sentences([m.example() for m in mentions], cancel, progress)
    found = [s for s in aggregate(mentions, verdicts, NO_RELATION, MIN_TEXT_CONFIDENCE)
             if s.relation in inputs.relations and (s.head, s.relation, s.tail) not in inputs.known]
    report.sentences, report.mention_pairs, report.text_suggestions = len(sentences), len(mentions), len(found)
    return found


def plan_suggestions(database: Database, model, model_version_id: Optional[int], version_name: str, *,
                     relation: Optional[str] = None, per_relation: int = 25, max_pairs: int = 5000, cancel=None,
                     progress: Progress = None, use_text: bool = True) -> SuggestionPlan:
    """Score the candidates (graph and text) with `model`; nothing in the queue changes. Accepted and rejected
    triples are never candidates, so a rejected one is never suggested again."""
    started = time.perf_counter()
    scorer = CachedScorer(database, model_version_id, model)
    with database.sessions() as session:
        inputs = _read_inputs(session, model, relation)
    scored, per, n_pairs = _graph_suggestions(inputs, scorer, per_relation, max_pairs, cancel, progress)
    report = SuggestReport(model_version=version_name, candidates=sum(len(c.pairs) for c in per),
                           scored_pairs=n_pairs, capped_relations=[c.relation for c in per if c.capped])
    evidence: dict[Triple3, list[tuple]] = {}
    if use_text:
        with database.sessions() as session:
            found = _text_suggestions(session, inputs, scorer, cancel, progress, report)
        for s in found:
            key = (s.head, s.relation, s.tail)
            scored[key] = max(scored.get(key, 0.0), round(s.confidence, 6))
            evidence[key] = s.evidence
    facts = inputs.data.facts
    scored = keep_one_direction(scored, symmetric_relations(facts), set(facts))
    evidence = {key: found for key, found in evidence.items() if key in scored}
    report.model_calls, report.seconds = scorer.model_calls, time.perf_counter() - started
    return SuggestionPlan(model_version_id, inputs.relations, scored, evidence, report)


def write_suggestions(session: Session, plan: SuggestionPlan, user: str) -> SuggestReport:
    """Make the plan the pending queue of its relations, inside the caller's transaction."""
    counts = replace_suggestions(session, plan.model_version_id, [(*key, p) for key, p in plan.scored.items()],
                                 user, relations=plan.relations, evidence=plan.evidence)
    report = plan.report
    report.new, report.rescored, report.removed = counts["new"], counts["rescored"], counts["removed"]
    return report


def suggest(database: Database, actor: Actor, *, relation: Optional[str] = None, per_relation: int = 25,
            max_pairs: int = 5000, cancel=None, progress: Progress = None, use_text: bool = True) -> SuggestReport:
    """*Suggest now* and `python -m knowco suggest`: replace the pending queue (of `relation`, or all) with the
    active model's suggestions."""
    require(actor, "manage_models")
    with database.sessions() as session:
        run = active_run(session)
    if run is None or not run.checkpoint_path:
        raise NoActiveModel("no trained model yet: press Retrain on the Train page (or run `python -m knowco train`)")
    plan = plan_suggestions(database, load_model(run.checkpoint_path), run.id, run.name, relation=relation,
                            per_relation=per_relation, max_pairs=max_pairs, cancel=cancel, progress=progress,
                            use_text=use_text)
    with database.transaction() as session:
        now_active = active_run(session)
        if now_active is None or now_active.id != run.id:
            raise NoActiveModel(f"{run.name} stopped being the active model while suggesting; suggest again")
        return write_suggestions(session, plan, actor.name)
