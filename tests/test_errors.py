"""Two kinds of failure: a curator error is one sentence for the curator; anything else (a bare ValueError
included) is a bug, logged with its traceback under an id that the one sentence names."""
from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from knowco.cli import main
from knowco.errors import CURATOR_ERRORS, CuratorError, report_internal
from knowco.services import Actor, seed_demo
from knowco.settings import DATABASE_ENV
from storage.database import open_database
from tests.conftest import ROOT


def _bug(*args, **kwargs):
    raise ValueError("internal detail the curator must not read")


def test_a_bare_value_error_is_not_a_curator_error():
    assert not issubclass(ValueError, CURATOR_ERRORS)
    assert issubclass(CuratorError, Exception)


def test_an_internal_error_is_logged_with_its_traceback_under_the_id_it_names(caplog):
    try:
        _bug()
    except ValueError as exc:
        sentence = report_internal(exc, "do something")
    incident = sentence.split("error id ")[1].split(";")[0]
    [record] = [r for r in caplog.records if incident in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info[0] is ValueError
    assert "internal detail" not in sentence and "ValueError" in sentence


def test_the_app_shows_a_bug_as_one_sentence_with_its_id(tmp_path, monkeypatch, caplog):
    database = open_database(str(tmp_path / "kg.sqlite"))
    seed_demo(database, Actor("seeder", "admin"))
    monkeypatch.setenv(DATABASE_ENV, database.url)
    monkeypatch.setattr("knowco.overview.kg_stats", _bug)
    app = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()
    assert not app.exception
    [error] = app.error
    assert "unexpected ValueError" in error.value and "error id" in error.value
    assert "internal detail" not in error.value and "Traceback" not in error.value
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)


def test_the_command_line_separates_curator_errors_from_bugs(tmp_path, monkeypatch, capsys, caplog):
    db = str(tmp_path / "kg.sqlite")
    assert main(["--db", db, "suggest"]) == 2
    assert capsys.readouterr().err.startswith("error: no trained model yet")
    monkeypatch.setattr("knowco.cli.statistics", _bug)
    assert main(["--db", db, "stats"]) == 1
    err = capsys.readouterr().err
    assert "unexpected ValueError" in err and "error id" in err and "internal detail" not in err
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)
    with pytest.raises(ValueError, match="internal detail"):
        main(["--db", db, "--debug", "stats"])
