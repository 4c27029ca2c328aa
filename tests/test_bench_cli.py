"""`python -m knowco bench`: runs end to end on small directories in the shared layouts, writes the JSON the
issue fixes, resumes, and refuses bad arguments with one line."""
from __future__ import annotations

import json

import pytest

from knowco.cli import main
from engine.queue.policy import QueuePolicy

UNCERTAIN = QueuePolicy().uncertain
from tests.engine_helpers import EXAMPLES

FAST = ["--set", "stage1_epochs=1", "--set", "stage2_epochs=1", "--set", "batch_size=4"]


def _semeval_like(directory):
    directory.mkdir()
    lines = []
    for example in EXAMPLES:
        tokens = list(example.tokens)
        lines.append(json.dumps({"token": tokens, "h": {"name": tokens[example.head[0]], "pos": list(example.head)},
                                 "t": {"name": tokens[example.tail[0]], "pos": list(example.tail)},
                                 "relation": example.relation}))
    other = {"token": ["a", "cat", "and", "a", "dog"], "h": {"name": "cat", "pos": [1, 2]},
             "t": {"name": "dog", "pos": [4, 5]}, "relation": "Other"}
    lines += [json.dumps(other)] * 2
    (directory / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "val.txt").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    return directory


def _kg_like(directory):
    directory.mkdir()
    entities = ["aspirin", "pain", "fever", "virus", "cough", "ibuprofen"]
    triples = [("aspirin", "treats", "pain"), ("ibuprofen", "treats", "fever"), ("virus", "causes", "cough"),
               ("virus", "causes", "fever")]
    (directory / "entity2text.txt").write_text("".join(f"{e}\t{e}\n" for e in entities), encoding="utf-8")
    (directory / "entity2textlong.txt").write_text("".join(f"{e}\t{e} is a word.\n" for e in entities),
                                                   encoding="utf-8")
    (directory / "relation2text.txt").write_text("treats\ttreats\ncauses\tcauses\n", encoding="utf-8")
    for split, rows in (("train", triples[:3]), ("dev", triples[:2]), ("test", triples[3:])):
        (directory / f"{split}.tsv").write_text("".join("\t".join(t) + "\n" for t in rows), encoding="utf-8")
    return directory


def test_bench_re_writes_comparable_json_and_resumes(tmp_path, capsys):
    data = _semeval_like(tmp_path / "mini")
    out = tmp_path / "re.json"
    args = ["bench", "re", "--data", str(data), "--k", "2", "--seeds", "1", "--ablations", "no_stage1",
            "--methods", "knowco,finetune", "--out", str(out), *FAST]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert set(result) == {"config", "environment", "runs"}
    assert result["config"]["split"] == "choose" and "test never read" in result["config"]["protocol"]
    assert {r["eval_examples"] for r in result["runs"]} == {4}  # the validation sentences
    assert {(r["method"], r["k"], r["seed"]) for r in result["runs"]} == {
        ("knowco", 2, 1), ("finetune", 2, 1), ("knowco-no_stage1", 2, 1)}
    run = result["runs"][0]
    assert {"micro_f1", "accuracy"} <= set(run["metrics"]) and run["train_seconds"] > 0 and run["eval_seconds"] >= 0
    assert "| knowco | 2 | 1 |" in out.with_suffix(".md").read_text()
    capsys.readouterr()
    assert main(args) == 0
    assert "micro-F1" not in capsys.readouterr().out, "a resumed benchmark reruns nothing"


def test_bench_re_measures_the_apps_own_retrain_and_where_each_method_errs(tmp_path):
    data = _semeval_like(tmp_path / "mini")
    out = tmp_path / "re.json"
    assert main(["bench", "re", "--data", str(data), "--k", "4", "--seeds", "1", "--split", "report",
                 "--methods", "app,app-k,finetune", "--out", str(out), *FAST]) == 0
    assert json.loads(out.read_text())["config"]["split"] == "report"
    runs = {r["method"]: r for r in json.loads(out.read_text())["runs"]}
    app = runs["app"]
    assert app["config"]["stage1_epochs"] == 1 and app["config"]["head"] == "auto"  # app defaults, --set on top
    assert app["head"]["chosen"] in ("prompt", "classifier", "average") and app["dev_examples"] == 0
    # the app is given every labelled sentence a baseline trains or stops on; app-k the training ones only
    assert app["labels"] == runs["finetune"]["train_examples"] + runs["finetune"]["dev_examples"]
    assert runs["app-k"]["labels"] == runs["finetune"]["train_examples"]
    for run in runs.values():
        assert sum(run["errors"].values()) == round(len(EXAMPLES) + 2 - run["metrics"]["accuracy"] * (len(EXAMPLES) + 2))
        assert {row["relation"] for row in run["per_relation"]} <= {"treats", "causes", "?"}
    text = out.with_suffix(".md").read_text()
    assert "## Per relation at K = 4" in text and "| right relation, wrong direction |" in text


