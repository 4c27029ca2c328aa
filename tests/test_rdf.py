"""RDF: foreign RDF imports sensibly, our export carries PROV-O provenance and statuses that read back."""
from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS
from sqlalchemy import select

from knowco.services import Actor, export_file, import_file
from storage.exporters import build_graph
from storage.importers import ImportFailed
from storage.models import Entity, Relation, Triple
from storage.rdf_vocab import KC, Iris

FOREIGN = """
@prefix ex: <http://example.com/kg#> .
@prefix other: <http://other.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
ex:paris rdfs:label "Paris"@fr, "Paris" ; rdfs:comment "Capital of France." ; a ex:City ;
    ex:capitalOf ex:france ; ex:population 2100000 ; skos:altLabel "City of Light" .
ex:france rdfs:label "France" .
ex:capitalOf rdfs:label "capital of" .
ex:bordersOn a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Property> ; rdfs:label "borders on" .
other:paris other:twinnedWith ex:rome .
ex:rome ex:near [ rdfs:label "somewhere" ] .
"""


def test_foreign_rdf(db, tmp_path):
    path = tmp_path / "foreign.ttl"
    path.write_text(FOREIGN, encoding="utf-8")
    report = import_file(db, Actor("u", "admin"), path)
    assert report.skipped == {"literal-valued statements": 1, "blank-node statements": 1}
    with db.sessions() as session:
        entities = {e.name: e for e in session.scalars(select(Entity))}
        relations = {r.name: r.label for r in session.scalars(select(Relation))}
    assert set(entities) == {"paris", "france", "rome", "http://other.org/paris"}
    assert entities["paris"].label == "Paris" and entities["paris"].description == "Capital of France."
    assert entities["paris"].type == "City" and entities["paris"].aliases == ["City of Light"]
    assert relations == {"capitalOf": "capital of", "twinnedWith": "twinned with", "bordersOn": "borders on"}


def test_export_has_provenance_and_only_accepted_facts(db, tmp_path):
    (tmp_path / "in.csv").write_text(
        "head,relation,tail,status,source,confidence,reviewed_by,reviewed_at\n"
        "a,r,b,accepted,curator,,,\n"
        "c,r,d,rejected,model,0.3,dana,2026-01-02T03:04:05+00:00\n", encoding="utf-8")
    import_file(db, Actor("carol", "admin"), tmp_path / "in.csv")
    with db.sessions() as session:
        graph = build_graph(session, ("accepted", "rejected"), base="https://kg.example.org/")
    a, b, c, d = (URIRef(f"https://kg.example.org/entity/{x}") for x in "abcd")
    r = URIRef("https://kg.example.org/relation/r")
    assert (a, r, b) in graph
    assert (c, r, d) not in graph, "a rejected triple is never asserted as a fact"
    statements = {graph.value(s, RDF.subject): s for s in graph.subjects(RDF.type, RDF.Statement)}
    rejected = statements[c]
    assert graph.value(rejected, KC.status) == Literal("rejected")
    assert float(graph.value(rejected, KC.confidence)) == 0.3
    assert graph.value(rejected, PROV.wasAttributedTo) == URIRef("https://kg.example.org/curator/carol")
    assert graph.value(rejected, PROV.generatedAtTime) is not None
    assert graph.value(URIRef("https://kg.example.org/curator/dana"), RDFS.label) == Literal("dana")
    assert set(graph.objects(r, RDF.type)) == {RDF.Property}


def test_a_relation_s_marks_are_owl_property_kinds(db):
    from knowco.services import mark_relation

    import_file(db, Actor("carol", "admin"), _csv(db, "a,wrote,b\nc,borders,d\n"))
    mark_relation(db, Actor("carol", "admin"), "wrote", one_head_per_tail=True, functional=False)
    mark_relation(db, Actor("carol", "admin"), "borders", symmetric=True, functional=True)
    with db.sessions() as session:
        graph = build_graph(session, ("accepted",), base="https://kg.example.org/")
    kinds = {name: set(graph.objects(URIRef(f"https://kg.example.org/relation/{name}"), RDF.type))
             for name in ("wrote", "borders")}
    assert kinds["wrote"] == {RDF.Property, OWL.InverseFunctionalProperty}
    assert kinds["borders"] == {RDF.Property, OWL.FunctionalProperty, OWL.SymmetricProperty}


@pytest.mark.parametrize("fmt, suffix", [("turtle", "ttl"), ("nt", "nt"), ("jsonld", "jsonld")])
def test_statuses_round_trip_in_every_rdf_format(db, make_db, tmp_path, fmt, suffix):
    (tmp_path / "in.csv").write_text(
        "head,relation,tail,status,source,confidence\na,r,b,accepted,imported,\nc,r,d,suggested,model,0.9\n",
        encoding="utf-8")
    import_file(db, Actor("u", "admin"), tmp_path / "in.csv")
    out = tmp_path / f"kg.{suffix}"
    export_file(db, Actor("exporter", "admin"), out, fmt, include_suggested=True)
    Graph().parse(out, format={"turtle": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt])
    second = make_db()
    import_file(second, Actor("v", "admin"), out)
    with second.sessions() as session:
        rows = {(t.head.name, t.status, t.source, t.confidence, t.created_by) for t in session.scalars(select(Triple))}
    assert rows == {("a", "accepted", "imported", None, "u"), ("c", "suggested", "model", 0.9, "u")}


