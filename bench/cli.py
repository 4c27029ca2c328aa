"""The `bench` verb's arguments. The engine (torch, transformers, PyKEEN) is imported only when a benchmark
runs, so the other verbs start fast.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path



class BenchError(Exception):
    """Bad benchmark arguments or data; the message is the one line the user sees."""


def add_bench_parser(verbs) -> None:
    bench = verbs.add_parser("bench", help="few-shot benchmarks (no database needed)")
    tasks = bench.add_subparsers(dest="task", required=True, metavar="TASK")
    p = tasks.add_parser("re", help="relation extraction on a SemEval-like directory")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--k", default="8,16,32", help="examples per label, comma-separated")
    p.add_argument("--seeds", default="13,21,42,87,100")
    p.add_argument("--methods", default="app,knowco,finetune",
                   help="the app's retrain and, beside it in the same run, its baselines")
    p.add_argument("--ablations", default="",
                   help="knowco ablations run at the smallest K (names from engine.config.ABLATIONS); 'all' or '' for none")
    p.add_argument("--split", choices=("choose", "report"), default="choose",
                   help="choose: measure on the validation sentences (test never read); report: on test.txt "
                        "(read once per change of defaults)")
    _common(p)
    p = tasks.add_parser("lp", help="link prediction on a KG directory")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--train", default="", help="training TSV files, comma-separated (default: DATA/train.tsv)")
    p.add_argument("--methods", default="knowco,transe,rotate")
    p.add_argument("--candidates", type=int, default=None,
                   help="rank each query against this many random entities plus the answer, instead of all")
    p.add_argument("--max-test", type=int, default=None, help="evaluate only the first N test triples")
    p.add_argument("--kge-epochs", type=int, default=None, help="TransE/RotatE training epochs")
    _common(p)
    p = tasks.add_parser("queue", help="the app's retrain + suggest on a KG directory, its queue against the facts it was not given")
    p.add_argument("--data", type=Path, required=True, help="KG directory: train.tsv is the KG (with --split report, dev.tsv too), the rest the truth")
    p.add_argument("--labels", type=int, default=8, help="true facts per relation entered as curator labels")
    p.add_argument("--seeds", default="13,21,42")
    p.add_argument("--kge", default="rotate,distmult,complex,transe",
                   help="PyKEEN interactions trained to convergence on the same KG and ranking every candidate, "
                        "beside the app and the reverse rule (default: the app's structure search, ComplEx and "
                        "TransE; '' for the rule alone)")
    p.add_argument("--split", choices=("choose", "report"), default="choose",
                   help="choose: the KG is train.tsv, dev.tsv the truth (test never read); report: the KG is "
                        "train + dev, test.tsv the truth (read once per change of defaults)")
    p.add_argument("--sparse", type=int, default=None, metavar="K",
                   help="keep K facts per relation of the KG (every relation thin); the rest of it is truth too")
    p.add_argument("--out", type=Path, help="result JSON (resumes if it exists; a .md summary beside it)")
    p = tasks.add_parser("text", help="the app's retrain + suggest on a SemEval-like directory: suggestions read "
                                      "from the measured split's sentences against its facts")
    p.add_argument("--data", type=Path, required=True,
                   help="directory with train.txt, val.txt and test.txt (JSON lines)")
    p.add_argument("--labels", type=int, default=8, help="labelled sentences per relation (and stating none)")
    p.add_argument("--seeds", default="13")
    p.add_argument("--split", choices=("choose", "report"), default="choose",
                   help="choose: the validation sentences are measured (test never read); report: test.txt")
    p.add_argument("--corpus", choices=("measured", "train+measured"), default="measured",
                   help="the sentences uploaded as a document: the measured split's, or the train split's too")
    p.add_argument("--out", type=Path, help="result JSON (resumes if it exists; a .md summary beside it)")
    p = tasks.add_parser("curator", help="a curator's own small KGs (bench/data/curator): the queue's precision, "
                                         "calibration and what 30 verdicts teach, against hand-written truth")
    p.add_argument("--split", choices=("choose", "report"), default="choose",
                   help="the half of the KGs: 'choose' (settings are chosen on it) or 'report' (read once to report)")
    p.add_argument("--seeds", default="13,21,42")
    p.add_argument("--out", type=Path, help="result JSON (resumes if it exists; a .md summary beside it)")
    p = tasks.add_parser("audit", help="spot checks of slices of the app's queue, judged from the truth: how often "
                                       "the stated interval contains the rest's true precision")
    p.add_argument("--data", type=Path, required=True, help="KG directory: train.tsv is the KG, dev + test the truth")
    p.add_argument("--labels", type=int, default=8, help="true facts per relation entered as curator labels")
    p.add_argument("--seeds", default="13")
    p.add_argument("--audits", type=int, default=100, help="simulated spot checks per slice")
    p.add_argument("--sample", type=int, default=40, help="suggestions each spot check judges")
    p.add_argument("--out", type=Path, help="result JSON (resumes if it exists; a .md summary beside it)")
    p = tasks.add_parser("scale", help="typed synthetic KGs of 10^4-10^6 facts through import, retrain + suggest, "
                                       "the Review and Graph pages and export, on SQLite and PostgreSQL")
    p.add_argument("--facts", default="10000,100000,1000000", help="KG sizes in facts")
    p.add_argument("--postgres", help="a PostgreSQL server URL: each case also runs on a fresh database there")
    p.add_argument("--backends", default=None, help="sqlite, postgresql or both (default: both with --postgres)")
    p.add_argument("--retrain-limit", type=float, default=90.0,
                   help="minutes after which a case's retrain is cancelled and the stage it reached recorded")
    p.add_argument("--seed", type=int, default=13)
    for parser in tasks.choices.values():
        parser.add_argument("--choose-on", default=None, metavar="SPLIT",
                            help="the split settings were chosen on (dev, val or "
                                 "train): test is refused, it is read once to report")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backbone", default=None, help="masked LM: preset (splade-tiny, minilm), hub name or path")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a training setting for every method, e.g. --set stage2_lr=3e-4")
    parser.add_argument("--out", type=Path, help="result JSON (resumes if it exists; a .md summary beside it)")


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in _names(text)]
    except ValueError as exc:
        raise BenchError(f"expected comma-separated integers, got {text!r}") from exc


def _settings(pairs: list[str], known: dict) -> dict:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise BenchError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(known))}")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    return settings


def _methods(task: str) -> tuple[str, ...]:
    """The methods a task knows, from the engine's resolvers (imported late: they load torch)."""
    from engine.structure import KGE_METHODS
    from engine.methods import CLASSIFIERS

    return (*CLASSIFIERS, "app", "app-k") if task == "re" else ("knowco", "app", *KGE_METHODS)


