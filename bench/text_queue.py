"""Suggestions read from text, as a curator meets them: `python -m knowco bench text --data SEMEVAL_DIR`.

A SemEval-like directory becomes what a curator would hold: a KG of the train split's facts (each sentence's
pair and relation, a directed label `R(e2,e1)` written as `R` from the second mention to the first, as the
importer does), whose entities are the train facts' arguments and nothing else, `--labels` labelled sentences
per relation (and as many stating no relation) imported as a JSONL file, and the measured sentences uploaded as
a plain-text document (`--corpus train+measured` uploads the train split's sentences too, so the held-out facts
the combiner is fitted on have sentences). The protocol's `--split` says which sentences are measured:
`choose` the validation split (settings may be chosen on it; test is never read), `report` the test split.
Then the app's own retrain and suggest (`train_in_foreground`, the worker's function) with the app's defaults.

The suggestions with sentence evidence are compared with the measured split's facts whose two arguments are KG
entities (a curator's KG never holds the names of every argument a new document mentions): precision, recall,
and of those whose relation and pair are a gold fact's, how many point the gold way. A gold fact with an
argument the KG does not hold is counted in its own column, "new entity, not linkable": no mention detection
can find it, and an earlier version of this benchmark wrote every test argument into the KG (1,249 of 3,162
SemEval test names occur in no train sentence). Then *Suggest now* with every text finding let in
(`min_text=0`) ranks all of them by confidence: the precision where that ranking reaches a given recall says
how well the confidence orders what the text states, whatever threshold the queue uses. Only suggestions whose
two entities are mentioned together in a measured sentence are counted.

Resumable: seeds already in the result file are skipped.
"""
from __future__ import annotations

import json
import random
import resource
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from bench.result_files import ResultFile
from engine.mention_index import MentionIndex
from engine.text_candidates import mention_pairs
from storage.importers.jsonl import parse_jsonl
from storage.importers.records import SentenceExampleRecord
from storage.text_split import tokenize
from knowco.services import (Actor, TrainOptions, import_document, import_file, open_database, queue, suggest,
                             train_in_foreground)

Triple = tuple[str, str, str]
CORPORA = ("measured", "train+measured")
#: the sentences each split of the protocol measures on, and what that means for the figures
MEASURED = {"choose": "val.txt", "report": "test.txt"}
PROTOCOL = {"choose": "measured on the validation sentences: settings may be chosen on these figures; test never "
                      "read",
            "report": "measured on the test sentences, read once to report: nothing is chosen on these figures"}
#: the recall of text suggestions `bench.suggest_quality` measured before the queue had a combiner: the
#: ranking's precision is read where it reaches this recall
RECALL_BEFORE = 0.0531


def _records(path: Path) -> list[SentenceExampleRecord]:
    return parse_jsonl(path).sentence_examples


def _fact(record: SentenceExampleRecord) -> Optional[Triple]:
    return None if record.relation is None else (record.head_name, record.relation, record.tail_name)


def direction_counts(predicted: set[Triple], gold: set[Triple]) -> tuple[int, int]:
    """(right, reversed): predicted triples equal to a gold triple, and those whose reverse is one."""
    right = sum(1 for t in predicted if t in gold)
    reversed_ = sum(1 for h, r, t in predicted if (h, r, t) not in gold and (t, r, h) in gold)
    return right, reversed_


def ranking_at_recall(ranked: list[Triple], gold: set[Triple], recall: float) -> dict:
    """The shortest head of `ranked` whose recall of `gold` reaches `recall`: its length, precision and
    direction counts (or the whole ranking, where it never gets there)."""
    wanted, hits, cut = recall * len(gold), 0, len(ranked)
    for i, triple in enumerate(ranked):
        hits += triple in gold
        if hits >= wanted:
            cut = i + 1
            break
    head = set(ranked[:cut])
    right, wrong = direction_counts(head, gold)
    return {"findings": len(ranked), "recall": round(len(head & gold) / max(1, len(gold)), 4), "length": cut,
            "precision": round(len(head & gold) / max(1, cut), 4), "gold_direction": right, "reversed_direction": wrong}


