"""Who and when on every write; the bundled demo KG, loaded on request (`run_app.py --demo`, `knowco demo`,
the Overview's first screen) and never mixed into a curator's KG unannounced."""
from __future__ import annotations

import os
import sys

import pytest
from sqlalchemy import func, select

import run_app
from knowco.cli import main

from knowco.demo import DEMO_DIR
from knowco.services import Actor, import_file, open_database, overview, seed_demo, seed_demo_if_empty, settings
from storage.audit import recent_events
from storage.models import Entity, Example, Relation, Triple


def test_import_is_audited_with_the_curator(db, tmp_path):
    (tmp_path / "t.tsv").write_text("a\tr\tb\n", encoding="utf-8")
    import_file(db, Actor("erin", "admin"), tmp_path / "t.tsv")
    with db.sessions() as session:
        events = recent_events(session)
        creators = set(session.scalars(select(Entity.created_by)))
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.action, event.target) == ("erin", "import", "file")
    assert event.details["created"]["triples"] == 1 and event.details["path"].endswith("t.tsv")
    assert event.at is not None and creators == {"erin"}


def test_default_user_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("KNOWCO_USER", "frank")
    assert settings().default_user() == "frank"
    assert settings().with_flags(user="gina").default_user() == "gina"


def test_demo_kg_is_realistic_and_seeded_once(db):
    assert seed_demo_if_empty(db, Actor("demo", "admin")) is True
    assert seed_demo_if_empty(db, Actor("demo", "admin")) is False
    with db.sessions() as session:
        entities = session.scalar(select(func.count()).select_from(Entity))
        described = session.scalar(select(func.count()).select_from(Entity).where(Entity.description != ""))
        typed = session.scalar(select(func.count()).select_from(Entity).where(Entity.type.is_not(None)))
        relations = session.scalars(select(Relation)).all()
        triples = session.scalar(select(func.count()).select_from(Triple))
        sentences = session.scalar(select(func.count()).select_from(Example).where(Example.kind == "sentence"))
    assert entities >= 100 and described == entities and typed == entities
    assert len(relations) >= 8 and all(" " in r.label or r.label == r.name for r in relations)
    assert triples >= 300 and sentences >= 40
    assert overview(db).progress and all(p.target == 8 for p in overview(db).progress)


def test_seed_demo_is_idempotent(db):
    seed_demo(db, Actor("demo", "admin"))
    reports = seed_demo(db, Actor("demo", "admin"))
    assert all(not any(r.created.values()) for r in reports)
    assert (DEMO_DIR / "train.tsv").is_file()


def _launch(monkeypatch, *argv: str) -> None:
    """run_app.main up to the hand-over to Streamlit."""
    def handed_over(*args):
        raise SystemExit(0)

    monkeypatch.setattr(sys, "argv", ["run_app.py", *argv])
    monkeypatch.setattr(os, "execv", handed_over)
    with pytest.raises(SystemExit):
        run_app.main()


def test_a_new_database_starts_empty_unless_the_demo_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOWCO_MODEL_DIR", str(tmp_path / "models"))
    _launch(monkeypatch, "--db", str(tmp_path / "mine.sqlite"))
    _launch(monkeypatch, "--db", str(tmp_path / "tour.sqlite"), "--demo")
    assert overview(open_database(str(tmp_path / "mine.sqlite"))).stats.entities == 0
    assert overview(open_database(str(tmp_path / "tour.sqlite"))).stats.entities == 136


def test_the_demo_is_not_mixed_into_a_kg_unannounced(tmp_path, capsys):
    (tmp_path / "mine.tsv").write_text("metformin\ttreats\tdiabetes\n", encoding="utf-8")
    db = str(tmp_path / "kg.sqlite")
    assert main(["--db", db, "import", str(tmp_path / "mine.tsv")]) == 0
    assert main(["--db", db, "demo"]) == 2
    assert "already holds a knowledge graph" in capsys.readouterr().err
    assert overview(open_database(db)).stats.entities == 2
    assert main(["--db", db, "demo", "--mix"]) == 0
    assert overview(open_database(db)).stats.entities > 100
