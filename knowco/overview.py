"""What the Overview page shows: the KG's counts, how far each relation is from 8 labelled examples, the
model in use, and the next thing worth doing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from storage.database import Database
from storage.runs import Run, active_run, list_runs
from storage.stats import KgStats, kg_stats, relations_without_evidence

from knowco.settings import EXAMPLES_PER_RELATION


def unlearned(database: Database) -> list[str]:
    """Relations nothing is suggested for yet (nothing to learn them from), for the pages to say so."""
    with database.sessions() as session:
        return relations_without_evidence(session)


@dataclass
class RelationProgress:
    relation: str
    examples: int
    target: int = EXAMPLES_PER_RELATION

    @property
    def missing(self) -> int:
        return max(0, self.target - self.examples)


@dataclass
class NextStep:
    text: str
    page: str


@dataclass
class Overview:
    stats: KgStats
    progress: list[RelationProgress]
    active: Optional[Run] = None
    latest: Optional[Run] = None
    next_steps: list[NextStep] = field(default_factory=list)


def _next_steps(stats: KgStats, progress: list[RelationProgress], active: Optional[Run],
                latest: Optional[Run]) -> list[NextStep]:
    steps = []
    if not stats.entities:
        return [NextStep("Import a knowledge graph (TSV, CSV, RDF or JSONL).", "data")]
    short = [p for p in progress if p.missing]
    if short:
        names = ", ".join(p.relation for p in short[:3]) + (" …" if len(short) > 3 else "")
        missing = sum(p.missing for p in short)
        facts = stats.triples.get("accepted", 0)
        steps.append(NextStep(
            f"Your {facts:,} facts already teach the model: you can retrain now. Labelling {missing} more "
            f"examples ({names}), {EXAMPLES_PER_RELATION} per relation, sharpens it." if facts else
            f"Label {missing} more examples ({names}) to reach {EXAMPLES_PER_RELATION} per relation.", "label"))
    if latest is not None and latest.status in ("queued", "running"):
        steps.append(NextStep(f"Training {latest.name} is under way ({latest.progress:.0%}).", "train"))
    elif active is None:
        steps.append(NextStep("Retrain: no model has been trained on this KG yet.", "train"))
    if stats.triples["suggested"]:
        steps.append(NextStep(f"Review {stats.triples['suggested']:,} suggested triples.", "review"))
    if not steps:
        steps.append(NextStep("Everything is reviewed: export the completed KG.", "data"))
    return steps


def statistics(database: Database) -> KgStats:
    with database.sessions() as session:
        return kg_stats(session)


def overview(database: Database) -> Overview:
    with database.sessions() as session:
        stats = kg_stats(session)
        runs = list_runs(session)
        active, latest = active_run(session), (runs[0] if runs else None)
    progress = [RelationProgress(name, counts.total) for name, counts in stats.examples_by_relation.items()]
    return Overview(stats, progress, active, latest, _next_steps(stats, progress, active, latest))