def test_invalid_turtle_is_reported_with_its_line(db, tmp_path):
    path = tmp_path / "bad.ttl"
    path.write_text("@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b .\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_file(db, Actor("u", "admin"), path)
    assert "not valid turtle RDF" in failure.value.reason
    assert failure.value.line == 3
    with db.sessions() as session:
        assert session.scalar(select(Entity).limit(1)) is None


def test_exports_carry_the_sentences_behind_a_triple_and_every_label(db, make_db, tmp_path):
    """A suggestion read from text is derived from its sentence; the curators' labels travel too (RDF: kc:Label;
    CSV: a labels.csv beside); re-importing our own RDF makes no entity of a sentence or a label."""
    import csv

    from knowco.services import ExampleEdit, add_triple_label, edit_labels, find_sentences, import_document
    from tests.storage_helpers import queued

    ann = Actor("ann", "admin")
    (tmp_path / "kg.tsv").write_text("aspirin\ttreats\tfever\ncolchicine\ttreats\tgout\n", encoding="utf-8")
    import_file(db, ann, tmp_path / "kg.tsv")
    import_document(db, ann, "notes.txt", b"Aspirin can relieve gout flares.")
    [sentence] = find_sentences(db, "relieve")
    gout = sentence.tokens.index("gout")
    queued(db, [("aspirin", "treats", "gout", 0.9)],
           evidence={("aspirin", "treats", "gout"): [(sentence.id, 0, 1, gout, gout + 1, 0.87)]})
    label_id = add_triple_label(db, ann, "aspirin", "treats", "fever", True)
    edit_labels(db, ann, [ExampleEdit(label_id, comment="from the 2019 review")])
    export_file(db, ann, tmp_path / "kg.ttl", include_suggested=True)
    graph = Graph().parse(tmp_path / "kg.ttl", format="turtle")
    statements = {tuple(str(graph.value(s, p)).rsplit("/", 1)[1] for p in (RDF.subject, RDF.object)): s
                  for s in graph.subjects(RDF.type, RDF.Statement)}
    [source] = graph.objects(statements[("aspirin", "gout")], PROV.wasDerivedFrom)
    assert graph.value(source, KC.text) == Literal("Aspirin can relieve gout flares.")
    assert graph.value(source, KC.document) == Literal("notes.txt")
    [label] = graph.subjects(RDF.type, KC.Label)
    assert graph.value(label, KC.holds) == Literal(True) and str(graph.value(label, KC.tail)).endswith("/fever")
    assert graph.value(label, RDFS.comment) == Literal("from the 2019 review")
    again = make_db()
    import_file(again, Actor("v", "admin"), tmp_path / "kg.ttl")
    with again.sessions() as session:
        assert set(session.scalars(select(Entity.name))) == {"aspirin", "fever", "colchicine", "gout"}

    export_file(db, ann, tmp_path / "kg.csv", include_suggested=True)
    with open(tmp_path / "kg.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["head"], r["tail"]): r for r in csv.DictReader(handle)}
    assert rows[("aspirin", "gout")]["evidence"] == "Aspirin can relieve gout flares."
    assert rows[("aspirin", "fever")]["evidence"] == ""
    with open(tmp_path / "kg.labels.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["head"], row["relation"], row["tail"], row["holds"], row["created_by"], row["comment"]) == (
        "aspirin", "treats", "fever", "True", "ann", "from the 2019 review")


def _csv(db, rows: str):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    (folder / "in.csv").write_text("head,relation,tail\n" + rows, encoding="utf-8")
    return folder / "in.csv"


@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_a_streamed_export_holds_the_graph_built_whole(db, tmp_path, monkeypatch, fmt):
    """Turtle and N-Triples are written in parts (a 10⁶-fact KG built whole held 12.5 GB): read back, the file is
    the graph built in one piece, each statement once, though a model version, a sentence and a curator are
    named in many parts."""
    from knowco.services import add_triple_label, seed_demo
    from storage.exporters import rdf_export
    from storage.models import Sentence
    from tests.storage_helpers import queued

    seed_demo(db, Actor("seeder", "admin"))
    add_triple_label(db, Actor("ann", "admin"), "aspirin", "treats", "headache", True)
    with db.sessions() as session:
        sentence = session.scalar(select(Sentence.id).order_by(Sentence.id))
    cited = [(sentence, 0, 1, 2, 3, 0.9)]
    queued(db, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "asthma", 0.8)],
           evidence={("aspirin", "treats", "gout"): cited, ("ibuprofen", "treats", "asthma"): cited})
    monkeypatch.setattr(rdf_export, "PART_ROWS", 7)
    statuses, out = ("accepted", "suggested", "rejected"), tmp_path / f"kg.{fmt}"
    with db.sessions() as session:
        whole = build_graph(session, statuses, base="https://kg.example.org/")
        written = rdf_export.write_rdf(session, out, fmt, statuses, base="https://kg.example.org/")
    read = Graph().parse(out, format=fmt)
    assert written == len(whole) == len(read) > 1000
    assert set(read) == set(whole)
    models = set(read.objects(None, PROV.wasGeneratedBy))  # named by both suggestions, in different parts
    assert models and all((m, RDF.type, PROV.SoftwareAgent) in read for m in models)
    cited_sentence = Iris("https://kg.example.org/").sentence(sentence)
    assert len(set(read.subjects(PROV.wasDerivedFrom, cited_sentence))) >= 2
    assert len(list(read.objects(cited_sentence, KC.text))) == 1
    if fmt == "turtle":  # written in parts, each declaring its prefixes
        assert out.read_text(encoding="utf-8").count("@prefix kc:") > 10
