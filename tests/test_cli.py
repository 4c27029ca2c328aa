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
    assert stats["entities"] >= 135 and stats["relations"] == 46 + 18
    assert stats["triples"] == {"accepted": 6529, "suggested": 0, "rejected": 0}
    assert stats["examples_by_relation"]["Cause-Effect(e1,e2)"]["sentences"] > 0
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