def _chosen(text: str, known: tuple[str, ...], what: str) -> list[str]:
    names = list(known) if text == "all" else _names(text)
    unknown = set(names) - set(known)
    if unknown:
        raise BenchError(f"unknown {what} {sorted(unknown)} (expected {', '.join(known)})")
    return names


def _check_paths(args: argparse.Namespace) -> None:
    for path in [args.data] + ([Path(p) for p in _names(args.train)] if args.task == "lp" else []):
        if not path.exists():
            raise BenchError(f"{path}: no such file or directory")


def _run_queue(args: argparse.Namespace) -> int:
    from bench.environment import use_configured_threads
    from bench.queue import bench_queue

    if not (args.data / "train.tsv").is_file():
        raise BenchError(f"{args.data}: expected a KG directory with train.tsv (and dev.tsv, test.tsv as the truth)")
    use_configured_threads()
    print(bench_queue(args.data, args.labels, _ints(args.seeds), args.out, lambda line: print(line, flush=True),
                      tuple(_names(args.kge)), split=args.split, sparse=args.sparse))
    return 0


def _run_audit(args: argparse.Namespace) -> int:
    from bench.audit import bench_audit
    from bench.environment import use_configured_threads

    if not (args.data / "train.tsv").is_file():
        raise BenchError(f"{args.data}: expected a KG directory with train.tsv (and dev.tsv, test.tsv as the truth)")
    use_configured_threads()
    print(bench_audit(args.data, args.labels, _ints(args.seeds), args.audits, args.sample, args.out,
                      lambda line: print(line, flush=True)))
    return 0