def _labels(train: list[SentenceExampleRecord], per_relation: int, seed: int) -> list[SentenceExampleRecord]:
    """`per_relation` sentences of each relation and as many stating none, drawn with `seed`."""
    by_relation: dict[Optional[str], list[SentenceExampleRecord]] = defaultdict(list)
    for record in train:
        by_relation[record.relation].append(record)
    rng = random.Random(seed)
    chosen = []
    for relation in sorted(by_relation, key=lambda name: (name is None, name or "")):
        chosen += rng.sample(by_relation[relation], min(per_relation, len(by_relation[relation])))
    return chosen


def _jsonl(records: list[SentenceExampleRecord]) -> str:
    return "".join(json.dumps({"token": r.tokens, "h": {"name": r.head_name, "pos": list(r.head)},
                               "t": {"name": r.tail_name, "pos": list(r.tail)}, "relation": r.relation or "Other"})
                   + "\n" for r in records)


def kg_entities(train: list[SentenceExampleRecord]) -> set[str]:
    """The KG's entities: the arguments of the train split's facts, and nothing of the measured sentences."""
    return {e for fact in map(_fact, train) if fact for e in (fact[0], fact[2])}


def _kg(folder: Path, train: list[SentenceExampleRecord]) -> Path:
    """The KG directory a curator would import: the train split's facts and their arguments as entities."""
    folder.mkdir()
    facts = sorted({fact for fact in map(_fact, train) if fact})
    (folder / "train.tsv").write_text("".join("\t".join(f) + "\n" for f in facts), encoding="utf-8")
    (folder / "entities.txt").write_text("".join(n + "\n" for n in sorted(kg_entities(train))), encoding="utf-8")
    return folder


def _retrain_and_read(train: list, test: list, labels: int, seed: int, corpus: str, options: TrainOptions):
    """A new database with the KG, the labels and the documents; the app's retrain; the queue as shown and
    every text finding (*Suggest now* letting all in). Returns (run, seconds, shown, everything)."""
    actor = Actor("bench", "admin")
    with tempfile.TemporaryDirectory() as tmp:
        database = open_database(str(Path(tmp) / "kg.sqlite"))
        try:
            import_file(database, actor, _kg(Path(tmp) / "kg", train), "kgdir")
            labelled = Path(tmp) / "labels.jsonl"
            labelled.write_text(_jsonl(_labels(train, labels, seed)), encoding="utf-8")
            import_file(database, actor, labelled, "jsonl")
            documents = [("measured.txt", test)] + ([("train.txt", train)] if corpus == "train+measured" else [])
            for name, records in documents:
                import_document(database, actor, name, "".join(" ".join(r.tokens) + "\n" for r in records).encode())
            started = time.perf_counter()
            run = train_in_foreground(database, actor, options)
            seconds = time.perf_counter() - started
            shown = queue(database, limit=1_000_000)
            suggest(database, actor, min_text=0.0)
            everything = queue(database, limit=1_000_000)
        finally:
            database.dispose()
    if run.status != "succeeded":
        raise RuntimeError(f"seed {seed}: the retrain {run.status}: {run.message}")
    return run, seconds, shown, everything


def _pairs_in_test(entities: set[str], test: list) -> set[frozenset]:
    """The pairs of KG entities some measured sentence mentions together."""
    index = MentionIndex(((n, n) for n in sorted(entities)), tokenize)
    return {frozenset((p.head.entity, p.tail.entity)) for p in mention_pairs(enumerate(r.tokens for r in test), index)}


