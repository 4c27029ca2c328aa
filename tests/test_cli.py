"""The `python -m knowco` contract, run as a user would: a real subprocess, exit codes, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def knowco(*args: str, user: str = "cli-user") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knowco", "--user", user, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_import_stats_export(tmp_path, umls_dir, semeval_dir):
    db = str(tmp_path / "kg.sqlite")
    done = knowco("--db", db, "import", str(umls_dir))
    assert done.returncode == 0, done.stderr
    assert "135 entities, 46 relations, 6529 triples" in done.stdout
    assert knowco("--db", db, "import", str(semeval_dir / "val.txt")).returncode == 0
    stats = json.loads(knowco("--db", db, "stats", "--json").stdout)
    assert stats["entities"] >= 135 and stats["relations"] == 46 + 9
    assert stats["triples"] == {"accepted": 6529, "suggested": 0, "rejected": 0, "retracted": 0, "disputed": 0}
    assert stats["examples_by_relation"]["Cause-Effect"]["sentences"] > 0
    for fmt, suffix in (("turtle", "ttl"), ("nt", "nt"), ("jsonld", "jsonld"), ("csv", "csv")):
        done = knowco("--db", db, "export", str(tmp_path / f"out.{suffix}"), "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"out.{suffix}").stat().st_size > 0


def test_bad_input_exits_non_zero_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,r,b\nonly,two\n", encoding="utf-8")
    done = knowco("--db", str(tmp_path / "kg.sqlite"), "import", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {bad}:2: expected 3 fields (head, relation, tail), found 2"
    missing = knowco("--db", str(tmp_path / "kg.sqlite"), "import", str(tmp_path / "nope.tsv"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    unreachable = knowco("--db", "postgresql://nobody@127.0.0.1:1/none", "stats")
    assert unreachable.returncode == 2 and unreachable.stderr.count("\n") == 1


def test_demo_verb_and_human_stats(tmp_path):
    db = str(tmp_path / "kg.sqlite")
    assert knowco("--db", db, "demo").returncode == 0
    text = knowco("--db", db, "stats").stdout
    assert "entities   136" in text and "treats:" in text


def test_the_same_commands_work_on_each_backend(db, tmp_path, umls_dir):
    url = db.url
    done = knowco("--db", url, "import", str(umls_dir / "test.tsv"))
    assert done.returncode == 0, done.stderr
    stats = json.loads(knowco("--db", url, "stats", "--json").stdout)
    assert stats["triples"]["accepted"] == 661
    done = knowco("--db", url, "export", str(tmp_path / "out.nt"))
    assert done.returncode == 0, done.stderr
    assert "<http://example.org/knowco/relation/" in (tmp_path / "out.nt").read_text(encoding="utf-8")


def test_backup_and_restore_round_trip(tmp_path, capsys):
    from knowco.cli import main as cli

    db, copy = tmp_path / "kg.sqlite", tmp_path / "kg-backup.sqlite"
    assert cli(["--db", str(db), "demo"]) == 0
    assert cli(["--db", str(db), "backup", str(copy)]) == 0
    assert "backed up 136 entities" in capsys.readouterr().out
    assert cli(["--db", str(db), "backup", str(copy)]) == 2
    assert "already exists" in capsys.readouterr().err
    other = tmp_path / "other.sqlite"
    assert cli(["--db", str(other), "restore", str(copy)]) == 0
    assert cli(["--db", str(other), "stats", "--json"]) == 0
    assert '"entities": 136' in capsys.readouterr().out
    assert cli(["--db", str(other), "restore", str(copy)]) == 2
    assert "add --force" in capsys.readouterr().err
    assert cli(["--db", str(other), "restore", str(copy), "--force"]) == 0
    not_a_kg = tmp_path / "notes.sqlite"
    not_a_kg.write_bytes(b"not a database at all")
    assert cli(["--db", str(other), "restore", str(not_a_kg), "--force"]) == 2
    assert "not a KnowCo database" in capsys.readouterr().err
    assert cli(["--db", str(other), "stats", "--json"]) == 0
    assert '"entities": 136' in capsys.readouterr().out


def test_labels_from_the_command_line_then_a_retrain_sees_them(tmp_path):
    db = str(tmp_path / "kg.sqlite")
    kg = tmp_path / "kg.tsv"
    kg.write_text("paris\tcapital_of\tfrance\nmadrid\tcapital_of\tspain\nfrance\tborders\tspain\n", encoding="utf-8")
    assert knowco("--db", db, "import", str(kg)).returncode == 0
    added = knowco("--db", db, "label", "add", "paris", "borders", "spain", "--no")
    assert added.returncode == 0 and "paris borders spain does not hold" in added.stdout
    labels = tmp_path / "labels.csv"
    labels.write_text("head,relation,tail,holds\nmadrid,capital_of,france,no\nparis,capital_of,france,yes\n",
                      encoding="utf-8")
    done = knowco("--db", db, "label", "import", str(labels))
    assert done.returncode == 0 and "2 triple labels added" in done.stdout, done.stderr
    stats = json.loads(knowco("--db", db, "stats", "--json").stdout)["examples_by_relation"]
    assert stats["capital_of"]["positive_triples"] == 1 and stats["capital_of"]["negative_triples"] == 1
    assert stats["borders"]["negative_triples"] == 1
    broken = tmp_path / "broken.tsv"
    broken.write_text("madrid\tborders\tfrance\tyes\nrome\tborders\tfrance\tyes\n", encoding="utf-8")
    refused = knowco("--db", db, "label", "import", str(broken))
    assert refused.returncode == 2 and "broken.tsv line 2: there is no entity named 'rome'" in refused.stderr
    after = json.loads(knowco("--db", db, "stats", "--json").stdout)["examples_by_relation"]
    assert after["borders"]["positive_triples"] == 0  # line 1 was not kept: all or nothing


def test_help_starts_without_loading_the_model_libraries():
    """`--help` must not import torch, transformers, PyKEEN, scikit-learn or pandas (8-9 s on 2 cores before)."""
    probe = ("import sys; from knowco.cli import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('torch', 'transformers', 'pykeen', 'sklearn', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("[]"), done.stdout + done.stderr


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path):
    """`python -m knowco stats | head -1` printed a BrokenPipeError traceback (the README promises one-line
    errors): here the reader closes its end before anything is written."""
    db = str(tmp_path / "kg.sqlite")
    assert knowco("--db", db, "demo").returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "knowco", "--db", db, "stats"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_serve_api_refuses_no_server_processes(tmp_path, capsys):
    from knowco.cli import main as cli

    assert cli(["--db", str(tmp_path / "kg.sqlite"), "serve-api", "--workers", "0"]) == 2
    assert "--workers needs at least one server process" in capsys.readouterr().err
