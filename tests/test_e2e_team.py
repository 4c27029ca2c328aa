"""Two signed-in curators disagree on a suggestion in their own browsers, and an adjudicator decides it on the
Team page (issue 13): the real app, real sign-in, one database."""
from __future__ import annotations

import re

import pytest

from knowco.services import Actor, add_account, seed_demo, set_review_overlap
from knowco.settings import LOGIN_ENV
from storage.database import open_database
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser, running_app, settle
from tests.storage_helpers import queued, triple_status

PASSWORD = "a long enough secret"


@pytest.fixture
def team_db(tmp_path):
    path = tmp_path / "kg.sqlite"
    database = open_database(str(path))
    seed_demo(database, Actor("seeder", "admin"))
    queued(database, [("ibuprofen", "treats", "gout", 0.8)])
    set_review_overlap(database, Actor("ada", "admin"), 2)
    database.dispose()
    accounts = tmp_path / "accounts.json"
    for name, role in (("ann", "curator"), ("bob", "curator"), ("ada", "admin")):
        add_account(name, role, PASSWORD, accounts)
    return path, accounts


def _signed_in(browser, url: str, name: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.get_by_label("Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    return page


def _open(page, title: str) -> None:
    """Through the sidebar: loading a page's URL anew would start a new session, signed out."""
    page.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    settle(page, 0.5)


def _verdict(page, key: str, expected: str) -> None:
    """Accept (a) or reject (x) the suggestion on the Review page, from the keyboard."""
    _open(page, "Review")
    page.get_by_role("heading", name=re.compile("ibuprofen")).click()
    page.keyboard.press(key)
    page.get_by_text(re.compile(expected)).first.wait_for()
    settle(page, 0.5)


def test_two_curators_disagree_and_an_adjudicator_decides(team_db):
    sync_playwright = require_browser()
    db, accounts = team_db
    with running_app(db, {"KNOWCO_ACCOUNTS": str(accounts), LOGIN_ENV: "1"}) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ann, bob = _signed_in(browser, url, "ann"), _signed_in(browser, url, "bob")
        _verdict(ann, "a", r"your verdict is 1 of the 2 needed")
        _verdict(bob, "x", r"the curators disagree: it goes to adjudication")
        assert triple_status_at(db) == "disputed"
        ada = _signed_in(browser, url, "ada")
        _open(ada, "Team")
        ada.get_by_role("heading", name="Suggestions to adjudicate").wait_for()
        ada.get_by_text("ann: accepted").wait_for()
        ada.get_by_text("bob: rejected (false)").wait_for()
        ada.get_by_role("button", name="Accept", exact=True).click()
        ada.get_by_text(re.compile(r"^Accepted: ibuprofen")).wait_for()
        browser.close()
    assert triple_status_at(db) == "accepted"


def triple_status_at(path) -> str:
    database = open_database(str(path))
    try:
        return triple_status(database, "ibuprofen", "treats", "gout")
    finally:
        database.dispose()