def run_seed(directory: Path, labels: int, seed: int, corpus: str, options: TrainOptions,
             split: str = "choose") -> dict:
    train, test = _records(directory / "train.txt"), _records(directory / MEASURED[split])
    known = {fact for fact in map(_fact, train) if fact}
    entities = kg_entities(train)
    stated = {fact for fact in map(_fact, test) if fact} - known
    gold = {f for f in stated if f[0] in entities and f[2] in entities}
    run, seconds, shown, everything = _retrain_and_read(train, test, labels, seed, corpus, options)
    in_test = _pairs_in_test(entities, test)
    all_text = [(s.head, s.relation, s.tail) for s in shown if s.opinions.get("sentences")]
    from_text = {t for t in all_text if frozenset((t[0], t[2])) in in_test}
    ranked = [(s.head, s.relation, s.tail) for s in everything  # most confident first
              if s.opinions.get("sentences") and frozenset((s.head, s.tail)) in in_test]
    hits = len(from_text & gold)
    right, wrong = direction_counts(from_text, gold)
    return {"seed": seed, "split": split, "labels_per_relation": labels, "corpus": corpus, "gold": len(gold),
            "new_entity": len(stated) - len(gold),
            "queue": len(shown), "all_text_suggestions": len(all_text), "text_suggestions": len(from_text),
            "correct": hits,
            "precision": round(hits / max(1, len(from_text)), 4), "recall": round(hits / max(1, len(gold)), 4),
            "gold_direction": right, "reversed_direction": wrong,
            "direction_share": round(right / max(1, right + wrong), 4),
            "ranking": ranking_at_recall(ranked, gold, RECALL_BEFORE),
            "retrain_and_suggest_seconds": round(seconds, 1),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "run_message": run.message, "combiner": run.metrics.get("combiner", {}),
            "suggest": run.metrics.get("suggestions", {})}


def markdown(name: str, commands: list[str], runs: list[dict]) -> str:
    lines = [f"# Suggestions read from text on {name}", "", "Commands: " + ", ".join(f"`{c}`" for c in commands), "",
             "| seed | corpus | facts stated (linkable) | new entity, not linkable | text suggestions | correct | "
             "precision | recall | gold way | reversed | share | retrain + suggest s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["corpus"], r["seed"])):
        lines.append(f"| {r['seed']} | {r['corpus']} | {r['gold']} | {r.get('new_entity', '')} | "
                     f"{r['text_suggestions']} | {r['correct']} | {r['precision']} | "
                     f"{r['recall']} | {r['gold_direction']} | {r['reversed_direction']} | {r['direction_share']} | "
                     f"{r['retrain_and_suggest_seconds']} |")
    lines += ["", f"Every text finding ranked by its confidence (*Suggest now* letting all in), read where the "
              f"ranking first reaches recall {RECALL_BEFORE} (the text suggestions' recall before the combiner):", "",
              "| seed | corpus | findings | length | precision | recall | gold way | reversed |",
              "|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["corpus"], r["seed"])):
        k = r.get("ranking")
        if k:
            lines.append(f"| {r['seed']} | {r['corpus']} | {k['findings']} | {k['length']} | {k['precision']} | "
                         f"{k['recall']} | {k['gold_direction']} | {k['reversed_direction']} |")
    return "\n".join(lines) + "\n"


def bench_text(directory: Path, labels: int, seeds: list[int], corpus: str, out: Optional[Path],
               log: Callable[[str], None], options: Optional[TrainOptions] = None, split: str = "choose") -> str:
    results = ResultFile(out, {"task": "text", "data": str(directory), "labels": labels, "seeds": seeds,
                               "split": split, "protocol": PROTOCOL[split], "entities": "the train facts' arguments"})
    done = {(run["seed"], run["corpus"]) for run in results.data["runs"]}
    for seed in seeds:
        if (seed, corpus) in done:
            log(f"seed {seed}, corpus {corpus}: already in {out}")
            continue
        run = run_seed(directory, labels, seed, corpus, replace(options or TrainOptions(), seed=seed), split)
        log(f"seed {seed}: {run}")
        results.add(run)
    runs = results.data["runs"]
    commands = [f"python -m knowco bench text --data {directory} --split {split} --labels {labels} --corpus {kind} --seeds "
                + ",".join(str(r["seed"]) for r in runs if r["corpus"] == kind)
                for kind in CORPORA if any(r["corpus"] == kind for r in runs)]
    text = markdown(directory.name, commands, runs)
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text
