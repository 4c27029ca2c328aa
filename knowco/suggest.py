"""Fill the review queue from two sources of candidates, each judged by every opinion there is:

- the graph: per relation, the pairs whose entities are of the kinds the relation takes (declared or learned
  types), ranked by the structural model where the run trained one (else two-hop pairs first), at most
  `max_pairs` per relation;
- the text: entity names found in the stored sentences (Aho-Corasick over names, labels and aliases), every
  two mentions of a sentence classified; a triple found in several sentences is one candidate with all of
  them as evidence.

Each candidate gets the prompt model's p(r | h, t), what its sentences say, the structural model's opinion and
cheap graph features, combined into one confidence (`engine.queue.opinions`, `engine.queue.combiner`). The queue
keeps each relation's most confident, the text's confident findings and the pool's most uncertain
(`engine.queue.ranking`); of a triple and its reverse only the likelier (`engine.queue.direction`).

Planning (reading and scoring, minutes on a big KG) is apart from writing (one transaction), so a retrain can
replace the queue in the same transaction that makes its model active.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Callable, Optional, Sequence

from sqlalchemy.orm import Session

from engine.queue.candidates import Kinds, RelationCandidates, candidates
from engine.queue.cardinality import compete
from engine.queue.combiner import Combiner, CombinerReport, GraphCounts
from engine.queue.direction import SideCounts, keep_one_direction, symmetric_relations
from engine.mention_index import MentionIndex
from engine.queue.patterns import SHOWN
from engine.queue.policy import QueuePolicy
from engine.queue.ranking import pair_margins, select
from engine.queue.structural import StructuralModel
from engine.text_candidates import mention_pairs
from engine.types import EntityText
from storage import project_settings
from storage.database import Database
from storage.corpus import all_sentences
from storage.labels import TrainingData, entity_surfaces, reviewed_triples, training_data
from storage.review import replace_suggestions
from storage.runs import active_run
from storage.stats import relations_without_evidence
from storage.text_split import tokenize

from knowco.access import Actor, require
from knowco.errors import CuratorError, NoActiveModel
from knowco.model_store import checkpoint_folder, load_model, load_opinions
from knowco.options import recorded_policy
from knowco.relearning import after_verdict
from knowco.settings import MODEL_DIR_ENV
from engine.queue.opinions import OpinionSources, Scored, TextSupport, fit, score_candidates, read_text
from knowco.scoring import CachedScorer
from knowco.standing_rules import KEY as STANDING_RULES
from knowco.standing_rules import StandingRule

Triple3 = tuple[str, str, str]
Progress = Optional[Callable[[int, int], None]]


@dataclass
class SuggestReport:
    model_version: str
    candidates: int
    scored_pairs: int
    capped_relations: list[str] = field(default_factory=list)
    #: (head, tail) pairs the pre-filter looked at, of those the relations' kinds allow
    prefilter_scored: int = 0
    prefilter_possible: int = 0
    sentences: int = 0
    mention_pairs: int = 0
    text_suggestions: int = 0
    model_calls: int = 0
    seconds: float = 0.0
    #: how the candidates were found and judged: the structural model's interaction, the combiner's fit
    structure: Optional[str] = None
    combiner: Optional[dict] = None
    new: int = 0
    rescored: int = 0
    removed: int = 0
    #: the queue policy the pass ran with
    policy: dict = field(default_factory=dict)
    #: what re-ranking the new queue from the curators' verdicts said (None: too few verdicts, or none asked)
    reranked: Optional[str] = None
    #: the KG's strongest patterns (as `engine.queue.patterns.Rule.as_dict`), for the Train page
    patterns: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        capped = f" (capped: {', '.join(self.capped_relations)})" if self.capped_relations else ""
        looked = (f" (the pre-filter looked at {self.prefilter_scored:,} of {self.prefilter_possible:,} possible "
                  f"pairs)" if self.prefilter_scored < self.prefilter_possible else "")
        ranked = f" ranked by the structural model ({self.structure})" if self.structure else ""
        return (f"model {self.model_version}: {self.candidates} candidate triples from {self.scored_pairs} pairs"
                f"{ranked}{capped}{looked}, {self.mention_pairs} mention pairs in {self.sentences} sentences "
                f"({self.text_suggestions} text suggestions); {self.model_calls} inputs sent to the model "
                f"(the rest from the cache) in {self.seconds:.1f} s; {self.new} new suggestions, "
                f"{self.rescored} re-scored, {self.removed} old ones removed"
                + (f". {self.reranked}" if self.reranked else ""))


@dataclass
class SuggestionPlan:
    """What a suggest pass will write: the scored triples of `relations`, their evidence and opinions, the
    combiner that judged them, and the report so far."""

    model_version_id: Optional[int]
    relations: list[str]
    scored: dict[Triple3, float]
    evidence: dict[Triple3, list[tuple]]
    report: SuggestReport
    opinions: dict[Triple3, dict] = field(default_factory=dict)
    combiner: Optional[Combiner] = None
    combiner_report: Optional[CombinerReport] = None


@dataclass
class _Inputs:
    data: TrainingData
    relations: list[str]
    known: set[Triple3]
    texts: dict[str, EntityText]
    types: dict[str, Optional[str]]
    policy: QueuePolicy = QueuePolicy()
    standing: list[StandingRule] = field(default_factory=list)

    def declared_types(self) -> dict[str, tuple[Optional[str], Optional[str]]]:
        specs = {r.name: r for r in self.data.relations}
        return {n: (specs[n].head_type, specs[n].tail_type) for n in self.relations}

    def kinds(self, facts: Sequence[Triple3]) -> Kinds:
        return Kinds(facts, self.types, self.declared_types())

    @cached_property
    def symmetric(self) -> set[str]:
        return symmetric_of(self.data, self.policy)

    @cached_property
    def marked_symmetric(self) -> set[str]:
        return marked_symmetric(self.data)

    def allowed(self, triple: Triple3) -> bool:
        """False for a second tail of a head under a relation marked functional (one tail per head), or a second
        head of a tail under one marked one head per tail."""
        return triple[:2] not in self.functional_heads and (triple[2], triple[1]) not in self.single_head_tails

    @cached_property
    def functional(self) -> set[str]:
        return {r.name for r in self.data.relations if r.functional}

    @cached_property
    def one_head(self) -> set[str]:
        return {r.name for r in self.data.relations if r.one_head_per_tail}

    @cached_property
    def one_valued_marks(self) -> dict[str, set[str]]:
        """Per side, the relations a curator marked one-valued there."""
        return {"tail": set(self.functional), "head": set(self.one_head)}

    @cached_property
    def functional_heads(self) -> set[tuple[str, str]]:
        return {(h, r) for h, r, _ in self.data.facts if r in self.functional}

    @cached_property
    def single_head_tails(self) -> set[tuple[str, str]]:
        return {(t, r) for _, r, t in self.data.facts if r in self.one_head}

    def one_value_per_marked_entity(self, scored: dict[Triple3, float]) -> dict[Triple3, float]:
        """Of a functional relation's candidates for one head, only the likeliest; of a relation marked one head
        per tail, of the candidates for one tail."""
        best: dict[tuple, tuple[float, Triple3]] = {}
        for triple, p in scored.items():
            for key, marked in (((triple[0], triple[1], "tail"), self.functional),
                                ((triple[2], triple[1], "head"), self.one_head)):
                if triple[1] in marked:
                    best[key] = max(best.get(key, (p, triple)), (p, triple))
        return {t: p for t, p in scored.items()
                if (t[1] not in self.functional or best[(t[0], t[1], "tail")][1] == t)
                and (t[1] not in self.one_head or best[(t[2], t[1], "head")][1] == t)}


def marked_symmetric(data: TrainingData) -> set[str]:
    """Relations a curator marked symmetric."""
    return {r.name for r in data.relations if r.symmetric}


def symmetric_of(data: TrainingData, policy: QueuePolicy = QueuePolicy()) -> set[str]:
    """Relations that hold both ways: marked so by a curator, or read from the facts."""
    return symmetric_relations(data.facts, policy=policy) | marked_symmetric(data)


def _read_inputs(session: Session, model, relation: Optional[str], policy: QueuePolicy = QueuePolicy()) -> _Inputs:
    data = training_data(session)
    declared = {r.name for r in data.relations}
    if relation is not None and relation not in declared:
        raise CuratorError(f"there is no relation named {relation!r}")
    unknown = set(relations_without_evidence(session))
    if relation in unknown:
        raise CuratorError(f"nothing to learn {relation!r} from yet: accept a fact of it or add a label first")
    names = [relation] if relation else [r.name for r in data.relations
                                         if r.name in model.index and r.name not in unknown]
    texts = {n: EntityText(n, e.label, e.description) for n, e in data.entities.items()}
    # pending suggestions stay candidates: a new pass re-scores them
    standing = [StandingRule.from_dict(d) for d in project_settings.value_of(session, STANDING_RULES, [])]
    # what a curator labelled (holds or not) is decided as surely as a verdict: never suggested back to them
    decided = reviewed_triples(session) | {(h, r, t) for _, h, r, t, _ in data.triples}
    return _Inputs(data, names, decided, texts, {n: e.type for n, e in data.entities.items()}, policy, standing)


def known_facts(data: TrainingData) -> list[Triple3]:
    """The accepted facts and the triples a curator labelled as holding, which are known to hold as surely: a
    book a label gave its author has that author, so another is a second value (a curator's trial: "Kazuo
    Ishiguro wrote The Blind Assassin" at 0.28 with no note, after a label said Margaret Atwood did)."""
    return list(dict.fromkeys(data.facts + [(h, r, t) for _, h, r, t, holds in data.triples if holds]))


def _read_sentences(session: Session, scorer: CachedScorer, sides: SideCounts, cancel, progress: Progress,
                    report: SuggestReport, policy: QueuePolicy, kinds: Kinds) -> TextSupport:
    sentences = all_sentences(session)
    mentions = mention_pairs(sentences, MentionIndex(entity_surfaces(session), tokenize))
    support = read_text(mentions, scorer.sentences([m.example() for m in mentions], cancel, progress), sides,
                        policy, kinds)
    report.sentences, report.mention_pairs = len(sentences), len(mentions)
    return support


@dataclass
class Planning:
    """How a pass finds and judges its candidates: the saved structural model and combiner (*Suggest now*), or
    the held-out facts to fit a combiner on (a retrain); and the queue policy it follows."""

    structure: Optional[StructuralModel] = None
    combiner: Optional[Combiner] = None
    held_out: Sequence[Triple3] = ()
    seed: int = 0
    policy: QueuePolicy = QueuePolicy()


def plan_suggestions(database: Database, model, model_version_id: Optional[int], version_name: str, *,
                     relation: Optional[str] = None, cancel=None, progress: Progress = None, use_text: bool = True,
                     planning: Optional[Planning] = None) -> SuggestionPlan:
    """Score the candidates (graph and text) with `model` and the planning's opinions; nothing in the queue
    changes. Accepted and rejected triples are never candidates, so a rejected one is never suggested again."""
    started = time.perf_counter()
    planning = planning or Planning()
    policy = planning.policy
    scorer = CachedScorer(database, model_version_id, model)
    with database.sessions() as session:
        inputs = _read_inputs(session, model, relation, policy)
    facts = known_facts(inputs.data)
    # what the KG says without the held-out facts: the combiner is fitted on it, and the text's sides read it
    held_set = set(planning.held_out)
    seen = [f for f in facts if f not in held_set]
    seen_counts = GraphCounts(seen, inputs.marked_symmetric, policy, inputs.one_valued_marks)
    found = _find(database, inputs, scorer, planning, use_text, cancel, progress, seen_counts)
    found.report.model_version = version_name
    held_out = [t for t in planning.held_out if t[1] in inputs.relations]
    distributions = _score_pairs(inputs, scorer, found.pool + held_out, cancel, progress)
    counts = GraphCounts(facts, inputs.marked_symmetric, policy, inputs.one_valued_marks) if held_set else seen_counts
    judged = _score(OpinionSources(distributions, found.text, planning.structure, found.kinds, counts), inputs,
                    found.per, found.stated, found.pool, held_out, planning, seen, seen_counts)
    judged.confidence = compete(judged.confidence, counts.cardinalities)
    margins = pair_margins(judged.confidence)
    calibrated = _calibrated(judged)
    queue = _queue(judged, found, inputs, margins, set(facts), policy, calibrated)
    report = found.report
    report.policy = policy.as_dict()
    report.scored_pairs, report.text_suggestions = len(distributions), sum(1 for t in found.stated if t in queue)
    report.combiner = judged.report.as_dict() if judged.report else None
    report.model_calls, report.seconds = scorer.model_calls, time.perf_counter() - started
    return SuggestionPlan(model_version_id, inputs.relations, queue,
                          {t: found.text.stated[t] for t in queue if t in found.text.stated}, report,
                          _shown_opinions(queue, judged, margins, inputs, counts, set(facts), calibrated),
                          judged.combiner, judged.report)


def _queue(judged: Scored, found: "_Found", inputs: _Inputs, margins: dict[Triple3, float], fact_set: set[Triple3],
           policy: QueuePolicy, calibrated: set[Triple3]) -> dict[Triple3, float]:
    """What the pass suggests: one direction of each pair, one value per marked entity, then the queue's
    selection."""
    stated = {t: max(o["text"], o.get("sentence", 0.0)) for t, o in judged.opinions.items()}
    one_way = inputs.one_value_per_marked_entity(keep_one_direction(judged.confidence, inputs.symmetric,
                                                                    fact_set, stated, policy))
    calibrated_text = judged.combiner is not None and judged.combiner.reads_text
    return select(one_way, margins, policy, found.stated, found.text.leading, calibrated_text, calibrated,
                  fitted=judged.combiner is not None, standing=found.ruled)


def _calibrated(judged: Scored) -> set[Triple3]:
    """The candidates whose confidence a fitted combiner calibrated: all of them, but for a sentence's finding
    where the combiner does not read the text (that keeps the text's own)."""
    if judged.combiner is None:
        return set()
    return {t for t, o in judged.opinions.items() if judged.combiner.reads_text or not o.get("sentences")}


def _shown_opinions(queue: dict[Triple3, float], judged: Scored, margins: dict[Triple3, float], inputs: _Inputs,
                    counts: GraphCounts, fact_set: set[Triple3], calibrated: set[Triple3]) -> dict[Triple3, dict]:
    """What the Review card shows of each suggestion's opinions (and the re-ranking reads back: "calibrated"
    marks a confidence a fitted combiner calibrated, which a pair's second link never lowers)."""
    return {t: {**judged.opinions[t], "margin": margins[t], "model": queue[t],
                **({"both_ways": round(counts.reverse_holds.get(t[1], 0.0), 3)}
                   if t[1] in inputs.symmetric and t[::-1] in fact_set else {}),
                **({"calibrated": True} if t in calibrated else {})}
            for t in queue}


@dataclass
class _Found:
    """The candidates of a pass: per relation from the graph, stated by the text, and all of them (`pool`)."""

    per: list[RelationCandidates]
    text: TextSupport
    stated: list[Triple3]
    pool: list[Triple3]
    kinds: Kinds
    report: SuggestReport
    #: what the curators' standing rules imply (always in the queue, with their pattern as evidence)
    ruled: list[Triple3] = field(default_factory=list)


def _find(database: Database, inputs: _Inputs, scorer: CachedScorer, planning: Planning, use_text: bool, cancel,
          progress: Progress, seen_counts: GraphCounts) -> _Found:
    kinds = inputs.kinds(inputs.data.facts)
    per = candidates(inputs.data.facts, inputs.types, inputs.declared_types(), inputs.known, planning.policy.max_pairs,
                     structure=planning.structure, kinds=kinds, symmetric=inputs.symmetric, policy=planning.policy)
    report = _found_report(per, planning)
    text = TextSupport()
    if use_text:
        with database.sessions() as session:
            text = _read_sentences(session, scorer, SideCounts(seen_counts, inputs.symmetric), cancel, progress,
                                   report, planning.policy, kinds)
    stated = [t for t in text.stated if t[1] in inputs.relations and t not in inputs.known and inputs.allowed(t)]
    per = [_allowed(c, inputs) for c in per]
    ruled = _ruled(inputs, seen_counts)
    pool = sorted({triple for c in per for triple in c.triples()} | set(stated) | set(ruled))
    report.patterns = [rule.as_dict() for rule in seen_counts.patterns.strongest(SHOWN)]
    return _Found(per, text, stated, pool, kinds, report, ruled)


def _ruled(inputs: _Inputs, counts: GraphCounts) -> list[Triple3]:
    """The triples the standing rules imply: the pairs each rule's path links, not known, of the kinds allowed."""
    out = set()
    for rule in inputs.standing:
        if rule.relation not in inputs.relations:
            continue
        for head, tail in counts.patterns.implied(rule.body):
            triple = (head, rule.relation, tail)
            if triple not in inputs.known and inputs.allowed(triple):
                out.add(triple)
    return sorted(out)


def _found_report(per: list[RelationCandidates], planning: Planning) -> SuggestReport:
    return SuggestReport(model_version="", candidates=sum(len(c.triples()) for c in per), scored_pairs=0,
                         capped_relations=[c.relation for c in per if c.capped],
                         prefilter_scored=sum(c.scored for c in per), prefilter_possible=sum(c.possible for c in per),
                         structure=planning.structure.interaction if planning.structure else None)


def _allowed(found: RelationCandidates, inputs: _Inputs) -> RelationCandidates:
    """A relation's candidates without those the KG's kinds and marks rule out."""
    def allowed(pairs):
        return [p for p in pairs if inputs.allowed((p[0], found.relation, p[1]))]

    return replace(found, pairs=allowed(found.pairs), reverses=allowed(found.reverses))


def _score_pairs(inputs: _Inputs, scorer: CachedScorer, triples: Sequence[Triple3], cancel, progress: Progress
                 ) -> dict[tuple[str, str], dict[str, float]]:
    """p(relation | head, tail) from names and descriptions, once per pair of `triples`."""
    pairs = sorted({(h, t) for h, _, t in triples})
    texts = inputs.texts
    return dict(zip(pairs, scorer.pairs([(texts[h], texts[t]) for h, t in pairs], cancel, progress)))


def _score(applying: OpinionSources, inputs: _Inputs, per: list[RelationCandidates], stated: list[Triple3],
           pool: list[Triple3], held_out: list[Triple3], planning: Planning, seen: list[Triple3],
           seen_counts: GraphCounts) -> Scored:
    """Every candidate judged by `applying`; in a retrain, by a combiner fitted first on the held-out facts,
    judged by what the rest of the KG (`seen`) says (kinds and counts that do not know them)."""
    if not held_out:
        return score_candidates(applying, pool, planning.combiner)
    fitting = OpinionSources(applying.distributions, applying.text, planning.structure, inputs.kinds(seen), seen_counts)
    combiner, report = fit(fitting, held_out, per, stated, planning.seed, planning.policy)
    judged = score_candidates(applying, pool, combiner)
    judged.report = report
    return judged


def write_suggestions(session: Session, plan: SuggestionPlan, user: str) -> SuggestReport:
    """Make the plan the pending queue of its relations, inside the caller's transaction."""
    counts = replace_suggestions(session, plan.model_version_id, [(*key, p) for key, p in plan.scored.items()],
                                 user, relations=plan.relations, evidence=plan.evidence, opinions=plan.opinions)
    report = plan.report
    report.new, report.rescored, report.removed = counts["new"], counts["rescored"], counts["removed"]
    return report


def suggest(database: Database, actor: Actor, *, relation: Optional[str] = None, cancel=None,
            progress: Progress = None, use_text: bool = True, **changes) -> SuggestReport:
    """*Suggest now* and `python -m knowco suggest`: replace the pending queue (of `relation`, or all) with the
    active model's suggestions, under the queue policy its version recorded with the `changes` asked for
    (e.g. `per_relation`, `max_pairs`, `min_text`)."""
    require(actor, "manage_models")
    with database.sessions() as session:
        run = active_run(session)
    if run is None or not run.checkpoint_path:
        raise NoActiveModel("no trained model yet: press Retrain on the Train page (or run `python -m knowco train`)")
    folder = checkpoint_folder(database.url, run.checkpoint_path)
    if not folder.is_dir():
        raise NoActiveModel(f"{run.name}'s checkpoint is not in the model store this host reads ({folder}): point "
                            f"{MODEL_DIR_ENV} at the folder the retrain workers write to")
    structure, combiner = load_opinions(str(folder))
    policy = replace(recorded_policy(run.hyperparameters), **{k: v for k, v in changes.items() if v is not None})
    plan = plan_suggestions(database, load_model(str(folder)), run.id, run.name, relation=relation,
                            cancel=cancel, progress=progress, use_text=use_text,
                            planning=Planning(structure, combiner, policy=policy))
    with database.transaction() as session:
        now_active = active_run(session)
        if now_active is None or now_active.id != run.id:
            raise NoActiveModel(f"{run.name} stopped being the active model while suggesting; suggest again")
        report = write_suggestions(session, plan, actor.name)
    report.reranked = after_verdict(database, actor.name, force=True)
    return report
