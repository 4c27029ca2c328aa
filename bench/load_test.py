"""Several curators on one database while a suggest job rewrites the queue.

    python -m bench.load_test [--curators 4] [--seconds 20] [--overlap 1] [--postgres URL]

Each curator is a thread with its own connections that, in a loop, reads the queue (the Review page's query),
decides on one of the five best suggestions (accept or reject; several curators often race for the same
one), or labels a random triple. A writer thread replaces the pending queue every two seconds, as a suggest
pass does. Counted: operations per second, p95 latency per operation, conflicts (a curator told that the
suggestion was decided or replaced meanwhile), refusals (a label that already exists), errors (anything
else), and lost updates: a suggestion two curators both believe they decided, or whose stored verdict is
not the winner's. Runs on SQLite (a temp file) and, with --postgres, on a fresh database of that server.
Writes bench/results/load_test.json and .md.

With --overlap N (team review), each curator reads their own queue or asks for "my next items" (and judges
one of those), now and then takes back their last verdict, and a suggestion is decided when N agree. Counted then: lost verdicts (one a curator was told was recorded that is
not stored) and broken rules (a suggestion with N stored verdicts whose status is not the agreed decision, or
not "disputed" where they differ). Writes bench/results/load_test_overlap<N>.json and .md.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.environment import environment, publish
from sqlalchemy import select

from knowco.services import (Actor, accept, add_triple_label, list_relations, my_next_items, queue, reject,
                             seed_demo, set_review_overlap, undo_last)
from storage.database import StorageError, open_database
from storage.labels import LabelError, training_data
from storage.models import Triple, Verdict
from storage.review import ReviewError, replace_suggestions
from storage.team import TeamError
from storage.runs import claim, create_run, finish_run


def _queue(names: list[str], relations: list[str], rng: random.Random, size: int = 400):
    return [(h, rng.choice(relations), t, round(rng.random(), 4))
            for h, t in {(rng.choice(names), rng.choice(names)) for _ in range(size)} if h != t]


def demo_with_queue(database, size: int = 400) -> tuple[list[str], list[str], object]:
    """The demo KG and a queue of about `size` random suggestions from a finished bench run: (entity names,
    relation names, the run)."""
    seed_demo(database, Actor("seeder", "admin"))
    with database.transaction() as session:
        names = sorted(training_data(session).entities)
        relations = [r.name for r in list_relations(database)]
        run = create_run(session, backbone="bench", hyperparameters={}, seed=0, user="bench")
        claim(session, run.id, 0)
        finish_run(session, run.id, "succeeded", "bench", checkpoint_path="/none")
        scored = _queue(names, relations, random.Random(0), size)
        replace_suggestions(session, run.id, scored, "bench", opinions=_opinions(scored, random.Random(1)))
    return names, relations, run


def _opinions(scored: list[tuple[str, str, str, float]], rng: random.Random) -> dict:
    """Opinions like a retrain's, so that verdicts re-rank the queue as they do after a real one (without them
    the verdicts' regression has no rows, and the load tests never ran a re-rank)."""
    return {(h, r, t): {"model": p, "text": round(rng.random(), 4), "graph": round(rng.random(), 4), "fit": 1.0,
                        "margin": round(rng.random(), 4)} for h, r, t, p in scored}


def _team_checks(database, given: dict[tuple[int, str], str], overlap: int) -> tuple[int, int, int]:
    """(lost verdicts, broken rules, suggestions decided or disputed) against what the curators were told."""
    with database.sessions() as session:
        stored = {(v.triple_id, v.curator): v.decision for v in session.scalars(select(Verdict))}
        status = dict(session.execute(select(Triple.id, Triple.status)).all())
    lost = sum(1 for key, decision in given.items() if stored.get(key) != decision)
    by_triple: dict[int, list[str]] = defaultdict(list)
    for (triple_id, _), decision in stored.items():
        by_triple[triple_id].append(decision)
    broken = settled = 0
    for triple_id, decisions in by_triple.items():
        settled += len(decisions) >= overlap
        if len(decisions) >= overlap:
            expected = decisions[0] if len(set(decisions)) == 1 else "disputed"
            broken += status.get(triple_id) != expected or len(decisions) > overlap
        else:
            broken += status.get(triple_id) != "suggested"
    return lost, broken, settled


