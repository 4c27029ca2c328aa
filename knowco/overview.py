"""What the Overview page shows: the KG's counts and how far each relation is from 8 labelled examples."""
from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database
from storage.stats import KgStats, kg_stats

from knowco.settings import EXAMPLES_PER_RELATION


@dataclass
class RelationProgress:
    relation: str
    examples: int
    target: int = EXAMPLES_PER_RELATION

    @property
    def missing(self) -> int:
        return max(0, self.target - self.examples)


@dataclass
class Overview:
    stats: KgStats
    progress: list[RelationProgress]


def overview(database: Database) -> Overview:
    with database.sessions() as session:
        stats = kg_stats(session)
    progress = [RelationProgress(name, counts.total) for name, counts in stats.examples_by_relation.items()]
    return Overview(stats=stats, progress=progress)
