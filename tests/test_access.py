"""Served beyond localhost the app needs a login: anonymous sessions see only the form; curators label and
review; admins also train, import and export. Passwords are stored as salted bcrypt hashes, outside the repo."""
from __future__ import annotations

import io
import json
import stat
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from knowco.accounts import AccountError, add_account, authenticate
from knowco.cli import main as cli
from knowco.services import Actor, seed_demo
from knowco.settings import ACCOUNTS_ENV, DATABASE_ENV, LOGIN_ENV
from storage.database import open_database
from tests.conftest import ROOT


@pytest.fixture
def served(tmp_path, monkeypatch):
    accounts = tmp_path / "accounts.json"
    monkeypatch.setenv(ACCOUNTS_ENV, str(accounts))
    add_account("ann", "curator", "correct horse", accounts)
    add_account("root", "admin", "battery staple", accounts)
    database = open_database(str(tmp_path / "kg.sqlite"))
    seed_demo(database, Actor("seeder", "admin"))
    database.dispose()
    monkeypatch.setenv(DATABASE_ENV, database.url)
    monkeypatch.setenv(LOGIN_ENV, "1")
    return accounts


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()


def _sign_in(app: AppTest, name: str, password: str) -> AppTest:
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password)
    app.button[0].click()
    return app.run()


def test_an_anonymous_session_sees_only_the_login(served):
    app = _app()
    assert not app.exception
    assert [t.value for t in app.title] == ["KnowCo"]
    assert len(app.metric) == 0 and len(app.dataframe) == 0 and len(app.sidebar.text_input) == 0
    _sign_in(app, "ann", "wrong password")
    assert app.error[0].value == "Unknown name or wrong password." and len(app.metric) == 0
    _sign_in(app, "nobody", "correct horse")
    assert len(app.metric) == 0


def test_a_curator_reviews_but_does_not_train(served):
    app = _sign_in(_app(), "ann", "correct horse")
    assert app.title[0].value == "Overview" and "Signed in as ann (curator)" in app.sidebar.caption[0].value
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("train_page.py")  # not among a curator's pages at all
    app.switch_page("review_page.py").run()
    assert app.title[0].value == "Review"


def test_an_admin_may_train(served):
    app = _sign_in(_app(), "root", "battery staple")
    app.switch_page("train_page.py").run()
    assert app.title[0].value == "Train"


def test_accounts_hold_salted_hashes_only(served, monkeypatch, capsys):
    data = json.loads(served.read_text())
    hashes = [u["password_hash"] for u in data["users"].values()]
    assert all(h.startswith("$2b$") for h in hashes) and "correct horse" not in served.read_text()
    assert stat.S_IMODE(served.stat().st_mode) == 0o600
    assert authenticate("ann", "correct horse").role == "curator" and authenticate("ann", "nope") is None
    with pytest.raises(AccountError):
        add_account("ann", "curator", "short", served)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))
    assert cli(["user", "add", "bob", "--role", "admin", "--password-stdin"]) == 0
    assert authenticate("bob", "a long enough secret").is_admin
    assert cli(["user", "add", "bad name!", "--password-stdin"]) == 2


def test_serving_beyond_localhost_without_accounts_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "run_app.py"), "--host", "0.0.0.0", "--db",
                             str(tmp_path / "kg.sqlite")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, ACCOUNTS_ENV: str(tmp_path / "none.json")})
    assert result.returncode == 2 and "needs curator accounts" in result.stderr


def test_failed_logins_are_throttled_by_name_without_locking_anyone_out_for_good(served, tmp_path):
    """Shared with the API through the database: after five failures in a row the next try is refused at once
    with the seconds to wait, which double with each failure up to a cap; a wait that is over lets the right
    password in, which clears the count."""
    from datetime import timedelta

    import knowco.throttling as throttling
    from knowco.services import TooManyAttempts, log_in

    database = open_database(str(tmp_path / "kg.sqlite"))
    for _ in range(throttling.FREE_FAILURES):
        assert log_in(database, "root", "guess", "10.0.0.9") is None
    with pytest.raises(TooManyAttempts) as refused:
        log_in(database, "root", "battery staple", "10.0.0.7")  # the right password, another address: still no
    assert refused.value.retry_after == 1 and "try again in 1 s" in str(refused.value)
    assert throttling.wait_for(6) == timedelta(seconds=2) and throttling.wait_for(60) == throttling.MAX_WAIT
    assert log_in(database, "ann", "correct horse", "10.0.0.7") == Actor("ann", "curator")  # other names are not
    with pytest.raises(TooManyAttempts):
        log_in(database, "nobody", "x", "10.0.0.9")  # the address that failed five times waits too
    import time

    time.sleep(1.1)
    assert log_in(database, "root", "battery staple", "10.0.0.7") == Actor("root", "admin")
    assert log_in(database, "root", "guess", "10.0.0.7") is None  # counted from zero again: not refused
    database.dispose()


def test_the_login_form_says_to_wait_after_too_many_failures(served):
    app = _app()
    for _ in range(5):
        _sign_in(app, "root", "guess")
    _sign_in(app, "root", "battery staple")
    assert not app.exception and app.error[0].value.startswith("Too many failed attempts: try again in ")
    assert len(app.metric) == 0