def run_load(url: str, curators: int, seconds: float, overlap: int = 1) -> dict:
    database = open_database(url)
    names, relations, run = demo_with_queue(database)
    if overlap > 1:
        set_review_overlap(database, Actor("admin", "admin"), overlap)
    latencies: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    wins: dict[int, list[tuple[str, str]]] = defaultdict(list)
    given: dict[tuple[int, str], str] = {}
    labels: dict[str, int] = {}  # a suggestion in words → its id (undo names what it took back in words)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def curator(number: int) -> None:
        rng, me = random.Random(number), Actor(f"curator-{number}", "curator")
        while time.monotonic() < stop:
            team = overlap > 1
            op = rng.choices(["read", "decide", "label", "next", "undo"], weights=[2, 5, 1, team, team / 2])[0]
            started = time.perf_counter()
            outcome = "ok"
            mine = me.name if team else None
            try:
                if op == "read":
                    queue(database, limit=20, curator=mine)
                elif op in ("decide", "next"):
                    pending = (my_next_items(database, me, limit=5) if op == "next"
                               else queue(database, limit=5, curator=mine))
                    if pending:
                        item = rng.choice(pending)
                        verdict = rng.choice(["accepted", "rejected"])
                        (accept if verdict == "accepted" else reject)(database, me, item.id)
                        with lock:
                            given[(item.id, me.name)] = verdict
                            labels[f"{item.head_label} —{item.relation_label}→ {item.tail_label}"] = item.id
                            if overlap == 1:
                                wins[item.id].append((me.name, verdict))
                elif op == "undo":
                    undone = undo_last(database, me)
                    if undone:
                        what = undone.split(": ", 1)[1].split(" (your later verdicts", 1)[0]
                        with lock:
                            given.pop((labels.get(what), me.name), None)
                else:
                    add_triple_label(database, me, rng.choice(names), rng.choice(relations), rng.choice(names),
                                     rng.random() < 0.7)
            except (ReviewError, TeamError):
                outcome = "conflict"
            except LabelError:
                outcome = "refused"
            except StorageError:
                outcome = "busy"
            except Exception as exc:  # counted, not hidden: the figure must be zero
                outcome = f"error: {type(exc).__name__}"
            with lock:
                latencies[op].append(time.perf_counter() - started)
                counts[outcome if outcome != "ok" else op] += 1

    def writer() -> None:
        rng, passes = random.Random(99), 0
        while time.monotonic() < stop:
            try:
                with database.transaction() as session:
                    replace_suggestions(session, run.id, _queue(names, relations, rng), "suggest-job")
                passes += 1
            except StorageError:
                counts["writer busy"] += 1
            time.sleep(2)
        counts["suggest passes"] = passes

    threads = [threading.Thread(target=curator, args=(i,)) for i in range(curators)]
    threads.append(threading.Thread(target=writer))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    lost = 0
    if overlap == 1:
        with database.sessions() as session:
            for triple_id, decided in wins.items():
                row = session.get(Triple, triple_id)
                if len(decided) > 1 or row is None or (row.reviewed_by, row.status) != decided[0]:
                    lost += 1
    lost_verdicts, broken, settled = _team_checks(database, given, overlap)
    database.dispose()
    operations = sum(len(v) for v in latencies.values())
    return {"curators": curators, "overlap": overlap, "seconds": round(elapsed, 1), "operations": operations,
            "operations_per_second": round(operations / elapsed, 1),
            "p95_ms": {op: round(float(np.percentile(v, 95)) * 1000, 1) for op, v in latencies.items()},
            "counts": dict(counts), "verdicts": len(given),
            "decisions": sum(len(v) for v in wins.values()) if overlap == 1 else settled,
            "lost_updates": lost, "lost_verdicts": lost_verdicts, "broken_rules": broken}


@contextmanager
def throwaway_postgres(server: str, prefix: str) -> Iterator[str]:
    """The URL of a new database on this PostgreSQL server, dropped afterwards whatever happened."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--curators", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--overlap", type=int, default=1, help="verdicts each suggestion needs (team review)")
    parser.add_argument("--postgres", help="also run on a fresh database of this PostgreSQL server")
    args = parser.parse_args()
    results = {"config": vars(args), "environment": environment(("sqlalchemy", "psycopg")), "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["backends"]["sqlite"] = run_load(f"sqlite:///{Path(tmp) / 'kg.sqlite'}", args.curators, args.seconds,
                                                 args.overlap)
        print(results["backends"]["sqlite"], flush=True)
    if args.postgres:
        with throwaway_postgres(args.postgres, "knowco_load") as url:
            results["backends"]["postgresql"] = run_load(url, args.curators, args.seconds, args.overlap)
            print(results["backends"]["postgresql"], flush=True)
    overlap = f" --overlap {args.overlap}" if args.overlap > 1 else ""
    lines = ["# Load test" + (f": {args.overlap} verdicts per suggestion" if overlap else ""), "",
             f"Command: `python -m bench.load_test --curators {args.curators} --seconds "
             f"{args.seconds:g}{overlap}{' --postgres URL' if args.postgres else ''}` "
             f"({results['environment']['cpu_count']} CPUs, {results['environment']['when']}).", "",
             "| backend | ops/s | p95 read ms | p95 decide ms | p95 label ms | p95 next items ms | verdicts | "
             "decisions | conflicts told | busy | errors | lost updates | lost verdicts | broken rules |",
             "|---" * 14 + "|"]
    for backend, r in results["backends"].items():
        errors = sum(n for k, n in r["counts"].items() if k.startswith("error"))
        lines.append(f"| {backend} | {r['operations_per_second']} | {r['p95_ms'].get('read', '—')} | "
                     f"{r['p95_ms'].get('decide', '—')} | {r['p95_ms'].get('label', '—')} | "
                     f"{r['p95_ms'].get('next', '—')} | {r['verdicts']} | {r['decisions']} | "
                     f"{r['counts'].get('conflict', 0)} | {r['counts'].get('busy', 0)} | {errors} | "
                     f"{r['lost_updates']} | {r['lost_verdicts']} | {r['broken_rules']} |")
    publish("load_test" + (f"_overlap{args.overlap}" if overlap else ""), results, lines)


if __name__ == "__main__":
    main()
