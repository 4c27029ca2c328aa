"""`python -m knowco`: the command-line contract of DESIGN.md (import, export, stats, demo, bench)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from storage.audit import default_user
from storage.database import StorageError, open_database
from storage.exporters import EXPORT_FORMATS, export_path
from storage.importers import FORMATS, ImportFailed, import_path
from storage.rdf_vocab import DEFAULT_BASE
from storage.stats import KgStats, kg_stats

from knowco.benchmarks.cli import BenchError, add_bench_parser, run_bench
from knowco.demo import seed_demo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowco", description="KnowCo knowledge-graph curation.")
    parser.add_argument("--db", help="SQLite file or database URL (default: $KNOWCO_DATABASE_URL or ./knowco.sqlite)")
    parser.add_argument("--user", default=None, help="curator name recorded on every write (default: OS user)")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on unexpected errors")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("import", help="import a KG directory, TSV/CSV triples, RDF or JSONL sentences")
    p.add_argument("path", type=Path)
    p.add_argument("--format", default="auto", choices=FORMATS)

    p = verbs.add_parser("export", help="write the graph as CSV, Turtle, N-Triples or JSON-LD")
    p.add_argument("out", type=Path)
    p.add_argument("--format", choices=EXPORT_FORMATS, default=None, help="default: from the file name")
    p.add_argument("--include-suggested", action="store_true")
    p.add_argument("--include-rejected", action="store_true")
    p.add_argument("--base", default=DEFAULT_BASE, help=f"namespace for RDF IRIs (default {DEFAULT_BASE})")

    p = verbs.add_parser("stats", help="counts of entities, relations, triples and examples")
    p.add_argument("--json", action="store_true")

    verbs.add_parser("demo", help="load the bundled demo KG into the database")

    add_bench_parser(verbs)
    return parser


def _print_stats(stats: KgStats) -> None:
    print(f"entities   {stats.entities}")
    print(f"relations  {stats.relations}")
    print("triples    " + ", ".join(f"{n} {status}" for status, n in stats.triples.items()))
    print(f"sentences  {stats.sentences} in {stats.documents} documents")
    labelled = {name: c for name, c in stats.examples_by_relation.items() if c.total}
    if labelled or stats.no_relation_sentences:
        print("examples by relation (positive triples / negative triples / sentences):")
        for name, counts in labelled.items():
            print(f"  {name}: {counts.positive_triples} / {counts.negative_triples} / {counts.sentences}")
        if stats.no_relation_sentences:
            print(f"  (no relation): {stats.no_relation_sentences} sentences")


def run(args: argparse.Namespace) -> int:
    if args.verb == "bench":
        return run_bench(args)
    user = args.user or default_user()
    database = open_database(args.db)
    try:
        if args.verb == "import":
            report = import_path(database, args.path, args.format, user=user)
            print(f"{args.path}: {report.summary()}")
        elif args.verb == "export":
            count = export_path(database, args.out, args.format, include_suggested=args.include_suggested,
                                include_rejected=args.include_rejected, base=args.base)
            unit = "rows" if args.out.suffix.lower() == ".csv" or args.format == "csv" else "RDF statements"
            print(f"wrote {count} {unit} to {args.out}")
        elif args.verb == "stats":
            with database.sessions() as session:
                stats = kg_stats(session)
            if args.json:
                print(json.dumps(stats.as_dict(), indent=2))
            else:
                _print_stats(stats)
        elif args.verb == "demo":
            for report in seed_demo(database, user):
                print(f"{report.path}: {report.summary()}")
    finally:
        database.dispose()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except (ImportFailed, StorageError, BenchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        reason = " ".join(str(exc).split())[:500]
        print(f"error: {type(exc).__name__}: {reason} (run with --debug for details)", file=sys.stderr)
        return 1
