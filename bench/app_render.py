"""How long each page of the app takes to run on a large KG (target: under 1 s).

    python -m bench.app_render [--triples 100000] [--repeats 5]

Builds a SQLite KG from a generated TSV (10% as many entities as triples, 50 relations), adds 5,000
pending suggestions, 8 labels per relation and one finished model version, then runs every page with
Streamlit's AppTest: the first run of a page (cold: its imports and caches) and then `--repeats` reruns, which is
what a curator waits for on each click. AppTest times the server side (the script run that builds the page);
the browser's drawing comes on top. Writes bench/results/app_render.json and .md.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.environment import ROOT, environment, publish
from bench.import_speed import generate_tsv
from knowco.settings import DATABASE_ENV
from knowco.services import Actor, add_triple_label, import_file
from storage.database import open_database
from storage.review import replace_suggestions
from storage.runs import claim, create_run, finish_run

PAGES = ["overview", "graph", "label", "train", "review", "data", "history"]
SUGGESTIONS = 5000


def build(folder: Path, triples: int) -> tuple[str, float]:
    tsv = folder / "kg.tsv"
    generate_tsv(tsv, triples)
    database = open_database(str(folder / "kg.sqlite"))
    started = time.perf_counter()
    bench = Actor("bench", "admin")
    import_file(database, bench, tsv)
    rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines()]
    known = {tuple(r) for r in rows}
    entities = sorted({r[0] for r in rows} | {r[2] for r in rows})
    relations = sorted({r[1] for r in rows})
    rng = random.Random(3)
    for relation in relations:
        mine = [r for r in rows if r[1] == relation][:8]
        for head, _, tail in mine:
            add_triple_label(database, bench, head, relation, tail, True)
    with database.transaction() as session:
        run = create_run(session, backbone="splade-tiny", hyperparameters={}, seed=1, user="bench")
        claim(session, run.id, os.getpid())
        finish_run(session, run.id, "succeeded", "done", checkpoint_path=str(folder / "none"),
                   metrics={"accuracy": 0.8, "micro_f1": 0.7, "held_out": 100})
    scored = set()
    while len(scored) < SUGGESTIONS:
        triple = (rng.choice(entities), rng.choice(relations), rng.choice(entities))
        if triple[0] != triple[2] and triple not in known:
            scored.add(triple)
    with database.transaction() as session:
        replace_suggestions(session, run.id, [(*t, rng.random()) for t in sorted(scored)], "bench")
    seconds = time.perf_counter() - started
    url = database.url
    database.dispose()
    return url, seconds


def time_page(name: str, repeats: int, setup=None) -> dict:
    app = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=120)
    app.run()
    started = time.perf_counter()
    app.switch_page(f"{name}_page.py").run()
    cold = time.perf_counter() - started
    if setup is not None:
        setup(app)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        app.run()
        runs.append(time.perf_counter() - started)
    if app.exception or app.error:
        raise RuntimeError(f"{name}: {[e.value for e in app.exception] + [e.value for e in app.error]}")
    return {"title": app.title[0].value, "elements": len(list(app.main)),"cold_seconds": round(cold, 3), "median_seconds": round(statistics.median(runs), 3),
            "max_seconds": round(max(runs), 3), "runs": [round(r, 3) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = {"config": {"triples": args.triples, "suggestions": SUGGESTIONS, "repeats": args.repeats},
               "environment": environment(("streamlit", "sqlalchemy", "pyvis")), "pages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        url, seconds = build(Path(tmp), args.triples)
        results["build_seconds"] = round(seconds, 1)
        os.environ[DATABASE_ENV] = url
        for name in PAGES:
            results["pages"][name] = time_page(name, args.repeats)
            print(name, results["pages"][name], flush=True)

        def centre_on_hub(app) -> None:
            app.text_input(key="graph_search").input("entity_000000").run()

        results["pages"]["graph (centred on the busiest entity)"] = time_page("graph", args.repeats, centre_on_hub)
    lines = ["# Page render time on a large KG", "",
             f"Command: `python -m bench.app_render --triples {args.triples}` ({results['environment']['cpu_count']} "
             f"CPUs, {results['environment']['when']}); SQLite; {args.triples:,} accepted triples, {SUGGESTIONS:,} "
             "pending suggestions. Seconds of the server-side script run measured with AppTest (target < 1 s).", "",
             "| page | first run | rerun median | rerun max |", "|---|---|---|---|"]
    for name, timing in results["pages"].items():
        lines.append(f"| {name} ({timing['title']}) | {timing['cold_seconds']:.2f} | {timing['median_seconds']:.2f} | "
                     f"{timing['max_seconds']:.2f} |")
    publish("app_render", results, lines)


if __name__ == "__main__":
    main()
