"""SemEval-like directories (train/val/test JSON lines) as engine examples, and K-shot sampling."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from storage.importers.jsonl import parse_jsonl
from storage.importers.records import ImportFailed
from engine.verbalizer import label_words
from storage.naming import is_no_relation

from engine.types import RelationSpec, SentenceExample


@dataclass
class ReData:
    relations: list[RelationSpec]
    has_no_relation: bool
    train: list[SentenceExample]
    test: list[SentenceExample]


def _split(directory: Path, names: tuple[str, ...]) -> Optional[Path]:
    for name in names:
        for suffix in (".txt", ".jsonl", ".json"):
            if (directory / f"{name}{suffix}").is_file():
                return directory / f"{name}{suffix}"
    return None


def examples(path: Path) -> list[SentenceExample]:
    batch = parse_jsonl(path, directed_as_order=False)
    return [SentenceExample(tuple(r.tokens), tuple(r.head), tuple(r.tail), r.relation) for r in batch.sentence_examples]


#: the file each split of the protocol measures on: "choose" the validation sentences (settings are chosen on
#: them), "report" the test sentences (read once per change of defaults)
MEASURED_ON = {"choose": ("val", "dev"), "report": ("test",)}


def load_re_dir(directory: Path, split: str = "report") -> ReData:
    """The directory's training sentences and, as `test`, the sentences the protocol's `split` measures on."""
    train_file, test_file = _split(directory, ("train",)), _split(directory, MEASURED_ON[split])
    if train_file is None or test_file is None:
        wanted = " or ".join(f"{name}.txt" for name in MEASURED_ON[split])
        raise ImportFailed(str(directory), None, f"expected files of JSON lines: train.txt and {wanted} (the "
                                                 f"'{split}' split measures on it)")
    train, test = examples(train_file), examples(test_file)
    names = {x.relation for x in train + test if x.relation is not None}
    rel2id = directory / "rel2id.json"
    has_no_relation = any(x.relation is None for x in train + test)
    if rel2id.is_file():
        labels = json.loads(rel2id.read_text(encoding="utf-8"))
        names |= {name for name in labels if not is_no_relation(name)}
        has_no_relation = has_no_relation or any(is_no_relation(name) for name in labels)
    relations = [RelationSpec(name, label_words(name)) for name in sorted(names)]
    return ReData(relations, has_no_relation, train, test)


def k_shot(examples: list[SentenceExample], k: int, seed: int) -> tuple[list[SentenceExample], list[SentenceExample]]:
    """K per label (no relation counts as a label) for training, and a dev split of the same size from the rest."""
    rng = random.Random(seed)
    by_label: dict[Optional[str], list[SentenceExample]] = {}
    for example in examples:
        by_label.setdefault(example.relation, []).append(example)
    train, dev = [], []
    for label in sorted(by_label, key=lambda name: (name is None, name or "")):
        pool = list(by_label[label])
        rng.shuffle(pool)
        train += pool[:k]
        dev += pool[k : 2 * k]
    return train, dev
