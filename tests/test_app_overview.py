"""The app's entry point renders on a seeded database (AppTest, no browser)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from knowco.services import Actor, seed_demo
from knowco.settings import DATABASE_ENV
from tests.conftest import ROOT


def test_overview_renders_counts(tmp_path, monkeypatch):
    from storage.database import open_database

    url = f"sqlite:///{tmp_path / 'kg.sqlite'}"
    database = open_database(url)
    seed_demo(database, Actor("tester", "admin"))
    database.dispose()
    monkeypatch.setenv(DATABASE_ENV, url)
    app = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Entities"] == "136" and metrics["Accepted triples"] == "326"
    assert app.dataframe[0].value["relation"].tolist()[0] == "affects"
