"""KG directories (the layout of ../shared/data/umls) as a link-prediction task with its splits."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from storage.importers.kgdir import is_kgdir, parse_kgdir
from storage.importers.records import ImportFailed
from storage.importers.tabular import parse_tabular

from engine.link_prediction import LpTask
from engine.types import EntityText, RelationSpec

Triple = tuple[str, str, str]


@dataclass
class LpData:
    task: LpTask
    train: list[Triple]
    dev: list[Triple]
    test: list[Triple]

    @property
    def known(self) -> set[Triple]:
        """Every true triple of the KG: what filtered ranking removes."""
        return set(self.train) | set(self.dev) | set(self.test)


def _triples(path: Path) -> list[Triple]:
    return [(t.head, t.relation, t.tail) for t in parse_tabular(path, "\t", "tsv").triples]


def load_lp_dir(directory: Path, train_file: Optional[Path] = None) -> LpData:
    if not is_kgdir(directory):
        raise ImportFailed(str(directory), None, "expected a KG directory with train.tsv, dev.tsv and test.tsv")
    batch = parse_kgdir(directory)
    entities = {name: EntityText(name, record.label or name, record.description)
                for name, record in batch.entities.items()}
    relations = [RelationSpec(name, record.label or name) for name, record in sorted(batch.relations.items())]
    dev_file = next((directory / n for n in ("dev.tsv", "valid.tsv") if (directory / n).is_file()), None)
    train = _triples(train_file or directory / "train.tsv")
    missing = {e for h, _, t in train for e in (h, t)} - set(entities)
    if missing:
        raise ImportFailed(str(train_file), None, f"{len(missing)} entities are not in {directory}, e.g. {min(missing)!r}")
    return LpData(LpTask(entities, relations), train, _triples(dev_file) if dev_file else [],
                  _triples(directory / "test.tsv"))


def per_relation_sample(triples: list[Triple], k: int, seed: int) -> list[Triple]:
    """Up to `k` triples per relation: the few-shot protocol's dev split, the same size as the training set."""
    by_relation: dict[str, list[Triple]] = defaultdict(list)
    for triple in triples:
        by_relation[triple[1]].append(triple)
    rng = random.Random(seed)
    sample = []
    for relation in sorted(by_relation):
        pool = sorted(by_relation[relation])
        rng.shuffle(pool)
        sample += pool[:k]
    return sample