def _run_text(args: argparse.Namespace) -> int:
    from bench.environment import use_configured_threads
    from bench.text_queue import MEASURED, bench_text

    measured = MEASURED[args.split]
    if not ((args.data / "train.txt").is_file() and (args.data / measured).is_file()):
        raise BenchError(f"{args.data}: expected train.txt and {measured} of JSON lines (SemEval-like; the "
                         f"'{args.split}' split measures on {measured})")
    use_configured_threads()
    print(bench_text(args.data, args.labels, _ints(args.seeds), args.corpus, args.out,
                     lambda line: print(line, flush=True), split=args.split))
    return 0


def check_protocol(args: argparse.Namespace) -> None:
    """A figure counts only if the data that reports it chose nothing: choosing on test is refused."""
    chosen = (getattr(args, "choose_on", None) or "").strip().lower()
    if chosen in ("test", "tests") or (args.task == "curator" and chosen == "report"):
        raise BenchError(f"--choose-on {chosen}: settings are chosen on dev or val (or the curator benchmark's "
                         "'choose' half), never on the split that reports them; test is read once, to report")


def _run_curator(args: argparse.Namespace) -> int:
    from bench.curator import bench_curator
    from bench.environment import use_configured_threads

    use_configured_threads()
    print(bench_curator(args.split, _ints(args.seeds), args.out, lambda line: print(line, flush=True)))
    return 0


def _run_scale(args: argparse.Namespace) -> int:
    from bench.scale import bench_scale

    backends = _names(args.backends) if args.backends else ["sqlite"] + (["postgresql"] if args.postgres else [])
    if set(backends) - {"sqlite", "postgresql"}:
        raise BenchError(f"--backends {args.backends!r}: expected sqlite, postgresql or both")
    if "postgresql" in backends and not args.postgres:
        raise BenchError("--backends postgresql needs --postgres URL (a server this machine reaches)")
    print(bench_scale(_ints(args.facts), backends, args.postgres, args.retrain_limit, args.seed,
                      lambda line: print(line, flush=True)))
    return 0


def parse_bench(argv: list[str]) -> argparse.Namespace:
    """`python -m knowco bench …`'s arguments (the product's command line hands them over unread)."""
    parser = argparse.ArgumentParser(prog="python -m knowco")
    add_bench_parser(parser.add_subparsers(dest="verb", required=True))
    return parser.parse_args(["bench", *argv])


def run_bench(args: argparse.Namespace) -> int:
    check_protocol(args)
    if args.task == "curator":
        return _run_curator(args)
    if args.task == "queue":
        return _run_queue(args)
    if args.task == "audit":
        return _run_audit(args)
    if args.task == "text":
        return _run_text(args)
    if args.task == "scale":
        return _run_scale(args)
    from dataclasses import fields, replace

    from engine.backbones import BackboneError
    from engine.config import ABLATIONS, TrainConfig
    from engine.label_words import LabelWordError
    from storage.importers.records import ImportFailed

    from bench.environment import use_configured_threads
    from bench.runner import DEFAULT_OVERRIDES, LP_BASELINES, bench_lp, bench_re

    use_configured_threads()
    settings = _settings(args.set, {f.name: f for f in fields(TrainConfig)})
    if args.backbone:
        settings["backbone"] = args.backbone
    base = TrainConfig(**settings)
    overrides = {m: {k: v for k, v in o.items() if k not in settings} for m, o in DEFAULT_OVERRIDES.items()}
    methods = _chosen(args.methods, _methods(args.task), f"methods for {args.task}")
    _check_paths(args)

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        if args.task == "re":
            ablations = _chosen(args.ablations, tuple(ABLATIONS), "ablations")
            text = bench_re(args.data, _ints(args.k), _ints(args.seeds), methods, ablations, base, overrides,
                            args.out, log, app_settings=settings, split=args.split)
        else:
            kge = replace(LP_BASELINES, epochs=args.kge_epochs or LP_BASELINES.epochs)
            text = bench_lp(args.data, [Path(p) for p in _names(args.train)], methods, base, overrides,
                            args.candidates, args.max_test, kge, args.out, log, app_settings=settings)
    except (BackboneError, LabelWordError, ImportFailed) as exc:
        raise BenchError(str(exc)) from exc
    print(text)
    return 0
