"""A big KG through the app's own retrain and suggest: `python -m bench.scale [--entities 100000]`.

Generates an untyped KG (ids and names only, no descriptions, no types) of `--entities` entities in groups:
each relation links one group to another, so the kinds the retrain learns from the graph are real, and one
relation is symmetric with a share of its reverses missing. A few facts per entity, `--labels` true facts per
relation entered as curator labels, and one relation that has labels and no fact (the pre-filter then has no
structural model for it and walks pairs by proximity). Then `train_in_foreground` (the worker's function) with
the app's defaults, and what a curator is told: the run's message, how many pairs the pre-filter looked at of
how many were possible, the candidates and the queue. Reports wall time and the process's peak memory; writes
bench/results/scale.json and .md.
"""
from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from bench.environment import environment, publish, use_configured_threads
from bench.queue import retrain_and_read
from knowco.services import Actor, TrainOptions, import_file, open_database

GROUPS = 5
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "nova", "terra", "luma", "vexa", "zorin", "kiro", "mable"]


def generate(folder: Path, n_entities: int, n_relations: int, facts_per_entity: float, rng: random.Random
             ) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The KG directory (train.tsv and entity names) and its facts; the last relation has none."""
    entities = [f"e{i:06d}" for i in range(n_entities)]
    group = {e: i % GROUPS for i, e in enumerate(entities)}
    members = [[e for e in entities if group[e] == g] for g in range(GROUPS)]
    relations = [f"relation_{i:02d}" for i in range(n_relations)]
    ends = {r: (i % GROUPS, (i + 1 + i // GROUPS) % GROUPS) for i, r in enumerate(relations)}
    symmetric = relations[0]
    ends[symmetric] = (0, 0)
    facts: set[tuple[str, str, str]] = set()
    wanted = int(n_entities * facts_per_entity)
    with_facts = relations[:-1]
    while len(facts) < wanted:
        relation = rng.choice(with_facts)
        head_group, tail_group = ends[relation]
        head, tail = rng.choice(members[head_group]), rng.choice(members[tail_group])
        if head != tail:
            facts.add((head, relation, tail))
            if relation == symmetric and rng.random() < 0.9:
                facts.add((tail, relation, head))
    facts_sorted = sorted(facts)
    folder.mkdir(parents=True)
    (folder / "train.tsv").write_text("".join("\t".join(f) + "\n" for f in facts_sorted), encoding="utf-8")
    (folder / "entity2text.txt").write_text(
        "".join(f"{e}\t{WORDS[i % len(WORDS)]} {e}\n" for i, e in enumerate(entities)), encoding="utf-8")
    (folder / "relations.txt").write_text("".join(r + "\n" for r in relations), encoding="utf-8")
    return facts_sorted, relations


def run_scale(entities: int, relations: int, facts_per_entity: float, labels: int, seed: int,
              options: TrainOptions) -> dict:
    """Generate the KG, import it, label it, retrain and suggest as the worker does; what it took."""
    rng = random.Random(seed)
    actor = Actor("bench", "admin")
    with tempfile.TemporaryDirectory() as tmp:
        facts, names = generate(Path(tmp) / "kg", entities, relations, facts_per_entity, rng)
        database = open_database(str(Path(tmp) / "kg.sqlite"))
        try:
            started = time.perf_counter()
            import_file(database, actor, Path(tmp) / "kg", "kgdir")
            imported = time.perf_counter() - started
            by_relation: dict[str, list] = {}
            for fact in facts:
                by_relation.setdefault(fact[1], []).append(fact)
            labelled = [f for r in names[:-1] for f in rng.sample(by_relation[r], labels)]
            pool = sorted({h for h, _, _ in facts})
            labelled += [(head, names[-1], tail) for head, tail in (rng.sample(pool, 2) for _ in range(labels))]
            run, seconds, shown = retrain_and_read(database, actor, labelled, options)
        finally:
            database.dispose()
    found = run.metrics.get("suggestions", {})
    return {"entities": entities, "facts": len(facts), "relations": len(names), "labels_per_relation": labels,
            "import_seconds": round(imported, 1), "status": run.status, "run_message": run.message,
            "retrain_and_suggest_seconds": round(seconds, 1),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "prefilter_scored": found.get("prefilter_scored", 0),
            "prefilter_possible": found.get("prefilter_possible", 0),
            "candidates": found.get("candidates", 0), "capped_relations": found.get("capped_relations", []),
            "queue": len(shown), "structure": run.metrics.get("structure", {})}


def markdown(result: dict, environment_: dict) -> list[str]:
    return [f"# A {result['entities']:,}-entity KG through retrain and suggest", "",
            f"Command: `python -m bench.scale --entities {result['entities']}` ({environment_['cpu_count']} CPUs, "
            f"{environment_['when']}); SQLite; default backbone and options.", "",
            f"KG: {result['entities']:,} untyped entities (names only), {result['relations']} relations (one "
            f"symmetric, one with labels and no fact), {result['facts']:,} facts, {result['labels_per_relation']} "
            "labels per relation.", "",
            "| status | import s | retrain + suggest s | peak MB | pairs the pre-filter looked at | possible pairs "
            "| candidates | queue |", "|---|---|---|---|---|---|---|---|",
            f"| {result['status']} | {result['import_seconds']} | {result['retrain_and_suggest_seconds']} | "
            f"{result['peak_memory_mb']:,} | {result['prefilter_scored']:,} | {result['prefilter_possible']:,} | "
            f"{result['candidates']:,} | {result['queue']:,} |", "",
            f"The run's message, as the Train page shows it: \"{result['run_message']}\""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--relations", type=int, default=10)
    parser.add_argument("--facts-per-entity", type=float, default=2.0)
    parser.add_argument("--labels", type=int, default=8)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    use_configured_threads()
    result = run_scale(args.entities, args.relations, args.facts_per_entity, args.labels, args.seed,
                       TrainOptions(seed=args.seed))
    found = {"config": vars(args), "environment": environment(("torch", "transformers", "pykeen")), **result}
    print(result, flush=True)
    publish("scale", found, markdown(result, found["environment"]))


if __name__ == "__main__":
    main()
