"""Speed of a suggest pass, of the score cache, and of mention detection.

    python -m bench.suggest_speed [--entities 1000] [--relations 20] [--sentences 2000]

Generates a typed KG (5 entity types, each relation from one type to another, 5 facts per entity on average,
10 % of them held back), a corpus of sentences naming its entities, and runs the real suggest job
(`knowco.suggest.suggest`) on SQLite with the default backbone (untrained: speed does not depend on the
weights): a cold pass (every input sent to the model), then a second pass with the same model version (scores
from the cache). Reports candidates, scored inputs per second, and the pre-filter's recall: the share of the
held-back facts that are among the candidates. Separately, mention detection: 10,000 sentences against
10,000 entity names. Writes bench/results/suggest_speed.json and .md.
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from bench.environment import environment, publish, use_configured_threads
from engine import joint
from engine.queue.candidates import candidates
from engine.config import TrainConfig
from engine.mention_index import MentionIndex
from engine.types import RelationSpec
from knowco.services import Actor, import_document, import_file
from knowco.suggest import plan_suggestions, write_suggestions
from storage.database import open_database
from storage.runs import claim, create_run, finish_run
from storage.text_split import tokenize

TYPES = ["drug", "disease", "symptom", "gene", "organ"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "nova", "terra", "luma", "vexa", "zorin", "kiro", "mable",
         "quen", "sora", "tavi", "ulmo", "wren", "xeno", "yara", "zeph"]


def generate_kg(folder: Path, n_entities: int, n_relations: int, rng: random.Random) -> tuple[list, list, dict]:
    entities = [f"{TYPES[i % len(TYPES)]} {rng.choice(WORDS)} {i:04d}" for i in range(n_entities)]
    types = {e: e.split()[0] for e in entities}
    by_type = {t: [e for e in entities if types[e] == t] for t in TYPES}
    relations = [(f"relation_{i:02d}", TYPES[i % 5], TYPES[(i + 1 + i // 5) % 5]) for i in range(n_relations)]
    facts = set()
    while len(facts) < n_entities * 5:
        name, head_type, tail_type = rng.choice(relations)
        facts.add((rng.choice(by_type[head_type]), name, rng.choice(by_type[tail_type])))
    facts = sorted(facts)
    rng.shuffle(facts)
    hidden, kept = facts[: len(facts) // 10], facts[len(facts) // 10:]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.tsv").write_text("".join("\t".join(f) + "\n" for f in kept), encoding="utf-8")
    (folder / "dev.tsv").write_text("", encoding="utf-8")
    (folder / "test.tsv").write_text("", encoding="utf-8")
    (folder / "entity2text.txt").write_text("".join(f"{e}\t{e}\n" for e in entities), encoding="utf-8")
    (folder / "entity2type.txt").write_text("".join(f"{e}\t{types[e]}\n" for e in entities), encoding="utf-8")
    (folder / "relation2text.txt").write_text("".join(f"{r}\t{r.replace('_', ' ')}\n" for r, _, _ in relations),
                                              encoding="utf-8")
    return kept, hidden, types


def corpus(entities: list[str], n: int, rng: random.Random) -> str:
    return "\n".join(f"In {rng.randint(1990, 2025)} , {rng.choice(entities)} was linked to {rng.choice(entities)} "
                     f"in a {rng.choice(WORDS)} study ." for _ in range(n))


def mention_detection(n_names: int, n_sentences: int, rng: random.Random) -> dict:
    names = sorted({f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}" for i in range(n_names)})
    started = time.perf_counter()
    index = MentionIndex(((name, name) for name in names), tokenize)
    build = time.perf_counter() - started
    sentences = [f"The {rng.choice(WORDS)} of {rng.choice(names)} , unlike {rng.choice(names).upper()} , was "
                 f"reported in {rng.randint(1, 99)} cases .".split() for _ in range(n_sentences)]
    started = time.perf_counter()
    found = sum(len(index.find(tokens)) for tokens in sentences)
    return {"names": len(names), "sentences": n_sentences, "mentions_found": found,
            "build_seconds": round(build, 3), "match_seconds": round(time.perf_counter() - started, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--relations", type=int, default=20)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--max-pairs", type=int, default=5000)
    args = parser.parse_args()
    use_configured_threads()
    rng = random.Random(7)
    results = {"config": vars(args), "environment": environment(("torch", "transformers", "pyahocorasick"))}
    results["mention_detection"] = mention_detection(10_000, 10_000, rng)
    print(results["mention_detection"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kept, hidden, types = generate_kg(folder / "kg", args.entities, args.relations, rng)
        database = open_database(str(folder / "kg.sqlite"))
        import_file(database, Actor("bench", "admin"), folder / "kg", "kgdir")
        import_document(database, Actor("bench", "admin"), "corpus.txt", corpus(sorted(types), args.sentences, rng).encode())
        relation_names = sorted({r for _, r, _ in kept})
        per = candidates(kept, types, {r: (None, None) for r in relation_names}, set(kept), args.max_pairs)
        pool = {(h, c.relation, t) for c in per for h, t in c.pairs}
        results["prefilter_recall"] = round(sum(f in pool for f in hidden) / len(hidden), 4)
        model = joint.build([RelationSpec(r, r.replace("_", " ")) for r in relation_names], TrainConfig())
        with database.transaction() as session:
            run = create_run(session, backbone="splade-tiny", hyperparameters={}, seed=0, user="bench")
            claim(session, run.id, os.getpid())
            finish_run(session, run.id, "succeeded", "bench", checkpoint_path=str(folder / "none"))
        passes = []
        for label in ("cold", "warm (same model version)"):
            plan = plan_suggestions(database, model, run.id, run.name, max_pairs=args.max_pairs)
            with database.transaction() as session:
                report = write_suggestions(session, plan, "bench")
            passes.append({"pass": label, **report.as_dict(),
                           "inputs_per_second": round(report.model_calls / report.seconds) if report.model_calls else None})
            print(passes[-1], flush=True)
        results["passes"] = passes
        database.dispose()
    m = results["mention_detection"]
    lines = ["# Suggest speed", "", f"Command: `python -m bench.suggest_speed` ({results['environment']['cpu_count']} "
             f"CPUs, {results['environment']['when']}); SQLite; default backbone (splade-tiny).", "",
             f"KG: {args.entities:,} entities of 5 types, {args.relations} relations, {len(kept):,} facts "
             f"(+{len(hidden):,} held back), {args.sentences:,} sentences.", "",
             "| pass | candidate triples | scored pairs | mention pairs | inputs sent to the model | seconds | "
             "inputs / s |", "|---|---|---|---|---|---|---|"]
    for p in passes:
        lines.append(f"| {p['pass']} | {p['candidates']:,} | {p['scored_pairs']:,} | {p['mention_pairs']:,} | "
                     f"{p['model_calls']:,} | {p['seconds']:.1f} | {p['inputs_per_second'] or '—'} |")
    lines += ["", f"Pre-filter (types + two-hop pairs first, at most {args.max_pairs:,} pairs per relation): "
              f"{results['prefilter_recall']:.1%} of the held-back facts are candidates.", "",
              f"Mention detection: {m['sentences']:,} sentences against {m['names']:,} names: automaton built in "
              f"{m['build_seconds']:.2f} s, matched in {m['match_seconds']:.2f} s ({m['mentions_found']:,} mentions; "
              "target < 10 s)."]
    publish("suggest_speed", results, lines)


if __name__ == "__main__":
    main()
