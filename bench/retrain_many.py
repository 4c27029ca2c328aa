"""A KG of many thin relations, retrained idle: `python -m bench.retrain_many [--relations 200] [--facts 20]`.

Issue 29's target is a retrain under 10 minutes for a KG with 200+ relations and 8 labels each; a KG of 237 thin
relations (1,865 labels) once took 28 minutes, nearly all of it cross-validation folds. The KG is built from
CoDEx-S's `train.tsv` (`../shared/data/codex-s`; nothing here chooses a setting, so the split does not matter):
each relation is split by the kinds of its head and tail ("P27 human→country" is one relation), the most
populated `--relations` of them are kept with up to `--facts` facts each, and each gets 8 labels (6 facts that
hold, 2 triples of the right kinds that do not) drawn by the seed, as the curator benchmark draws them. The
retrain is the worker's own (`knowco.training_job`, the app's defaults).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

from bench.curator import Truth, labels_for
from bench.result_files import environment
from bench.retrain_load import estimate_errors, retrain_seconds, seconds_cell
from knowco.services import Actor, add_triple_label, import_file, open_database
from storage.database import Database

CODEX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "codex-s"
Triple = tuple[str, str, str]


def _kind(description: str) -> str:
    return description.split(",")[0].strip() or "entity"


def thin_kg(relations: int, facts: int, seed: int) -> tuple[list[Triple], dict[str, str], dict[str, str]]:
    """The facts, the entities' kinds and the relations' names of a KG of `relations` relations of up to `facts`
    facts each."""
    kinds = {}
    for line in (CODEX / "entity2textlong.txt").read_text(encoding="utf-8").splitlines():
        entity, description = line.split("\t", 1)
        kinds[entity] = _kind(description)
    label = dict(line.split("\t", 1) for line in
                 (CODEX / "relation2text.txt").read_text(encoding="utf-8").splitlines())
    by_relation: dict[str, list[Triple]] = defaultdict(list)
    for line in (CODEX / "train.tsv").read_text(encoding="utf-8").splitlines():
        head, relation, tail = line.split("\t")
        split = f"{relation}_{kinds.get(head, 'entity')}_{kinds.get(tail, 'entity')}".replace(" ", "-")
        by_relation[split].append((head, split, tail))
    kept, words = [], set()
    for name, _ in Counter({n: len(f) for n, f in by_relation.items()}).most_common():
        # a relation split both ways round ("country to state", "state to country") has the same words, which the
        # label words cannot tell apart: the more populated one is kept
        bag = frozenset(name.replace("-", "_").split("_"))
        if len(kept) < relations and bag not in words:
            kept.append(name)
            words.add(bag)
    rng = random.Random(seed)
    kg: list[Triple] = []
    names = {}
    for name in sorted(kept):
        pool = sorted(by_relation[name])
        rng.shuffle(pool)
        kg += pool[:facts]
        relation, head_kind, tail_kind = name.split("_", 2)
        names[name] = f"{label[relation]} ({head_kind} to {tail_kind})".replace("-", " ")
    entities = {e for h, _, t in kg for e in (h, t)}
    return kg, {e: kinds.get(e, "entity") for e in sorted(entities)}, names


def many_relations_database(folder: Path, relations: int, facts: int, seed: int, actor: Actor) -> tuple[Database, dict]:
    kg, kinds, names = thin_kg(relations, facts, seed)
    directory = folder / "kg"
    directory.mkdir()
    (directory / "train.tsv").write_text("".join("\t".join(t) + "\n" for t in kg), encoding="utf-8")
    (directory / "entity2type.txt").write_text("".join(f"{e}\t{k}\n" for e, k in kinds.items()), encoding="utf-8")
    (directory / "relation2text.txt").write_text("".join(f"{r}\t{n}\n" for r, n in names.items()),
                                                 encoding="utf-8")
    database = open_database(str(folder / "kg.sqlite"))
    import_file(database, actor, directory, "kgdir")
    for (head, relation, tail), holds in labels_for(Truth(kg, set(kg), {}, kinds), seed):
        add_triple_label(database, actor, head, relation, tail, holds)
    return database, {"relations": len(names), "facts": len(kg), "entities": len(kinds)}


def markdown(result: dict, relations: int, facts: int) -> str:
    shape, idle, seed = result["kg"], result["idle"], result["seed"]
    return (f"# A KG of many thin relations, retrained idle (seed {seed})\n\n"
            f"Command: `python -m bench.retrain_many --relations {relations} --facts {facts} --seed {seed}`\n\n"
            f"{shape['relations']} relations, {shape['facts']} facts, {shape['entities']} entities, 8 labels per "
            f"relation (CoDEx-S relations split by their heads' and tails' kinds).\n\n"
            "| retrain + suggest s | threads | text model s | structural model s | suggest s | target s | time-left "
            "estimate off by (at 10 / 25 / 50 % of the steps) |\n|---|---|---|---|---|---|---|\n"
            f"| {idle['seconds']} | {idle['threads']} | {idle['train_seconds']} | {idle['structure_seconds']} | "
            f"{seconds_cell(idle['suggest_seconds'])} | 600 | {estimate_errors(idle)} |\n")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrain_many")
    parser.add_argument("--relations", type=int, default=220)
    parser.add_argument("--facts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path("bench/results/retrain_many.json"))
    args = parser.parse_args()
    shape: dict = {}

    def build(folder: Path, seed: int, actor: Actor) -> Database:
        database, size = many_relations_database(folder, args.relations, args.facts, seed, actor)
        shape.update(size)
        return database

    idle = retrain_seconds(build, args.seed)
    result = {"environment": environment(), "kg": shape, "seed": args.seed, "idle": idle,
              "target_seconds": 600}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(result, args.relations, args.facts), encoding="utf-8")
    print(json.dumps(result["idle"]))
    return 0 if idle["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
