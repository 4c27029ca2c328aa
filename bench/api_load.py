"""API clients deciding and labelling through the HTTP API, with and without a retrain running in a second
process on the same database.

    python -m bench.api_load [--clients 8] [--seconds 60] [--workers N] [--postgres URL]

The API is served by `python -m knowco serve-api` in its own processes (as a team would run it), over a database
holding the demo KG and a queue of about 4,000 suggestions, each with opinions like a retrain's, so that verdicts
re-rank it as they do after a real retrain (the re-ranks are counted). Each client is a thread with its own
`knowco.client.KnowCo` and token: in a loop it reads the queue's first page, decides one of the five best
suggestions (accept or reject, each with an idempotency key; clients often race for the same one), or labels a
random triple. Counted:
p95 latency per verdict, operations per second, conflicts (a suggestion decided by another client first),
refusals (a label that exists), errors (anything else: must be 0), and lost verdicts (a verdict a client was
told was recorded whose suggestion does not hold it). The second phase repeats it while a retrain of the demo
runs in a worker process. Writes bench/results/api_load.json and .md; the servers' output is appended to
bench/logs/api_load_server.log.
"""
from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from bench.environment import environment, publish
from bench.load_test import demo_with_queue, throwaway_postgres
from knowco.cli import API_WORKERS
from knowco.client import ApiError, KnowCo
from knowco.services import Actor, TrainOptions, add_token, cancel, get_run, open_database, start_training
from storage.models import AuditEvent, Triple

ROOT = Path(__file__).resolve().parents[1]
SERVER_LOG = ROOT / "bench" / "logs" / "api_load_server.log"


def _serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("a", encoding="utf-8") as log:  # an error's traceback, under the id its answer names
        server = subprocess.Popen([sys.executable, "-m", "knowco", "--db", url, "serve-api", "--port", str(port),
                                   "--workers", str(workers)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the API did not start")


def _prepare(url: str, clients: int) -> tuple[list[str], list[str], list[str]]:
    """The demo KG with a queue of suggestions; (entity names, relation names, one token per client)."""
    database = open_database(url)
    names, relations, _ = demo_with_queue(database, 4000)
    tokens = [add_token(database, f"client-{i}", Actor(f"client-{i}", "curator"), "bench").secret
              for i in range(clients)]
    database.dispose()
    return names, relations, tokens


def _phase(api: str, tokens: list[str], names: list[str], relations: list[str], seconds: float) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    told: dict[int, str] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        with KnowCo(api, tokens[number], retries=0) as kc:
            while time.monotonic() < stop:
                op = rng.choices(["read", "decide", "label"], weights=[2, 5, 1])[0]
                started = time.perf_counter()
                outcome = op
                try:
                    if op == "read":
                        kc.queue(limit=20)
                    elif op == "decide":
                        pending = kc.queue(limit=5)["items"]
                        started = time.perf_counter()  # the verdict's own latency
                        if pending:
                            item = rng.choice(pending)
                            accepted = rng.random() < 0.5
                            (kc.accept if accepted else kc.reject)(item["id"])
                            with lock:
                                told[item["id"]] = "accepted" if accepted else "rejected"
                    else:
                        kc.add_label(rng.choice(names), rng.choice(relations), rng.choice(names), rng.random() < 0.7)
                except ApiError as error:
                    outcome = "conflict" if op == "decide" and error.status == 400 else (
                        "refused" if op == "label" and error.status == 400 else f"error {error.status}")
                except Exception as error:  # counted, not hidden: the figure must be zero
                    outcome = f"error: {type(error).__name__}"
                with lock:
                    latencies[op].append(time.perf_counter() - started)
                    counts[outcome] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    operations = sum(len(v) for v in latencies.values())
    return {"seconds": round(elapsed, 1), "operations": operations,
            "operations_per_second": round(operations / elapsed, 1),
            "p95_ms": {op: round(float(np.percentile(v, 95)) * 1000, 1) for op, v in latencies.items()},
            "counts": dict(counts), "told": told}


def _lost(url: str, told: dict[int, str]) -> int:
    database = open_database(url)
    with database.sessions() as session:
        status = dict(session.execute(select(Triple.id, Triple.status).where(Triple.id.in_(list(told)))).all()) \
            if told else {}
    database.dispose()
    return sum(1 for triple_id, verdict in told.items() if status.get(triple_id) != verdict)


def _reranks(database) -> int:
    """The re-ranks of the queue the verdicts brought so far (each is in the audit log)."""
    with database.sessions() as session:
        return int(session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "rerank")) or 0)


def run_backend(url: str, clients: int, seconds: float, workers: int) -> dict:
    names, relations, tokens = _prepare(url, clients)
    server, api = _serve(url, workers)
    database, admin = open_database(url), Actor("bench", "admin")
    try:
        quiet = _phase(api, tokens, names, relations, seconds)
        quiet["reranks"] = _reranks(database)
        run = start_training(database, admin, TrainOptions(suggest_after=False))
        busy = _phase(api, tokens, names, relations, seconds)
        busy["reranks"] = _reranks(database) - quiet["reranks"]
        state = get_run(database, run.id).status
        cancel(database, admin, run.id)
    finally:
        database.dispose()
        server.terminate()
        server.wait(timeout=30)
    told = {**quiet.pop("told"), **busy.pop("told")}
    return {"without_retrain": quiet, "with_retrain": {**busy, "retrain_status_at_end": state},
            "verdicts": len(told), "lost_verdicts": _lost(url, told)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--postgres", help="also run on a fresh database of this PostgreSQL server")
    parser.add_argument("--workers", type=int, default=API_WORKERS, help="serve-api's processes (default: its own)")
    args = parser.parse_args()
    results = {"config": vars(args), "environment": environment(("sqlalchemy", "psycopg", "fastapi", "uvicorn")),
               "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["backends"]["sqlite"] = run_backend(f"sqlite:///{Path(tmp) / 'kg.sqlite'}", args.clients,
                                                    args.seconds, args.workers)
        print(results["backends"]["sqlite"], flush=True)
    if args.postgres:
        with throwaway_postgres(args.postgres, "knowco_api_load") as url:
            results["backends"]["postgresql"] = run_backend(url, args.clients, args.seconds, args.workers)
            print(results["backends"]["postgresql"], flush=True)
    lines = ["# API load test", "", f"Command: `python -m bench.api_load --clients {args.clients} --seconds "
             f"{args.seconds:g} --workers {args.workers}{' --postgres URL' if args.postgres else ''}`", "",
             "| backend | retrain running | ops/s | p95 verdict ms | p95 read ms | p95 label ms | conflicts | "
             "errors | verdicts | lost | re-ranks |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for backend, result in results["backends"].items():
        for phase, running in (("without_retrain", "no"), ("with_retrain", "yes")):
            r = result[phase]
            errors = sum(n for k, n in r["counts"].items() if k.startswith("error"))
            lines.append(f"| {backend} | {running} | {r['operations_per_second']} | {r['p95_ms'].get('decide', '')} | "
                         f"{r['p95_ms'].get('read', '')} | {r['p95_ms'].get('label', '')} | "
                         f"{r['counts'].get('conflict', 0)} | {errors} | {result['verdicts']} | "
                         f"{result['lost_verdicts']} | {r.get('reranks', '')} |")
    publish("api_load", results, lines)


if __name__ == "__main__":
    main()
