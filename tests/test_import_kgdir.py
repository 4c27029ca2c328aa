"""Importing the UMLS directory, idempotently, and the round trip through Turtle demanded by the issue."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from knowco.services import Actor, export_file, import_file
from storage.models import AuditEvent, Entity, Relation, Triple
from storage.stats import kg_stats

UMLS_TRIPLES = 5216 + 652 + 661


def _triple_set(csv_path) -> set[tuple[str, str, str]]:
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return set(zip(frame["head"], frame["relation"], frame["tail"]))


def test_umls_import_counts(db, umls_dir):
    report = import_file(db, Actor("alice", "admin"), umls_dir)
    assert report.created == {"entities": 135, "relations": 46, "triples": UMLS_TRIPLES}
    with db.sessions() as session:
        stats = kg_stats(session)
        virus = session.scalar(select(Entity).where(Entity.name == "virus"))
        location_of = session.scalar(select(Relation).where(Relation.name == "location_of"))
        sources = set(session.scalars(select(Triple.source).distinct()))
    assert (stats.entities, stats.relations) == (135, 46)
    assert stats.triples == {"accepted": UMLS_TRIPLES, "suggested": 0, "rejected": 0, "retracted": 0, "disputed": 0}
    assert virus.label == "virus" and virus.description.startswith("A virus is a small infectious agent")
    assert location_of.label == "location of"
    assert sources == {"imported"}


def test_reimport_changes_nothing(db, umls_dir):
    import_file(db, Actor("alice", "admin"), umls_dir)
    report = import_file(db, Actor("bob", "admin"), umls_dir)
    assert not any(report.created.values()) and not any(report.updated.values())
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Triple)) == UMLS_TRIPLES
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        assert set(session.scalars(select(Triple.created_by).distinct())) == {"alice"}


def test_round_trip_through_turtle(db, make_db, umls_dir, tmp_path):
    import_file(db, Actor("alice", "admin"), umls_dir)
    export_file(db, Actor("exporter", "admin"), tmp_path / "kg.ttl", "turtle")
    export_file(db, Actor("exporter", "admin"), tmp_path / "original.csv", "csv")
    second = make_db()
    import_file(second, Actor("bob", "admin"), tmp_path / "kg.ttl")
    export_file(second, Actor("exporter", "admin"), tmp_path / "again.csv", "csv")
    original, again = _triple_set(tmp_path / "original.csv"), _triple_set(tmp_path / "again.csv")
    assert len(original) == UMLS_TRIPLES
    assert again == original
    with second.sessions() as session:
        stats = kg_stats(session)
        label = session.scalar(select(Entity.label).where(Entity.name == "idea_or_concept"))
    assert (stats.entities, stats.relations) == (135, 46)
    assert label == "idea or concept"
    again_frame = pd.read_csv(tmp_path / "again.csv", dtype=str, keep_default_na=False)
    assert set(again_frame["created_by"]) == {"alice"}, "provenance travels through the RDF"


def test_fewshot_file_imports_as_tsv(db, umls_dir):
    report = import_file(db, Actor("alice", "admin"), umls_dir / "fewshot" / "8shot-42-train.tsv")
    assert report.created["triples"] == 329


def test_a_kg_directory_uploaded_one_file_at_a_time_keeps_its_kinds_and_names(db):
    """The uploader takes one file at a time: entity2type.txt and relation2text.txt alone once failed with
    "expected 3 fields"; they now fill the kinds and the relations' names of what train.tsv brought in."""
    from knowco.services import import_upload, preview_upload

    admin = Actor("ann", "admin")
    import_upload(db, admin, "train.tsv", b"Apollo 11\tlaunched_by\tNASA\nNASA\tagency_of\tUnited States\n", "auto")
    assert preview_upload("entity2type.txt", b"Apollo 11\tmission\nNASA\tagency\n").format == "kgdir"
    import_upload(db, admin, "entity2type.txt", b"Apollo 11\tmission\nNASA\tagency\nGemini 12\tmission\n", "auto")
    import_upload(db, admin, "relation2text.txt", b"launched_by\tlaunched by\nagency_of\tagency of\n", "auto")
    with db.sessions() as session:
        kinds = dict(session.execute(select(Entity.name, Entity.type)).all())
        labels = dict(session.execute(select(Relation.name, Relation.label)).all())
    assert kinds["Apollo 11"] == "mission" and kinds["NASA"] == "agency" and kinds["Gemini 12"] == "mission"
    assert labels == {"launched_by": "launched by", "agency_of": "agency of"}
