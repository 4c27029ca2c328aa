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


def test_failed_logins_are_throttled_without_locking_anyone_out(served, tmp_path):
    """Shared with the API through the database: after five failures in a row from an address the next try
    from there is refused at once with the seconds to wait, which double with each failure up to a cap; the
    admin's own address stays open; a wait that is over lets the right password in, which clears the count."""
    import time
    from datetime import timedelta

    import knowco.throttling as throttling
    from knowco.services import TooManyAttempts, log_in

    database = open_database(str(tmp_path / "kg.sqlite"))
    for _ in range(throttling.FREE_FAILURES):
        assert log_in(database, "root", "guess", "10.0.0.9") is None
    with pytest.raises(TooManyAttempts) as refused:
        log_in(database, "root", "battery staple", "10.0.0.9")  # the right password, from there: not now
    assert refused.value.retry_after == 1 and "try again in 1 s" in str(refused.value)
    with pytest.raises(TooManyAttempts):
        log_in(database, "ann", "correct horse", "10.0.0.9")  # that address waits for every name
    assert log_in(database, "root", "battery staple", "10.0.0.7") == Actor("root", "admin")  # the admin's own
    assert throttling.wait_for(6) == timedelta(seconds=2) and throttling.wait_for(60) == throttling.MAX_WAIT
    assert log_in(database, "root", "x" * 100, "10.0.0.7") is None  # past bcrypt's 72 bytes: wrong, not a crash
    time.sleep(1.1)
    assert log_in(database, "root", "battery staple", "10.0.0.9") == Actor("root", "admin")
    assert log_in(database, "root", "guess", "10.0.0.9") is None  # counted from zero again: not refused
    database.dispose()


def test_guesses_from_many_addresses_slow_a_name_down_for_a_minute_at_most(served, tmp_path, monkeypatch):
    import knowco.throttling as throttling
    from knowco.services import TooManyAttempts, log_in

    monkeypatch.setattr(throttling, "NAME_FREE_FAILURES", 3)
    database = open_database(str(tmp_path / "kg.sqlite"))
    for i in range(3):
        assert log_in(database, "root", "guess", f"10.1.0.{i}") is None
    with pytest.raises(TooManyAttempts) as refused:
        log_in(database, "root", "battery staple", "10.2.0.1")
    assert refused.value.retry_after <= throttling.NAME_MAX_WAIT.total_seconds()
    assert throttling.wait_for(99, throttling.NAME_FREE_FAILURES, throttling.NAME_MAX_WAIT) == throttling.NAME_MAX_WAIT
    database.dispose()


def test_parallel_guesses_cannot_slip_past_the_count(served, tmp_path, monkeypatch):
    """Each try is counted before its password is checked: of twelve guesses sent at once from one address,
    at most the five free ones reach the password check."""
    import threading

    import knowco.throttling as throttling
    from knowco.services import TooManyAttempts, log_in

    database = open_database(str(tmp_path / "kg.sqlite"))
    checked, real = [], throttling.authenticate
    monkeypatch.setattr(throttling, "authenticate", lambda *a: checked.append(1) or real(*a))
    refused = []

    def guess() -> None:
        try:
            log_in(database, "root", "guess", "10.0.0.5")
        except TooManyAttempts:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) <= throttling.FREE_FAILURES and len(checked) + len(refused) == 12
    database.dispose()


def test_the_login_form_says_to_wait_after_too_many_failures(served):
    app = _app()
    for _ in range(8):  # the eighth failure makes the next try wait 8 s: longer than a run of the form takes
        _sign_in(app, "root", "guess")
    _sign_in(app, "root", "battery staple")
    assert not app.exception and app.error[0].value.startswith("Too many failed attempts: try again in ")
    assert len(app.metric) == 0
