"""The curator's whole loop in a real browser: label, retrain (tiny backbone, few epochs), accept a suggestion
with the keyboard, see it on the graph, export Turtle and find it there. A hostile entity name rides along
and must show as text without running.
"""
from __future__ import annotations

import json
import re
import urllib.parse
import subprocess
import sys
import time

import pytest
from rdflib import Graph
from sqlalchemy import select

from storage.database import open_database
from storage.models import Example, Relation, Sentence, Triple
from storage.rdf_vocab import Iris
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_browser, running_app, screenshot, settle
from tests.conftest import ROOT

HOSTILE = "<img src=x onerror=alert(1)>"
CURATOR = "e2e-curator"


@pytest.fixture
def prepared_db(tmp_path):
    db = tmp_path / "kg.sqlite"
    env = {"KNOWCO_USER": CURATOR}
    run = lambda *args: subprocess.run([sys.executable, "-m", "knowco", "--db", str(db), *args], cwd=ROOT,
                                       check=True, capture_output=True, env={**__import__("os").environ, **env})
    run("demo")
    hostile = tmp_path / "hostile.tsv"
    hostile.write_text(f"{HOSTILE}\ttreats\theadache\n", encoding="utf-8")
    run("import", str(hostile))
    return db


def _sentence_label(db, text: str) -> tuple[str, str, str]:
    """(relation, head mention, tail mention) of the curator's label on the sentence starting with `text`."""
    database = open_database(str(db))
    try:
        with database.sessions() as session:
            example, relation, tokens = session.execute(
                select(Example, Relation.name, Sentence.tokens).join(Sentence, Example.sentence_id == Sentence.id)
                .join(Relation, Example.relation_id == Relation.id).where(Sentence.text.startswith(text))).one()
            return (relation, " ".join(tokens[example.head_start:example.head_end]),
                    " ".join(tokens[example.tail_start:example.tail_end]))
    finally:
        database.dispose()


def _picture(frame):
    """The nodes and edges a pyvis iframe was given, as vis-network reads them; None for other frames."""
    try:
        html = frame.content()
    except Exception:
        return None
    if "vis.DataSet" not in html:
        return None
    nodes = json.loads(re.search(r"nodes = new vis\.DataSet\((\[.*?\])\);", html, re.S).group(1))
    edges = json.loads(re.search(r"edges = new vis\.DataSet\((\[.*?\])\);", html, re.S).group(1))
    return {"nodes": nodes, "edges": edges, "html": html}


def _centre(data) -> list[str]:
    return [n["id"] for n in data["nodes"] if n["size"] > 14]


def _graph_centred_on(page, name: str, timeout: float = 30) -> dict:
    """The picture once it is centred on `name` (the iframe is redrawn after each rerun)."""
    deadline = time.monotonic() + timeout
    while True:
        frames = page.locator("iframe")
        if frames.count():
            frames.first.scroll_into_view_if_needed()  # Chromium may hold back an off-screen iframe
        pictures = [p for p in map(_picture, page.frames[1:]) if p is not None]
        for data in pictures:
            if _centre(data) == [name]:
                return data
        if time.monotonic() > deadline:
            raise AssertionError(f"no graph centred on {name!r}; centres shown: {[_centre(p) for p in pictures]}")
        time.sleep(0.5)


