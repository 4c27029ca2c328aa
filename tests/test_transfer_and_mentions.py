"""Uploads (preview first, then all-or-nothing), downloads, and entity mentions found in a sentence."""
from __future__ import annotations

import re

import pytest
from rdflib import Graph

from knowco.services import (Actor, detect_mentions, export_bytes, find_sentences, history, import_document,
                             import_upload, preview_upload, seed_demo)
from storage.importers import ImportFailed
from storage.stats import kg_stats

ANN = Actor("ann", "admin")


def test_preview_reads_everything_and_writes_nothing(sqlite_db):
    data = "aspirin\ttreats\tfever\nibuprofen\ttreats\tpain\n".encode()
    preview = preview_upload("../../etc/new.tsv", data)
    assert (preview.format, preview.entities, preview.triples) == ("tsv", 4, 2)
    assert preview.sample[0] == ("aspirin", "treats", "fever")
    with sqlite_db.sessions() as session:
        assert kg_stats(session).entities == 0
    report = import_upload(sqlite_db, ANN, "../../etc/new.tsv", data, "auto")
    assert report.path == "new.tsv" and report.created["triples"] == 2
    [event] = history(sqlite_db, actions=["import"])
    assert event.details["path"] == "new.tsv"  # the uploaded file's name, not a temporary folder's


def test_a_bad_upload_names_its_line_and_writes_nothing(sqlite_db):
    data = "aspirin\ttreats\tfever\nbroken line\n".encode()
    with pytest.raises(ImportFailed, match=r"^bad\.tsv:2: "):
        preview_upload("bad.tsv", data)
    with pytest.raises(ImportFailed, match=r"^bad\.tsv:2: "):
        import_upload(sqlite_db, ANN, "bad.tsv", data, "auto")
    with sqlite_db.sessions() as session:
        assert kg_stats(session).triples["accepted"] == 0


def test_documents_become_sentences_and_exports_parse(sqlite_db):
    seed_demo(sqlite_db, Actor("seeder", "admin"))
    added, present = import_document(sqlite_db, ANN, "paper.txt", "Warfarin can cause bleeding. Aspirin too!\n".encode())
    assert (added, present) == (2, 0)
    content, name, mime, n = export_bytes(sqlite_db, ANN, "Turtle")
    assert name.endswith(".ttl") and mime == "text/turtle" and len(Graph().parse(data=content, format="turtle")) == n
    content, name, _, rows = export_bytes(sqlite_db, ANN, "CSV")
    assert rows == 326 and content.decode().startswith("head,")


def test_mentions_prefer_the_longest_name_and_ignore_case(sqlite_db):
    seed_demo(sqlite_db, Actor("seeder", "admin"))
    import_document(sqlite_db, ANN, "t.txt", "Type 2 diabetes is treated with METFORMIN , not with insulin.".encode())
    [sentence] = find_sentences(sqlite_db, "treated with METFORMIN , not")
    mentions = detect_mentions(sqlite_db, sentence.tokens)
    assert [(m.text, m.entity) for m in mentions] == [("Type 2 diabetes", "type 2 diabetes"),
                                                     ("METFORMIN", "metformin"), ("insulin", "insulin")]


def test_uploads_are_bounded_and_typed(sqlite_db, monkeypatch):
    monkeypatch.setattr("knowco.transfer.MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(ImportFailed, match="larger than 0 MB; use `python -m knowco import`"):
        preview_upload("big.tsv", b"a\tb\tc\n" * 500)
    with pytest.raises(ImportFailed, match="unknown file type '.exe'"):
        preview_upload("tool.exe", b"MZ\x90\x00")
    with sqlite_db.sessions() as session:
        assert kg_stats(session).entities == 0


def test_no_secret_is_tracked_in_the_repository():
    import subprocess

    from tests.conftest import ROOT

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert not [p for p in tracked if p.endswith(("accounts.json", ".env", "secrets.toml"))]
    for path in tracked:
        if path.endswith((".py", ".md", ".toml", ".json", ".txt", ".yml", ".yaml", ".cfg", ".ini")):
            content = (ROOT / path).read_text(encoding="utf-8", errors="ignore")
            assert not re.search(r"\$2b\$\d\d\$[./A-Za-z0-9]{53}|-----BEGIN [A-Z ]*PRIVATE KEY-----", content), path


def test_an_export_gets_the_permissions_of_any_file_the_user_writes(sqlite_db, tmp_path):
    import os
    import stat

    from knowco.services import export_file

    seed_demo(sqlite_db, Actor("seeder", "admin"))
    mask = os.umask(0o022)
    try:
        export_file(sqlite_db, ANN, tmp_path / "kg.ttl")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "kg.ttl").stat().st_mode) == 0o644  # not mkstemp's owner-only 0600


def test_sentences_are_split_where_a_reader_would():
    from storage.text_split import split_sentences

    text = ("Dr. Smith treated the U.S. patient, e.g. with aspirin. It worked (Fig. 2).\n"
            "Mutations were found. p53 was also mutated in 40% of cases.")
    assert split_sentences(text) == ["Dr. Smith treated the U.S. patient, e.g. with aspirin.", "It worked (Fig. 2).",
                                     "Mutations were found.", "p53 was also mutated in 40% of cases."]


def test_entity_search_forgives_typos(sqlite_db):
    from knowco.services import search_entities

    seed_demo(sqlite_db, Actor("seeder", "admin"))
    assert [e.name for e in search_entities(sqlite_db, "metformn", limit=5)] == ["metformin"]
    assert [e.name for e in search_entities(sqlite_db, "diab", limit=5)][:2] == ["type 1 diabetes", "type 2 diabetes"]
    assert search_entities(sqlite_db, "zzzz") == []
