"""Bulk import and export speed of the KG store.

    python -m bench.import_speed [--postgres URL] [--triples 100000]

Measures, on a fresh database each: the UMLS directory import (target < 10 s), a generated TSV of 100,000
triples (target < 60 s), re-importing that TSV (idempotent, nothing written), and exporting UMLS to Turtle
and CSV. Writes bench/results/import_speed.json and .md.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.environment import ROOT, environment, write_results
from knowco.services import Actor, export_file, import_file
from storage.database import Database, open_database

BENCH = Actor("bench", "admin")
UMLS = ROOT.parent / "shared" / "data" / "umls"


def generate_tsv(path: Path, triples: int, seed: int = 7) -> None:
    """A KG shaped like a real one: 10% as many entities as triples, 50 relations, skewed degrees."""
    rng = random.Random(seed)
    entities = [f"entity_{i:06d}" for i in range(max(10, triples // 10))]
    relations = [f"relation_{i:02d}" for i in range(50)]
    seen = set()
    with path.open("w", encoding="utf-8") as handle:
        while len(seen) < triples:
            head = entities[min(int(rng.paretovariate(1.2)) - 1, len(entities) - 1) if rng.random() < 0.3
                            else rng.randrange(len(entities))]
            triple = (head, rng.choice(relations), rng.choice(entities))
            if triple[0] != triple[2] and triple not in seen:
                seen.add(triple)
                handle.write("\t".join(triple) + "\n")


class Backend:
    """Fresh databases on one backend: SQLite files in a temp dir, or new databases on a PostgreSQL server."""

    def __init__(self, workdir: Path, postgres: str | None) -> None:
        self.workdir, self.postgres, self.made = workdir, postgres, []
        self.name = "postgresql" if postgres else "sqlite"

    def fresh(self) -> Database:
        if not self.postgres:
            return open_database(str(self.workdir / f"{uuid.uuid4().hex[:8]}.sqlite"))
        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.made.append(name)
        return open_database(make_url(self.postgres).set(database=name).render_as_string(hide_password=False))

    def cleanup(self) -> None:
        if not self.postgres:
            return
        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def measure(backend: Backend, workdir: Path, tsv: Path) -> dict:
    runs = {}
    database = backend.fresh()
    seconds, report = timed(lambda: import_file(database, BENCH, UMLS))
    runs["umls_import"] = {"seconds": round(seconds, 3), "created": report.created, "target_seconds": 10}
    for fmt, suffix in (("turtle", "ttl"), ("csv", "csv")):
        seconds, count = timed(lambda: export_file(database, BENCH, workdir / f"umls.{suffix}", fmt))
        runs[f"umls_export_{fmt}"] = {"seconds": round(seconds, 3), "written": count}
    database.dispose()

    database = backend.fresh()
    seconds, report = timed(lambda: import_file(database, BENCH, tsv))
    runs["tsv_import"] = {"seconds": round(seconds, 3), "created": report.created, "target_seconds": 60}
    seconds, report = timed(lambda: import_file(database, BENCH, tsv))
    runs["tsv_reimport"] = {"seconds": round(seconds, 3), "created": report.created}
    database.dispose()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL server URL (databases are made and dropped)")
    parser.add_argument("--triples", type=int, default=100_000)
    args = parser.parse_args()
    results = {"config": {"triples": args.triples, "umls": str(UMLS)},
               "environment": environment(("sqlalchemy", "rdflib", "pandas", "psycopg")), "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        tsv = workdir / "generated.tsv"
        generate_tsv(tsv, args.triples)
        for postgres in [None] + ([args.postgres] if args.postgres else []):
            backend = Backend(workdir, postgres)
            try:
                results["backends"][backend.name] = measure(backend, workdir, tsv)
            finally:
                backend.cleanup()
    lines = ["# Import / export speed", "", f"Command: `python -m bench.import_speed{' --postgres URL' if args.postgres else ''}`"
             f" ({results['environment']['cpu_count']} CPUs, {results['environment']['when']})", "",
             "| backend | step | seconds | target |", "|---|---|---|---|"]
    for name, runs in results["backends"].items():
        for step, run in runs.items():
            target = f"< {run['target_seconds']} s" if "target_seconds" in run else ""
            lines.append(f"| {name} | {step} | {run['seconds']:.2f} | {target} |")
    json_path, _ = write_results("import_speed", results, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {json_path}")


if __name__ == "__main__":
    main()