def test_label_train_accept_see_export(prepared_db, tmp_path):
    sync_playwright = require_browser()
    env = {"KNOWCO_USER": CURATOR, "KNOWCO_MODEL_DIR": str(tmp_path / "models")}
    with running_app(prepared_db, env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
        alerts, hosts, console = [], set(), []
        page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
        # the loss chart once logged ~1,000 "Infinite extent" warnings while the Train page polled
        page.on("console", lambda message: console.append(message.text))
        page.on("request", lambda request: hosts.add(urllib.parse.urlsplit(request.url).hostname))
        page.set_default_timeout(30_000)

        page.goto(url)
        page.get_by_role("heading", name="Overview").wait_for()
        screenshot(page, "overview")

        # label: aspirin affects the stomach, a positive triple for `affects`
        page.goto(f"{url}/label_page")
        page.get_by_role("heading", name="Label").wait_for()
        for label, text in (("Search Head", "aspirin"), ("Search Tail", "stomach")):
            page.get_by_label(label).fill(text)
            page.get_by_label(label).press("Enter")
            settle(page, 0.5)
        page.get_by_role("button", name="Add triple label").click()
        page.get_by_text(re.compile(r"^Added: aspirin")).wait_for()
        screenshot(page, "label")

        # a sentence label for another relation, chosen in the sentence form
        page.get_by_role("combobox", name="Relation").click()
        page.get_by_role("option", name=re.compile(r"^has side effect")).click()
        settle(page)
        page.get_by_role("tab", name="Add a sentence").click()
        page.get_by_text("Type a new sentence").click()
        area = page.get_by_role("textbox", name="Sentence", exact=True)
        area.fill("Lorazepam may cause drowsiness in older patients.")
        area.press("Control+Enter")
        settle(page, 0.5)
        page.get_by_role("button", name="Add sentence", exact=True).click()
        settle(page)
        # the relation the sentence states starts unchosen: the curator picks it after reading the sentence
        stated = page.get_by_role("combobox", name="Relation stated")
        stated.click()
        stated.fill("has side effect")
        page.keyboard.press("Enter")
        settle(page)
        page.get_by_role("button", name="Add sentence label").click()
        page.get_by_text("Sentence label added").wait_for()
        assert _sentence_label(prepared_db, "Lorazepam may cause drowsiness in older") == \
            ("has_side_effect", "Lorazepam", "drowsiness")

        # retrain with few epochs; the worker runs in the background while the page polls
        page.goto(f"{url}/train_page")
        page.get_by_role("heading", name="Train").wait_for()
        page.get_by_text("Advanced options").click()
        for label, value in (("Stage 1 epochs (prompt only)", "1"), ("Stage 2 epochs (all weights)", "2")):
            box = page.get_by_label(label)
            box.fill(value)
            box.press("Tab")
        page.get_by_role("button", name="Retrain").click()
        page.get_by_text(re.compile(r"^v1: (queued|running)")).wait_for()
        page.get_by_text(re.compile(r"^v1 is (right|not checked)")).wait_for(timeout=240_000)
        screenshot(page, "train")
        assert not [text for text in console if "Infinite extent" in text], console[:3]

        # accept the top suggestion with the keyboard
        page.goto(f"{url}/review_page")
        page.get_by_role("heading", name="Review").wait_for()
        page.get_by_role("button").filter(has_text="Accept").first.wait_for()
        # both opinions behind the confidence: the text model's and the graph model's
        page.get_by_text(re.compile(r"^text model \d\.\d\d · graph model \d\.\d\d · ")).wait_for()
        screenshot(page, "review")
        page.locator("h3").first.click()
        page.keyboard.press("a")
        page.get_by_text(re.compile(r"^Accepted: ")).wait_for()

        database = open_database(str(prepared_db))
        with database.sessions() as session:
            accepted = session.scalars(select(Triple).where(Triple.reviewed_by == CURATOR,
                                                             Triple.status == "accepted")).all()
            assert len(accepted) == 1 and accepted[0].source == "model"
            head, relation, tail = accepted[0].head.name, accepted[0].relation.name, accepted[0].tail.name
        database.dispose()

        # the accepted triple is a solid edge on the graph, centred on its head
        page.goto(f"{url}/graph_page")
        page.get_by_role("heading", name="Graph").wait_for()
        page.get_by_label("Find an entity").fill(head)
        page.get_by_label("Find an entity").press("Enter")
        data = _graph_centred_on(page, head)
        assert any(e["from"] == head and e["to"] == tail and not e["dashes"] for e in data["edges"])
        screenshot(page, "graph")

        # the hostile name shows as text on the page and in the picture, and never runs
        page.get_by_label("Find an entity").fill("img src")
        page.get_by_label("Find an entity").press("Enter")
        data = _graph_centred_on(page, HOSTILE)
        assert "<img src=x" not in data["html"]
        page.get_by_text(HOSTILE).first.wait_for()
        assert alerts == []

        # export Turtle and find the accepted triple as an asserted fact
        page.goto(f"{url}/data_page")
        page.get_by_role("tab", name="Export").click()
        page.get_by_role("button", name="Prepare the file").click()
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile(r"^Download")).click()
        graph = Graph().parse(download.value.path(), format="turtle")
        iris = Iris()
        assert (iris.entity(head), iris.relation(relation), iris.entity(tail)) in graph
        page.goto(f"{url}/history_page")
        page.get_by_role("heading", name="History").wait_for()
        screenshot(page, "history")
        browser.close()
    # the app runs offline: every request the walk made went to the app itself (no fonts, icons or telemetry)
    assert hosts <= {"127.0.0.1", None}, hosts


def test_an_import_says_what_it_did_until_the_next_upload(prepared_db, tmp_path):
    """A music-KG trial: after *Import* only a toast said so, and it faded while the file and the button stayed,
    so the page looked as if nothing had happened. The uploader is emptied and a lasting message says what came in."""
    sync_playwright = require_browser()
    kg = tmp_path / "bands.tsv"
    kg.write_text("The_Beatles\tformed_in\tLiverpool\nQueen\tformed_in\tLondon\n", encoding="utf-8")
    with running_app(prepared_db, {"KNOWCO_USER": CURATOR}) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}/data_page")
        page.locator("input[type=file]").first.set_input_files(str(kg))
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text("Imported bands.tsv:").wait_for()
        settle(page, 6.0)  # longer than a toast stays
        assert page.get_by_text("Imported bands.tsv:").is_visible()
        assert page.get_by_role("button", name="Import", exact=True).count() == 0
        assert page.get_by_text("bands.tsv reads as").count() == 0
        browser.close()
