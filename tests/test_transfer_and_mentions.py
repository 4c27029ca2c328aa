"""Uploads (preview first, then all-or-nothing), downloads, and entity mentions found in a sentence."""
from __future__ import annotations

import pytest
from rdflib import Graph

from knowco.demo import seed_demo
from knowco.mentions import detect_mentions
from knowco.transfer import export_bytes, import_document, import_upload, preview_upload
from storage.corpus import find_sentences
from storage.importers import ImportFailed
from storage.stats import kg_stats


def test_preview_reads_everything_and_writes_nothing(sqlite_db):
    data = "aspirin\ttreats\tfever\nibuprofen\ttreats\tpain\n".encode()
    preview = preview_upload("../../etc/new.tsv", data)
    assert (preview.format, preview.entities, preview.triples) == ("tsv", 4, 2)
    assert preview.sample[0] == ("aspirin", "treats", "fever")
    with sqlite_db.sessions() as session:
        assert kg_stats(session).entities == 0
    report = import_upload(sqlite_db, "../../etc/new.tsv", data, "auto", "ann")
    assert report.path == "new.tsv" and report.created["triples"] == 2


def test_a_bad_upload_names_its_line_and_writes_nothing(sqlite_db):
    data = "aspirin\ttreats\tfever\nbroken line\n".encode()
    with pytest.raises(ImportFailed, match=r"bad\.tsv:2"):
        preview_upload("bad.tsv", data)
    with pytest.raises(ImportFailed):
        import_upload(sqlite_db, "bad.tsv", data, "auto", "ann")
    with sqlite_db.sessions() as session:
        assert kg_stats(session).triples["accepted"] == 0


def test_documents_become_sentences_and_exports_parse(sqlite_db):
    seed_demo(sqlite_db, "seeder")
    added, present = import_document(sqlite_db, "paper.txt", "Warfarin can cause bleeding. Aspirin too!\n".encode(),
                                     "ann")
    assert (added, present) == (2, 0)
    content, name, mime, n = export_bytes(sqlite_db, "Turtle")
    assert name.endswith(".ttl") and mime == "text/turtle" and len(Graph().parse(data=content, format="turtle")) == n
    content, name, _, rows = export_bytes(sqlite_db, "CSV")
    assert rows == 326 and content.decode().startswith("head,")


def test_mentions_prefer_the_longest_name_and_ignore_case(sqlite_db):
    seed_demo(sqlite_db, "seeder")
    import_document(sqlite_db, "t.txt", "Type 2 diabetes is treated with METFORMIN , not with insulin.".encode(), "ann")
    [sentence] = find_sentences(sqlite_db, "treated with METFORMIN , not")
    mentions = detect_mentions(sqlite_db, sentence.tokens)
    assert [(m.text, m.entity) for m in mentions] == [("Type 2 diabetes", "type 2 diabetes"),
                                                     ("METFORMIN", "metformin"), ("insulin", "insulin")]
