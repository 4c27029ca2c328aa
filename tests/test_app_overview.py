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


def test_after_importing_facts_the_next_step_says_they_already_teach_the_model(tmp_path):
    """From a curator's trial: after importing 80 facts the Overview still said 'Label 48 more examples', as
    if nothing could be trained yet."""
    from knowco.services import Actor, import_file, open_database, overview

    (tmp_path / "kg.tsv").write_text("Paris\tcapital_of\tFrance\nRome\tcapital_of\tItaly\n", encoding="utf-8")
    database = open_database(str(tmp_path / "kg.sqlite"))
    import_file(database, Actor("ann", "admin"), tmp_path / "kg.tsv")
    [label_step, *_] = overview(database).next_steps
    assert label_step.text.startswith("Your 2 facts already teach the model: you can retrain now.")
    database.dispose()
