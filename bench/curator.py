"""A curator's own small KG, as a new user meets it: `python -m knowco bench curator [--split choose|report]`.

Each KG under `bench/data/curator/` is a hand-written domain (film, football, companies, science): `train.tsv`
is the curator's KG (with the entities' kinds and the relations' names), `document.txt` a document about it,
`truth.tsv` every true fact among its entities (the sentence stating each one the document states), written
and committed before any run. Per KG and seed: a new database, the KG and the document imported, 8 labels per
relation (6 facts that hold, 2 triples of the right kinds that do not, drawn by the seed), the worker's own
retrain (`knowco.training_job`, the app's defaults), then the queue read back most confident first and scored
against the truth: P@10, P@30, precision per confidence band, "second value" suggestions above 0.5, the
document-stated missing facts found and their ranks, the Brier score, the retrain's time per stage. Then a
simulated curator judges the top 30 from the truth (through the app's own accept and reject, which re-rank the
pending queue every few verdicts), and the next 30 of the re-ranked queue are scored.

The protocol: settings are chosen on the `choose` half (film, companies) and reported on the `report` half
(football, science), three seeds each; the result file records which half it ran and what chose.
Resumable: (KG, seed) runs already in the result file are skipped.
"""
from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from bench.lp_data import per_relation_sample
from bench.result_files import ROOT, ResultFile
from knowco.services import (Actor, TrainOptions, accept, add_triple_label, import_document, import_file,
                             open_database, queue, reject, train_in_foreground)

DATA = ROOT / "bench" / "data" / "curator"
#: the halves of the protocol, fixed before the first run: settings are chosen on one, reported on the other
SPLITS = {"choose": ("film", "companies"), "report": ("football", "science")}
BANDS = [(round(0.5 + i / 10, 1), round(0.6 + i / 10, 1)) for i in range(5)]
JUDGED = 30
KG_FILES = ("train.tsv", "entity2type.txt", "relation2text.txt", "entity2textlong.txt")
#: a relation's side counts as one-valued for the "second value" check where this share of its entities have one
ONE_VALUE = 0.95
Triple = tuple[str, str, str]


@dataclass
class Truth:
    kg: list[Triple]
    true: set[Triple]
    #: missing facts the document states → the sentence stating each
    stated: dict[Triple, str]
    kinds: dict[str, str]


