"""`python -m knowco`: the command-line contract of DESIGN.md (import, export, stats, demo, train, suggest, backup,
restore, bench) and `label`, so the whole loop (import, label, train, suggest, export) runs without the app; and
`token` and `serve-api`, the HTTP API's (`knowco.api`); `worker`, a retrain worker on any host."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import knowco.services as services
from knowco.services import (
    BACKGROUND_RERANK_ENV,
    CURATOR_ERRORS,
    DEFAULT_BASE,
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    ROLES,
    Actor,
    Database,
    KgStats,
    TrainOptions,
    accounts_path,
    add_account,
    add_triple_label,
    backup,
    export_file,
    import_file,
    import_triple_labels,
    open_database,
    report_internal,
    restore,
    seed_demo,
    settings,
    statistics,
)

#: `serve-api`'s processes by default: one per CPU (at most this many)
MAX_API_WORKERS = 4
API_WORKERS = max(1, min(MAX_API_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else os.cpu_count() or 1))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowco", description="KnowCo knowledge-graph curation.")
    parser.add_argument("--db", help="SQLite file or database URL (default: $KNOWCO_DATABASE_URL or ./knowco.sqlite)")
    parser.add_argument("--user", default=None, help="curator name recorded on every write (default: OS user)")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on unexpected errors")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = verbs.add_parser("import", help="import a KG directory, TSV/CSV triples, RDF or JSONL sentences")
    p.add_argument("path", type=Path)
    p.add_argument("--format", default="auto", choices=IMPORT_FORMATS)

    p = verbs.add_parser("export", help="write the graph as CSV, Turtle, N-Triples or JSON-LD")
    p.add_argument("out", type=Path)
    p.add_argument("--format", choices=EXPORT_FORMATS, default=None, help="default: from the file name")
    p.add_argument("--include-suggested", action="store_true")
    p.add_argument("--include-rejected", action="store_true")
    p.add_argument("--base", default=DEFAULT_BASE, help=f"namespace for RDF IRIs (default {DEFAULT_BASE})")

    p = verbs.add_parser("stats", help="counts of entities, relations, triples and examples")
    p.add_argument("--json", action="store_true")

    p = verbs.add_parser("demo", help="load the bundled demo KG into an empty database")
    p.add_argument("--mix", action="store_true", help="also into a database that already holds a KG")

    p = verbs.add_parser("label", help="add curator labels: one triple, or a file of triples or sentences")
    how = p.add_subparsers(dest="how", required=True, metavar="add|import")
    one = how.add_parser("add", help="label one triple as holding (or, with --no, as not holding)")
    one.add_argument("head")
    one.add_argument("relation")
    one.add_argument("tail")
    one.add_argument("--no", action="store_true", help="the triple does not hold")
    many = how.add_parser("import", help="triples from TSV/CSV (head, relation, tail[, holds]) or labelled "
                                         "sentences from JSONL")
    many.add_argument("path", type=Path)

    defaults = TrainOptions()
    p = verbs.add_parser("retract", help="take back an accepted fact (kept as retracted with the reason; undoable "
                                         "on the Review page)")
    p.add_argument("head")
    p.add_argument("relation")
    p.add_argument("tail")
    p.add_argument("--reason", required=True, help="why, in a few words (kept in the history)")

    p = verbs.add_parser("merge", help="merge an entity or relation into another (its triples and labels move; "
                                       "an entity's names become aliases)")
    p.add_argument("kind", choices=("entity", "relation"))
    p.add_argument("source")
    p.add_argument("target")
    p = verbs.add_parser("rename-relation", help="give a relation a new name (and display label)")
    p.add_argument("name")
    p.add_argument("new_name")
    p.add_argument("--label", help="new display label (default: unchanged)")
    p = verbs.add_parser("mark-relation", help="mark a relation functional (one tail per head), one head per "
                                               "tail, or symmetric")
    p.add_argument("name")
    p.add_argument("--functional", choices=("yes", "no"))
    p.add_argument("--one-head-per-tail", choices=("yes", "no"))
    p.add_argument("--symmetric", choices=("yes", "no"))
    p = verbs.add_parser("delete", help="delete an entity or relation with its triples and labels")
    p.add_argument("kind", choices=("entity", "relation"))
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="delete (without it: only say what would go)")

    p = verbs.add_parser("train", help="retrain the model on the labels (in the foreground), then suggest")
    p.add_argument("--model", default=None,
                   help=f"backbone name or path (default: $KNOWCO_MODEL, else {defaults.backbone})")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--stage1-epochs", type=int, default=defaults.stage1_epochs)
    p.add_argument("--stage2-epochs", type=int, default=defaults.stage2_epochs)
    p.add_argument("--lr", type=float, default=defaults.stage2_lr, help="learning rate of stage 2")
    p.add_argument("--kg-items-per-epoch", type=int, default=defaults.kg_items_per_epoch,
                   help="facts, reversals and negatives drawn from the whole KG for each epoch (0: labels only)")
    p.add_argument("--corpus-sentences-per-epoch", type=int, default=defaults.corpus_sentences_per_epoch,
                   help="sentences of the corpus stating accepted facts, drawn for each epoch (0: none)")
    p.add_argument("--no-suggest", action="store_true", help="do not fill the review queue afterwards")

    p = verbs.add_parser("suggest", help="fill the review queue with the active model's missing triples")
    p.add_argument("--relation", help="only this relation (default: all)")
    p.add_argument("--top", type=int, default=None,
                   help="suggestions per relation (default: the active version's, else "
                        f"{defaults.queue.per_relation})")
    p.add_argument("--max-pairs", type=int, default=None,
                   help=f"candidate pairs scored per relation at most (default: the version's, else {defaults.queue.max_pairs})")

    p = verbs.add_parser("backup", help="copy the SQLite database to a new file (online, consistent)")
    p.add_argument("out", type=Path)
    p = verbs.add_parser("restore", help="replace the SQLite database with a backup")
    p.add_argument("source", type=Path)
    p.add_argument("--force", action="store_true", help="replace a database that already holds a KG")

    p = verbs.add_parser("user", help="add or replace a curator account (needed to serve beyond localhost)")
    p.add_argument("action", choices=["add"])
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, default="curator")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    p = verbs.add_parser("token", help="tokens for the HTTP API: add (shown once), revoke, list")
    p.add_argument("action", choices=["add", "revoke", "list"])
    p.add_argument("name", nargs="?", help="what the token is for, e.g. nightly-retrain")
    p.add_argument("--as", dest="acts_as", help="the account name it acts as (default: the token's name)")
    p.add_argument("--role", choices=ROLES, default="curator", help="the role it acts with")

    p = verbs.add_parser("serve-api", help="serve the HTTP API (/v1/...) on the same database as the app")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: localhost only)")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--workers", type=int, default=API_WORKERS,
                   help=f"server processes (default: one per CPU, at most {MAX_API_WORKERS}; here {API_WORKERS}): "
                        "one process answers 8 busy clients at half the rate two do on two cores")

    p = verbs.add_parser("worker", help="train the retrains queued on this PostgreSQL database, one at a time, "
                                        "on this host (the app and the API run with KNOWCO_RETRAIN_WORKERS=queue)")
    p.add_argument("--name", help="how the worker is named in the queue and its log (default: host-pid)")
    p.add_argument("--once", action="store_true", help="train what is queued now, then stop")

    # the benchmarks' own parser reads the rest: the product's command line loads `bench` only when it is called
    p = verbs.add_parser("bench", help="few-shot benchmarks (no database needed); `bench -h` lists them",
                         add_help=False)
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
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


def _add_user(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    add_account(args.name, args.role, password)
    print(f"account {args.name} ({args.role}) saved in {accounts_path()}")
    return 0


def _import(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(f"{args.path}: {import_file(database, actor, args.path, args.format).summary()}")
    return 0


def _export(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    count = export_file(database, actor, args.out, args.format, include_suggested=args.include_suggested,
                        include_rejected=args.include_rejected, base=args.base)
    unit = "rows" if args.out.suffix.lower() == ".csv" or args.format == "csv" else "RDF statements"
    print(f"wrote {count} {unit} to {args.out}")
    return 0


def _stats(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    stats = statistics(database)
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
    else:
        _print_stats(stats)
    return 0


def _demo(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    for report in seed_demo(database, actor, mix=args.mix):
        print(f"{report.path}: {report.summary()}")
    return 0


def _label(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    if args.how == "add":
        label_id = add_triple_label(database, actor, args.head, args.relation, args.tail, not args.no)
        print(f"label {label_id}: {args.head} {args.relation} {args.tail} {'does not hold' if args.no else 'holds'}")
    elif args.path.suffix.lower() == ".jsonl" or args.path.is_dir():
        print(f"{args.path}: {import_file(database, actor, args.path, 'jsonl').summary()}")
    else:
        print(f"{args.path}: {import_triple_labels(database, actor, args.path)} triple labels added")
    return 0


def _retract(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(f"retracted: {services.retract(database, actor, args.head, args.relation, args.tail, args.reason)}")
    return 0


def _merge(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    merge = services.merge_entities if args.kind == "entity" else services.merge_relations
    counts = merge(database, actor, args.source, args.target)
    moved = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing to move"
    print(f"merged {args.kind} {args.source} into {args.target}: {moved}"
          + ("; retrain so that the model learns from the merged facts" if args.kind == "relation" else ""))
    return 0


def _rename_relation(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(f"renamed {args.name} to {services.rename_relation(database, actor, args.name, args.new_name, args.label)}"
          "; retrain so that the model suggests it under its new name")
    return 0


def _mark_relation(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    def flag(value):
        return None if value is None else value == "yes"

    marks = services.mark_relation(database, actor, args.name, functional=flag(args.functional),
                                   symmetric=flag(args.symmetric), one_head_per_tail=flag(args.one_head_per_tail))
    print(f"{args.name}: " + ", ".join(f"{mark.replace('_', ' ')} {'yes' if on else 'no'}" for mark, on in marks.items()))
    several = services.heads_with_several_tails(database, args.name) if marks["functional"] else 0
    if several:
        print(f"note: {several} head{'s have' if several != 1 else ' has'} more than one {args.name} fact already "
              "(nothing was removed)")
    return 0


def _delete(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    footprint = (services.entity_footprint if args.kind == "entity" else services.relation_footprint)(database,
                                                                                                     args.name)
    if not args.yes:
        print(f"would delete {args.kind} {args.name} with {footprint.words()}; add --yes to delete")
        return 1
    delete = services.delete_entity if args.kind == "entity" else services.delete_relation
    print(f"deleted {args.kind} {args.name} with {delete(database, actor, args.name, footprint).words()}")
    return 0


def _train(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    options = TrainOptions(backbone=args.model or settings().model or TrainOptions().backbone, seed=args.seed, stage1_epochs=args.stage1_epochs,
                           stage2_epochs=args.stage2_epochs, stage2_lr=args.lr,
                           kg_items_per_epoch=args.kg_items_per_epoch,
                           corpus_sentences_per_epoch=args.corpus_sentences_per_epoch,
                           suggest_after=not args.no_suggest)
    run = services.train_in_foreground(database, actor, options)
    print(f"{run.name}: {run.status}: {run.message}")
    return 0 if run.status == "succeeded" else 1


def _backup(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(f"backed up {backup(database, actor, args.out)} entities (and everything else) to {args.out}")
    return 0


def _restore(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(f"restored {restore(database, actor, args.source, force=args.force)} entities from {args.source}")
    return 0


def _suggest(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    print(services.suggest(database, actor, relation=args.relation, per_relation=args.top,
                           max_pairs=args.max_pairs).summary())
    return 0


def _token(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    if args.action == "list":
        for row in services.list_tokens(database):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
            print(f"{row.name}\tas {row.actor} ({row.role})\t{state}\t{used}")
        return 0
    if not args.name:
        raise services.TokenError(f"token {args.action} needs the token's name")
    if args.action == "revoke":
        print(services.revoke_token(database, args.name, actor.name))
        return 0
    made = services.add_token(database, args.name, Actor(args.acts_as or args.name, args.role), actor.name)
    print(f"token {args.name} acts as {made.row.actor} ({made.row.role}); it is shown this once, keep it secret:")
    print(made.secret)
    return 0


def _serve_api(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    import uvicorn

    from knowco.api import create_app

    if args.workers < 1:
        raise services.OptionsError("--workers needs at least one server process")
    os.environ[BACKGROUND_RERANK_ENV] = "1"  # a verdict's answer never waits for the re-rank it triggers
    if args.workers == 1:
        uvicorn.run(create_app(database), host=args.host, port=args.port, log_level="info")
        return 0
    os.environ[services.DATABASE_ENV] = database.url  # each process opens it again (`app_from_settings`)
    database.dispose()
    uvicorn.run("knowco.api:app_from_settings", factory=True, workers=args.workers, host=args.host,
                port=args.port, log_level="info")
    return 0


def _worker(database: Database, actor: Actor, args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    services.retrain_worker(database, name=args.name, once=args.once,
                            say=lambda message: print(message, file=sys.stderr, flush=True))
    return 0


VERBS = {"import": _import, "export": _export, "stats": _stats, "demo": _demo, "label": _label, "retract": _retract,
         "merge": _merge, "rename-relation": _rename_relation,
         "mark-relation": _mark_relation, "delete": _delete, "train": _train,
         "backup": _backup, "restore": _restore, "suggest": _suggest, "token": _token, "serve-api": _serve_api,
         "worker": _worker}


def _bench(args: argparse.Namespace) -> int:
    from bench.cli import BenchError, parse_bench, run_bench

    try:
        return run_bench(parse_bench(args.bench_args))
    except BenchError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.verb == "bench":
        return _bench(args)
    if args.verb == "user":
        return _add_user(args)
    config = settings().with_flags(database=args.db, user=args.user)
    actor = Actor(config.default_user(), "admin")  # whoever runs the command line operates the installation
    database = open_database(config.database)
    try:
        return VERBS[args.verb](database, actor, args)
    finally:
        database.dispose()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args, unread = parser.parse_known_args(argv)
    if args.verb == "bench":  # options such as `bench -h` are the benchmarks' parser's to read
        args.bench_args = unread + args.bench_args
    elif unread:
        parser.error(f"unrecognized arguments: {' '.join(unread)}")
    try:
        code = run(args)
        sys.stdout.flush()  # here, so a reader that stopped reading is met below and not at the interpreter's exit
        return code
    except CURATOR_ERRORS as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped reading (`stats | head -1`): nothing to report; stdout is pointed at devnull so the
        # interpreter's own flush at exit does not raise again (Python's documented idiom)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: {report_internal(exc, args.verb)} (run with --debug to see it here)", file=sys.stderr)
        return 1
