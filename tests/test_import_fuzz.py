"""Property-based tests of every importer: random and hostile files either import completely or change nothing
and fail with one line that names the file (and the line, where there is one)."""
from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from knowco.services import Actor, import_file
from storage.database import open_database
from storage.importers import ImportFailed
from storage.models import Entity, Example, Relation, Sentence, Triple

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HOSTILE = ["", " ", "a", "<img src=x onerror=alert(1)>", "x\u202eevil", "emoji 🧬", "名前", "\"quoted\"", "a,b",
           "'single'", "line\\nbreak", "\ufeffbom", "x" * 3000, "rdf:type", "http://example.org/x y"]
field = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=0, max_size=20))


def _counts(database) -> tuple:
    with database.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Entity, Relation, Triple, Sentence, Example))


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    database = open_database(str(tmp_path_factory.mktemp("fuzz") / "kg.sqlite"))
    yield database
    database.dispose()


def _check(database, path, fmt="auto"):
    before = _counts(database)
    try:
        report = import_file(database, Actor("fuzz", "admin"), path, fmt)
    except ImportFailed as exc:
        event("refused")
        message = str(exc)
        assert "\n" not in message and message.startswith(str(path))
        assert _counts(database) == before, "a failed import changed the database"
        return None
    event("imported")
    after = _counts(database)
    assert after[2] - before[2] == report.created.get("triples", 0)
    assert _counts(database) == after
    again = import_file(database, Actor("fuzz", "admin"), path, fmt)
    assert _counts(database) == after and not any(again.created.values()), "re-import wrote something"
    return report


def _encode(text: str, how: str) -> bytes:
    if how == "crlf":
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if how == "bom":
        data = b"\xef\xbb\xbf" + data
    if how == "bad-utf8":
        data = data + b"\n\xff\xfe broken\n"
    return data


name = st.one_of(st.sampled_from([h for h in HOSTILE if h.strip() and len(h) < 100]),
                 st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=15))
good_row = st.tuples(name, name, name).map(list)
rows = st.lists(st.one_of(good_row, good_row, good_row, st.lists(field, min_size=0, max_size=5)),
                min_size=0, max_size=8)
encoding = st.sampled_from(["plain", "plain", "crlf", "bom", "bad-utf8"])


@FUZZ
@given(rows=rows, how=encoding, duplicate=st.booleans())
def test_tsv_and_csv(fuzz_db, tmp_path_factory, rows, how, duplicate):
    folder = tmp_path_factory.mktemp("tsv")
    if duplicate and rows:
        rows = rows + rows[:1]
    tsv = "\n".join("\t".join(cell.replace("\n", " ").replace("\r", " ").replace("\t", " ") for cell in row)
                    for row in rows) + "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    for file_name, text in (("f.tsv", tsv), ("f.csv", buffer.getvalue())):
        path = folder / file_name
        path.write_bytes(_encode(text, how))
        _check(fuzz_db, path)


word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)
record = st.builds(lambda words, relation: {"token": words, "h": {"name": words[0], "pos": [0, 1]},
                                            "t": {"name": words[2], "pos": [2, 3]}, "relation": relation},
                   st.lists(word, min_size=3, max_size=7), st.sampled_from(["Cause-Effect(e1,e2)", "Other", "treats"]))
hostile_record = st.fixed_dictionaries({
    "token": st.lists(field, min_size=0, max_size=6),
    "h": st.fixed_dictionaries({"name": field, "pos": st.lists(st.integers(-2, 8), min_size=0, max_size=3)}),
    "t": st.fixed_dictionaries({"name": field, "pos": st.lists(st.integers(-2, 8), min_size=0, max_size=3)}),
    "relation": st.one_of(field, st.just("Other"), st.integers()),
})


@FUZZ
@given(records=st.lists(st.one_of(*[record] * 9, hostile_record), min_size=1, max_size=5), how=encoding,
       junk=st.integers(0, 5))
def test_jsonl(fuzz_db, tmp_path_factory, records, how, junk):
    path = tmp_path_factory.mktemp("jsonl") / "s.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + (["{not json"] if junk == 0 else [])
    path.write_bytes(_encode("\n".join(lines) + "\n", how))
    _check(fuzz_db, path, "jsonl")


@FUZZ
@given(triples=st.lists(st.tuples(field, field, field), min_size=0, max_size=6), how=encoding,
       unknown=st.booleans())
def test_rdf_turtle(fuzz_db, tmp_path_factory, triples, how, unknown):
    def iri(text: str) -> str:
        return "<http://example.org/kg/" + "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in text)[:200] + ">"

    lines = [f"{iri(h)} {iri(r)} {iri(t)} ." for h, r, t in triples]
    if unknown:
        lines.append('<http://example.org/kg/a> <http://unknown.org/p> "a literal" .')
        lines.append("<http://example.org/kg/a> undeclared:prefix <http://example.org/kg/b> .")
    path = tmp_path_factory.mktemp("rdf") / "g.ttl"
    path.write_bytes(_encode("\n".join(lines) + "\n", how))
    _check(fuzz_db, path, "rdf")