def test_bench_lp_ranks_all_entities_for_each_method(tmp_path):
    data = _kg_like(tmp_path / "kg")
    out = tmp_path / "lp.json"
    assert main(["bench", "lp", "--data", str(data), "--methods", "knowco,transe,app", "--kge-epochs", "2",
                 "--out", str(out), *FAST]) == 0
    runs = {r["method"]: r for r in json.loads(out.read_text())["runs"]}
    assert set(runs) == {"knowco", "transe", "app"}
    for run in runs.values():
        assert {"mr_raw", "hits@10_raw", "mr_filtered", "mrr_filtered", "hits@1_filtered",
                "hits@10_filtered"} <= set(run["metrics"])
        assert 1 <= run["metrics"]["mr_filtered"] <= run["metrics"]["mr_raw"] <= 6


def test_bad_bench_arguments_are_one_line_errors(tmp_path, capsys):
    data = _semeval_like(tmp_path / "mini")
    assert main(["bench", "re", "--data", str(data), "--methods", "magic"]) == 2
    assert main(["bench", "re", "--data", str(data), "--set", "nonsense=1"]) == 2
    assert main(["bench", "lp", "--data", str(tmp_path / "missing")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)


@pytest.mark.parametrize("task", ["re", "lp", "queue", "text", "curator"])
def test_a_benchmark_refuses_to_choose_on_the_split_that_reports(tmp_path, capsys, task):
    """The protocol cannot be broken silently: settings are chosen on dev or val, test is read once."""
    data = [] if task == "curator" else ["--data", str(tmp_path)]
    assert main(["bench", task, *data, "--choose-on", "test"]) == 2
    assert "never on the split that reports them" in capsys.readouterr().err
    if task == "curator":
        assert main(["bench", "curator", "--split", "report", "--choose-on", "report"]) == 2


def test_bench_methods_come_from_the_engine_resolver():
    from bench.cli import _methods
    from engine.structure import KGE_METHODS
    from engine.methods import CLASSIFIERS, classifier_class

    assert _methods("re") == (*CLASSIFIERS, "app", "app-k") == ("knowco", "finetune", "app", "app-k")
    assert _methods("lp") == ("knowco", "app", *KGE_METHODS)
    assert classifier_class("knowco").kind == "knowco"
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        classifier_class("magic")


def test_the_queue_benchmark_runs_the_apps_own_retrain_and_suggest(tmp_path, monkeypatch):
    """bench queue: the KG without its hidden facts, labels as a curator enters them, then the very function
    the worker runs; the queue is scored against the hidden facts of the protocol's split."""
    import shutil

    import knowco.training_job
    from bench.queue import bench_queue
    from knowco.demo import DEMO_DIR
    from knowco.options import TrainOptions

    kg = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, kg, ignore=shutil.ignore_patterns("sentences.jsonl", "README.md"))
    facts = (kg / "train.tsv").read_text(encoding="utf-8").splitlines()
    (kg / "train.tsv").write_text("\n".join(facts[12:]) + "\n", encoding="utf-8")
    (kg / "test.tsv").write_text("\n".join(facts[:10]) + "\n", encoding="utf-8")
    (kg / "dev.tsv").write_text("\n".join(facts[10:12]) + "\n", encoding="utf-8")
    calls = []
    real = knowco.training_job.run_training
    monkeypatch.setattr(knowco.training_job, "run_training", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    out = tmp_path / "queue.json"
    # nothing joins as "sure" past its relation's places, so the queue is bounded by those and the uncertain
    options = TrainOptions(stage1_epochs=1, stage2_epochs=1,
                           queue=QueuePolicy(per_relation=5, max_pairs=200, sure=1.0 + 1e-9))
    text = bench_queue(kg, 2, [7], out, lambda line: None, options=options)
    assert len(calls) == 1
    [run] = json.loads(out.read_text())["runs"]
    # choosing: the KG is train.tsv, the truth dev.tsv; test.tsv is never read
    assert run["truth_facts"] == 2 and run["split"] == "choose" and run["labels_per_relation"] == 2
    assert "p@10" in run["queue"] and set(run["calibration"]["checks"]) == {
        "bands", "top10_confidence_near_precision", "nothing_at_0.8_uncalibrated"}
    assert 0 < run["queue"]["queue"] <= 5 * 9 + UNCERTAIN and "| 7 |" in text
    assert set(run["baselines"]) == {"reverse rule"}  # always beside the app, in the same run
    assert bench_queue(kg, 2, [7], out, lambda line: None, options=options) == text  # resumed, not rerun
    assert len(calls) == 1
    # a structural baseline asked for later is added to the seed's run, the app's run not repeated
    before = run["queue"]
    text = bench_queue(kg, 2, [7], out, lambda line: None, interactions=("distmult",), options=options)
    [run] = json.loads(out.read_text())["runs"]
    assert len(calls) == 1 and run["queue"] == before
    alone = run["baselines"]["distmult"]
    assert 0 < alone["per_relation"]["queue"] <= 25 * 9 and alone["all"]["queue"] <= 1000
    assert alone["stopped"]["best_epoch"] <= alone["stopped"]["epochs"] <= 500  # trained until it stopped
    assert "| 7 | distmult, all candidates |" in text and "| **best baseline** |" in text


def test_the_reverse_rule_proposes_missing_reverses_of_relations_that_hold_both_ways():
    from bench.baselines import reverse_rule

    married = [("a", "married", "b"), ("b", "married", "a")] * 1 + [
        (x, "married", y) for i in range(9) for x, y in [(f"p{i}", f"q{i}"), (f"q{i}", f"p{i}")]]
    kg = married + [("z1", "married", "z2")] + [("c", "likes", "d"), ("d", "likes", "c"), ("e", "likes", "f")]
    # married: 20 of 21 facts have their reverse (95 %); likes: 2 of 3 (67 %)
    assert reverse_rule(kg) == [("z2", "married", "z1")]
    assert reverse_rule(kg, share=0.6) == [("z2", "married", "z1"), ("f", "likes", "e")]


def test_the_text_benchmark_reads_a_semeval_like_directory_through_the_apps_retrain(tmp_path, monkeypatch):
    """bench text: the train split's facts as the KG, a few labelled sentences, the test split uploaded as a
    document, the worker's function; text suggestions counted against the test facts, both ways round."""
    import knowco.training_job
    from bench.text_queue import bench_text, direction_counts
    from knowco.options import TrainOptions

    def line(tokens, h, t, relation):
        return json.dumps({"token": tokens.split(), "h": {"name": tokens.split()[h], "pos": [h, h + 1]},
                           "t": {"name": tokens.split()[t], "pos": [t, t + 1]}, "relation": relation}) + "\n"

    data = tmp_path / "semeval"
    data.mkdir()
    train = [line(f"the {a} was caused by the {b} .", 1, 5, "Cause-Effect(e2,e1)")
             for a, b in [("fire", "spark"), ("flood", "rain"), ("rash", "allergy"), ("crash", "ice")]]
    train += [line(f"the {a} contains the {b} .", 1, 4, "Content-Container(e2,e1)")
              for a, b in [("box", "toys"), ("jar", "jam"), ("bag", "coins")]]
    train += [line(f"the {a} and the {b} .", 1, 4, "Other") for a, b in [("cat", "dog"), ("sun", "moon")]]
    (data / "train.txt").write_text("".join(train), encoding="utf-8")
    (data / "val.txt").write_text(line("the fever was caused by the virus .", 1, 5, "Cause-Effect(e2,e1)")
                                  + line("the box contains the coins .", 1, 4, "Content-Container(e2,e1)")
                                  + line("the cup contains the tea .", 1, 4, "Content-Container(e2,e1)"),
                                  encoding="utf-8")
    calls = []
    real = knowco.training_job.run_training
    monkeypatch.setattr(knowco.training_job, "run_training", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    out = tmp_path / "text.json"
    options = TrainOptions(stage1_epochs=1, stage2_epochs=1, queue=QueuePolicy(per_relation=5, max_pairs=50))
    text = bench_text(data, 2, [7], "measured", out, lambda line: None, options=options)
    assert len(calls) == 1
    [run] = json.loads(out.read_text())["runs"]
    # the validation sentences are measured; the KG holds the train facts' arguments only, so "the box contains
    # the coins" is linkable (a new fact between known entities), the virus, fever, cup and tea are new entities
    assert run["split"] == "choose" and run["gold"] == 1 and run["new_entity"] == 2
    assert run["corpus"] == "measured" and "| 7 | measured | 1 | 2 |" in text
    assert run["text_suggestions"] <= run["all_text_suggestions"]
    assert direction_counts({("virus", "Cause-Effect", "fever"), ("fever", "Content-Container", "cup")},
                            {("virus", "Cause-Effect", "fever"), ("cup", "Content-Container", "fever")}) == (1, 1)
    assert bench_text(data, 2, [7], "measured", out, lambda line: None, options=options) == text
    assert len(calls) == 1


def test_the_scale_benchmark_runs_a_typed_kg_through_import_retrain_pages_and_export(tmp_path, monkeypatch):
    """bench scale, small: a typed synthetic KG through import, the worker's retrain and suggest, the Review and
    Graph pages and the exports; the summary names what missed its target and by how much."""
    from bench.scale import run_case, summary
    from knowco.options import TrainOptions

    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    options = TrainOptions(stage1_epochs=1, stage2_epochs=1, structure_epochs=10,
                           queue=QueuePolicy(per_relation=5, max_pairs=50))
    case = run_case("sqlite", 600, None, 5, 7, options)
    assert case["facts"] == 600 and case["retrain"]["status"] == "succeeded", case["retrain"]["message"]
    assert case["retrain"]["queue"] > 0 and case["retrain"]["stages"]["structure"] > 0
    assert {"median_seconds", "cold_seconds"} <= set(case["pages"]["review"]), case["pages"]
    assert set(case["export_seconds"]) == {"csv", "turtle"} and case["peak_memory_mb"] > 0
    slow = {**case, "import_seconds": 600.0, "retrain": {**case["retrain"], "status": "cancelled", "seconds": 3000,
                                                         "stopped_at": {"message": "structural model 1 of 4"}}}
    _, table = summary([case, {**slow, "backend": "postgresql"}], {"cpu_count": 2})
    assert "| sqlite | 600 |" in table and "| none |" in table
    assert "import 2.0× the 5 min" in table and "retrain cancelled after 50 min, at: structural model 1 of 4" in table


def test_the_queue_benchmark_s_splits_keep_test_for_reporting(tmp_path):
    from bench.queue import kg_and_truth

    kg = tmp_path / "kg"
    kg.mkdir()
    (kg / "train.tsv").write_text("a\tr\tb\na\tr\tc\nd\tr\te\n", encoding="utf-8")
    (kg / "dev.tsv").write_text("b\tr\tc\n", encoding="utf-8")
    (kg / "test.tsv").write_text("c\tr\td\n", encoding="utf-8")
    (kg / "test_negatives.tsv").write_text("e\tr\ta\n", encoding="utf-8")
    facts, truth, negatives = kg_and_truth(kg, "choose")
    assert len(facts) == 3 and truth == {("b", "r", "c")} and negatives == set()
    facts, truth, negatives = kg_and_truth(kg, "report")
    assert len(facts) == 4 and truth == {("c", "r", "d")} and negatives == {("e", "r", "a")}
    facts, truth, _ = kg_and_truth(kg, "choose", sparse=1)
    assert len(facts) == 1 and truth == {("b", "r", "c")} | ({("a", "r", "b"), ("a", "r", "c"), ("d", "r", "e")}
                                                            - set(facts))


def test_the_curator_benchmark_scores_a_small_kg_and_a_simulated_curator(tmp_path, monkeypatch):
    """bench curator: a curator's KG, its document and labels, the worker's retrain, the queue against the
    hand-written truth, then 30 verdicts through the app's own accept and reject and the re-ranked queue."""
    from bench.curator import bench_curator, labels_for, load_truth, DATA
    from knowco.options import TrainOptions

    truth = load_truth(DATA / "film")
    labels = labels_for(truth, 7)
    assert all(t in truth.true for t, holds in labels if holds) and not any(t in truth.true for t, h in labels if not h)
    assert set(truth.stated) <= truth.true and set(truth.kg) <= truth.true
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    out = tmp_path / "curator.json"
    options = TrainOptions(stage1_epochs=1, stage2_epochs=1, structure_epochs=5)
    lines = []
    text = bench_curator("choose", [7], out, lines.append, options=options)
    runs = json.loads(out.read_text())["runs"]
    assert {r["kg"] for r in runs} == {"film", "companies"}
    film = next(r for r in runs if r["kg"] == "film")
    assert film["curator"]["judged"] == 30 and 0 <= film["before"]["p@30"] <= 1
    assert 0 <= film["curator"]["next_30_without_rerank"] <= min(30, film["before"]["true_in_queue"])
    assert film["before"]["document_facts"] == len(truth.stated) and len(film["before"]["bands"]) == 5
    assert "| film | 7 |" in text and json.loads(out.read_text())["config"]["chosen_on"] == ["film", "companies"]
    assert bench_curator("choose", [7], out, lines.append, options=options) == text  # resumed, not rerun