def _tsv(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_truth(directory: Path) -> Truth:
    kg = [tuple(row[:3]) for row in _tsv(directory / "train.tsv")]
    rows = _tsv(directory / "truth.tsv")
    stated = {tuple(row[:3]): row[4] for row in rows if len(row) > 4 and row[3] == "document"}
    kinds = {row[0]: row[1] for row in _tsv(directory / "entity2type.txt")}
    return Truth(kg, {tuple(row[:3]) for row in rows}, stated, kinds)


def labels_for(truth: Truth, seed: int, holds: int = 6, does_not: int = 2) -> list[tuple[Triple, bool]]:
    """`holds` facts per relation and `does_not` false triples of the relation's kinds (a true head with a tail
    of the right kind that the truth does not hold)."""
    rng = random.Random(seed)
    positives = per_relation_sample(truth.kg, holds, seed)
    tails_of_kind: dict[str, list[str]] = defaultdict(list)
    for entity, kind in sorted(truth.kinds.items()):
        tails_of_kind[kind].append(entity)
    negatives = []
    for relation in sorted({r for _, r, _ in truth.kg}):
        facts = sorted(t for t in truth.kg if t[1] == relation)
        tried = 0
        found: list[Triple] = []
        while len(found) < does_not and tried < 200:
            tried += 1
            head, _, tail = rng.choice(facts)
            other = rng.choice(tails_of_kind[truth.kinds.get(tail, "")] or [tail])
            triple = (head, relation, other)
            if triple not in truth.true and triple not in found and other != head:
                found.append(triple)
        negatives += found
    return [(t, True) for t in positives] + [(t, False) for t in negatives]


def one_valued_sides(facts: list[Triple]) -> dict[tuple[str, str], set[str]]:
    """(relation, side) → the entities that already have a value there, for the sides where at least
    `ONE_VALUE` of the entities have one value (with at least 4 entities)."""
    values: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for h, r, t in facts:
        values[(r, "tail", h)].add(t)
        values[(r, "head", t)].add(h)
    per_side: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (r, side, _), found in values.items():
        per_side[(r, side)].append(len(found))
    out = {}
    for key, sizes in per_side.items():
        if len(sizes) >= 4 and sum(1 for n in sizes if n == 1) / len(sizes) >= ONE_VALUE:
            out[key] = {e for (r, side, e) in values if (r, side) == key}
    return out


def second_values(ranked: list[tuple[Triple, float]], facts: list[Triple]) -> list[tuple[Triple, float]]:
    """The suggestions above 0.5 that give a second value where the KG's facts say 'one' (≥ 95 %)."""
    sides = one_valued_sides(facts)
    out = []
    for (h, r, t), p in ranked:
        if p > 0.5 and (h in sides.get((r, "tail"), ()) or t in sides.get((r, "head"), ())):
            out.append(((h, r, t), p))
    return out


def _bands(ranked: list[tuple[Triple, float]], hits: list[bool]) -> list[dict]:
    """Per confidence band, its suggestions, the true ones and their share."""
    bands = []
    for low, high in BANDS:
        inside = [ok for (t, p), ok in zip(ranked, hits) if low <= p < high or (high == 1.0 and p == 1.0)]
        bands.append({"band": f"{low:.1f}-{high:.1f}", "count": len(inside), "true": sum(inside),
                      "precision": round(sum(inside) / len(inside), 3) if inside else None})
    return bands


def score(ranked: list[tuple[Triple, float]], truth: Truth) -> dict:
    hits = [t in truth.true for t, _ in ranked]
    bands = _bands(ranked, hits)
    rank = {t: i + 1 for i, (t, _) in enumerate(ranked)}
    found = sorted(rank[t] for t in truth.stated if t in rank)
    top10 = ranked[:10]
    return {"queue": len(ranked), "true_in_queue": sum(hits),
            "p@10": round(sum(hits[:10]) / 10, 3), "p@30": round(sum(hits[:30]) / 30, 3),
            "top10_mean_confidence": round(sum(p for _, p in top10) / max(1, len(top10)), 3),
            "max_confidence": round(max((p for _, p in ranked), default=0.0), 3),
            "bands": bands, "brier": round(sum((p - ok) ** 2 for (_, p), ok in zip(ranked, hits)) / max(1, len(hits)), 4),
            "second_values_above_05": len(second_values(ranked, truth.kg)),
            "document_facts": len(truth.stated), "document_found": len(found), "document_ranks": found,
            "document_in_top30": sum(1 for r in found if r <= 30)}


def _ranked(database) -> list:
    return queue(database, limit=1_000_000)


def curator_database(directory: Path, folder: Path, seed: int, actor: Actor):
    """A new database in `folder` holding the KG of `directory` (facts, kinds, relation names), its document and
    the seed's labels, as a curator would enter them."""
    kg = folder / "kg"
    kg.mkdir()
    for name in KG_FILES:
        if (directory / name).is_file():
            shutil.copy(directory / name, kg / name)
    database = open_database(str(folder / "kg.sqlite"))
    import_file(database, actor, kg, "kgdir")
    import_document(database, actor, "document.txt", (directory / "document.txt").read_bytes())
    for (head, relation, tail), holds in labels_for(load_truth(directory), seed):
        add_triple_label(database, actor, head, relation, tail, holds)
    return database


def run_kg(directory: Path, seed: int, options: TrainOptions) -> dict:
    truth = load_truth(directory)
    actor = Actor("bench", "admin")
    with tempfile.TemporaryDirectory() as tmp:
        database = curator_database(directory, Path(tmp), seed, actor)
        try:
            started = time.perf_counter()
            run = train_in_foreground(database, actor, options)
            seconds = time.perf_counter() - started
            if run.status != "succeeded":
                raise RuntimeError(f"{directory.name} seed {seed}: the retrain {run.status}: {run.message}")
            shown = _ranked(database)
            before = score([((s.head, s.relation, s.tail), s.confidence) for s in shown], truth)
            judged = shown[:JUDGED]
            for s in judged:
                if (s.head, s.relation, s.tail) in truth.true:
                    accept(database, actor, s.id)
                else:
                    reject(database, actor, s.id, "false")
            after = _ranked(database)
            after_scored = score([((s.head, s.relation, s.tail), s.confidence) for s in after], truth)
        finally:
            database.dispose()
    metrics = run.metrics
    return {"kg": directory.name, "seed": seed, "labels": "6 hold + 2 do not, per relation",
            "retrain_and_suggest_seconds": round(seconds, 1),
            "stages": {"structure": (metrics.get("structure") or {}).get("seconds"),
                       "text_model": metrics.get("train_seconds"),
                       "suggest": (metrics.get("suggestions") or {}).get("seconds")},
            "held_out": metrics.get("held_out"), "combiner": metrics.get("combiner") or {},
            "before": before,
            "curator": {"judged": len(judged),
                        "first_30_right": sum((s.head, s.relation, s.tail) in truth.true for s in judged),
                        "next_30_right": round(after_scored["p@30"] * JUDGED),
                        # what the next 30 would hold had the verdicts re-ranked nothing: ranks 31-60 before
                        "next_30_without_rerank": sum((s.head, s.relation, s.tail) in truth.true
                                                      for s in shown[JUDGED:2 * JUDGED]),
                        # the most the next 30 could hold: the true suggestions left in the re-ranked queue
                        "true_left": after_scored["true_in_queue"], "after": after_scored}}


def checks(run: dict) -> dict[str, bool]:
    """The issue's targets for one run (the means over seeds are in the markdown)."""
    before = run["before"]
    bands_ok = all(b["precision"] is None or b["count"] < 10 or b["precision"] >= float(b["band"][:3]) - 0.2
                   for b in before["bands"])
    calibrated = (run["combiner"].get("facts") or 0) >= 20 and run["combiner"].get("fitted")
    first, nxt = run["curator"]["first_30_right"] / JUDGED, run["curator"]["after"]["p@30"]
    return {"bands": bands_ok,
            "top10_confidence_near_precision": abs(before["top10_mean_confidence"] - before["p@10"]) <= 0.2,
            "nothing_at_0.8_uncalibrated": bool(calibrated) or before["max_confidence"] < 0.8,
            "no_second_value_above_0.5": before["second_values_above_05"] == 0,
            "document_two_thirds": before["document_found"] >= 2 * before["document_facts"] / 3,
            "verdicts_teach": nxt >= first + 0.2 or nxt >= 0.7}


def _run_rows(runs: list[dict]) -> list[str]:
    lines = ["| KG | seed | P@10 | P@30 | top-10 mean conf | max conf | Brier | second values > 0.5 | document facts "
             "found (in top 30) | next 30 after 30 verdicts | retrain + suggest s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in sorted(runs, key=lambda r: (r["kg"], r["seed"])):
        b, c = run["before"], run["curator"]
        lines.append(f"| {run['kg']} | {run['seed']} | {b['p@10']} | {b['p@30']} | {b['top10_mean_confidence']} | "
                     f"{b['max_confidence']} | {b['brier']} | {b['second_values_above_05']} | "
                     f"{b['document_found']}/{b['document_facts']} ({b['document_in_top30']}) | "
                     f"{c['first_30_right']}/30 → {c['next_30_right']}/30 (of {c.get('true_left', '?')} left; "
                     f"{c.get('next_30_without_rerank', '?')} without the re-rank) | "
                     f"{run['retrain_and_suggest_seconds']} |")
    return lines


def _mean_rows(by_kg: dict[str, list[dict]]) -> list[str]:
    lines = ["", "Means over seeds, and the targets:", "",
             "| KG | P@10 | P@30 | first 30 → next 30 | every check passed on every seed |", "|---|---|---|---|---|"]
    for kg, members in sorted(by_kg.items()):
        n = len(members)
        p10 = sum(r["before"]["p@10"] for r in members) / n
        p30 = sum(r["before"]["p@30"] for r in members) / n
        first = sum(r["curator"]["first_30_right"] for r in members) / n / JUDGED
        nxt = sum(r["curator"]["after"]["p@30"] for r in members) / n
        failed = sorted({name for r in members for name, ok in checks(r).items() if not ok})
        lines.append(f"| {kg} | {p10:.2f} | {p30:.2f} | {first:.2f} → {nxt:.2f} | "
                     + ("yes" if not failed else "no: " + ", ".join(failed)) + " |")
    return lines


def _band_rows(by_kg: dict[str, list[dict]], title: str, read: Callable[[dict], dict]) -> list[str]:
    lines = ["", f"True suggestions per confidence band, pooled over seeds, {title}:", "",
             "| KG | " + " | ".join(f"{lo:.1f}-{hi:.1f}" for lo, hi in BANDS) + " |",
             "|---" * (len(BANDS) + 1) + "|"]
    for kg, members in sorted(by_kg.items()):
        cells = []
        for i in range(len(BANDS)):
            count = sum(read(r)["bands"][i]["count"] for r in members)
            true = sum(read(r)["bands"][i]["true"] for r in members)
            cells.append(f"{true}/{count}" if count else "—")
        lines.append(f"| {kg} | " + " | ".join(cells) + " |")
    return lines


def markdown(runs: list[dict], split: str, command: str) -> str:
    by_kg: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_kg[run["kg"]].append(run)
    lines = [f"# A curator's small KG ({split} half)", "", f"Command: `{command}`", "",
             f"Settings chosen on: {', '.join(SPLITS['choose'])}; this table is the {split} half.", "",
             *_run_rows(runs), *_mean_rows(by_kg),
             *_band_rows(by_kg, "before any verdict", lambda r: r["before"]),
             *_band_rows(by_kg, "after 30 verdicts, on the suggestions not yet judged (the re-rank that used them)",
                         lambda r: r["curator"]["after"])]
    return "\n".join(lines) + "\n"


def bench_curator(split: str, seeds: list[int], out: Optional[Path], log: Callable[[str], None],
                  options: Optional[TrainOptions] = None, data: Path = DATA) -> str:
    kgs = SPLITS[split]
    results = ResultFile(out, {"task": "curator", "split": split, "kgs": list(kgs), "seeds": seeds,
                               "chosen_on": list(SPLITS["choose"]), "reported_on": list(SPLITS["report"]),
                               "queue_policy": (options or TrainOptions()).queue.as_dict()})
    for kg in kgs:
        for seed in seeds:
            if any(r["kg"] == kg and r["seed"] == seed for r in results.data["runs"]):
                log(f"{kg} seed {seed}: already in {out}")
                continue
            run = run_kg(data / kg, seed, replace(options or TrainOptions(), seed=seed))
            log(f"{kg} seed {seed}: P@10 {run['before']['p@10']} P@30 {run['before']['p@30']}, "
                f"next 30 {run['curator']['after']['p@30']}, {run['retrain_and_suggest_seconds']} s; "
                f"checks {checks(run)}")
            results.add(run)
    command = f"python -m knowco bench curator --split {split} --seeds {','.join(map(str, seeds))}"
    text = markdown(results.data["runs"], split, command)
    if out is not None:
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    return text
