"""RDF export through rdflib: Turtle, N-Triples or JSON-LD, with PROV-O provenance on every triple.

See `storage.rdf_vocab` for why provenance is carried by reification.
"""
from __future__ import annotations

from datetime import timezone
from pathlib import Path
from typing import Iterator, Optional

from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import spot_checks
from storage.exporters.files import atomic_output
from storage.exporters.rows import STREAMED_ROWS, export_evidence, export_labels, export_triples
from storage.models import Entity, Relation
from storage.rdf_vocab import DEFAULT_BASE, KC, Iris
from storage.spot_checks import SpotCheckRow
from storage.team import VerdictView, verdicts_for_export

RDF_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld"}


def _time(value) -> Literal:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return Literal(value.astimezone(timezone.utc), datatype=XSD.dateTime)


#: rows (entities, relations, triples, labels) an export builds into one rdflib graph: rdflib holds a graph in
#: memory, and a 10⁶-fact KG built as one took 12.5 GB and 642 s to write as Turtle (`bench scale`). Turtle and
#: N-Triples are written part by part (a Turtle file may declare its prefixes again before each part)
PART_ROWS = 20_000
STREAMED = ("turtle", "nt")


def _new_graph(iris: Iris) -> Graph:
    graph = Graph()
    graph.bind("kc", KC)
    graph.bind("prov", PROV)
    graph.bind("skos", SKOS)
    graph.bind("entity", f"{iris.base}entity/")
    graph.bind("rel", f"{iris.base}relation/")
    return graph


def graph_parts(session: Session, statuses: tuple[str, ...], base: str = DEFAULT_BASE,
                part_rows: int = PART_ROWS) -> Iterator[Graph]:
    """The export as graphs of about `part_rows` rows each, together the whole. A node that several rows name (a
    model version, a sentence, a spot check, a curator) is described once, in the first part that names it, so
    the parts hold each statement once."""
    iris, shared, agents = Iris(base), set(), set()
    graph = _new_graph(iris)
    for count, (add, *args) in enumerate(_rows(session, statuses), start=1):
        agents |= add(graph, iris, *args, shared) or set()
        if count % part_rows == 0:
            yield graph
            graph = _new_graph(iris)
    for agent in sorted(agents):
        graph.add((iris.curator(agent), RDF.type, PROV.Agent))
        graph.add((iris.curator(agent), RDFS.label, Literal(agent)))
    yield graph


def build_graph(session: Session, statuses: tuple[str, ...], base: str = DEFAULT_BASE) -> Graph:
    """The whole export as one graph (JSON-LD is written from it; it is one document)."""
    graph = _new_graph(Iris(base))
    for part in graph_parts(session, statuses, base):
        graph += part
    return graph


def _rows(session: Session, statuses: tuple[str, ...]) -> Iterator[tuple]:
    """What the export writes, one row at a time: (how to add it to a graph, what it adds)."""
    entities = select(Entity.name, Entity.label, Entity.description, Entity.type, Entity.aliases)
    for entity in session.execute(entities.order_by(Entity.name).execution_options(yield_per=STREAMED_ROWS)):
        yield _add_entity, entity
    for relation in session.scalars(select(Relation).order_by(Relation.name)):
        yield _add_relation, relation
    evidence = export_evidence(session, statuses)
    verdicts = verdicts_for_export(session)
    checks = spot_checks.for_export(session)
    for triple in export_triples(session, statuses):
        key = (triple.head, triple.relation, triple.tail)
        yield _add_statement, triple, verdicts.get(key, ()), evidence.get(key, ()), checks.get(triple.spot_check_id)
    for label in export_labels(session):
        yield _add_label, label


def _add_entity(graph: Graph, iris: Iris, entity, shared: set) -> None:
    node = iris.entity(entity.name)
    graph.add((node, RDF.type, KC.Entity))
    graph.add((node, RDFS.label, Literal(entity.label)))
    if entity.description:
        graph.add((node, RDFS.comment, Literal(entity.description)))
    if entity.type:
        graph.add((node, KC.entityType, Literal(entity.type)))
    for alias in entity.aliases or []:
        graph.add((node, SKOS.altLabel, Literal(alias)))


def _add_relation(graph: Graph, iris: Iris, relation: Relation, shared: set) -> None:
    node = iris.relation(relation.name)
    graph.add((node, RDF.type, RDF.Property))
    graph.add((node, RDFS.label, Literal(relation.label)))
    if relation.description:
        graph.add((node, RDFS.comment, Literal(relation.description)))
    for marked, kind in ((relation.functional, OWL.FunctionalProperty),
                         (relation.one_head_per_tail, OWL.InverseFunctionalProperty),
                         (relation.symmetric, OWL.SymmetricProperty)):
        if marked:
            graph.add((node, RDF.type, kind))


def _add_statement(graph: Graph, iris: Iris, triple, verdicts, evidence, check: Optional[SpotCheckRow],
                   shared: set) -> set[str]:
    """The triple (where accepted) and its reified statement with provenance; returns the agents it names."""
    head, relation, tail = iris.entity(triple.head), iris.relation(triple.relation), iris.entity(triple.tail)
    if triple.status == "accepted":
        graph.add((head, relation, tail))
    statement = iris.statement(triple.head, triple.relation, triple.tail)
    for predicate, value in ((RDF.type, RDF.Statement), (RDF.type, PROV.Entity), (RDF.subject, head),
                             (RDF.predicate, relation), (RDF.object, tail), (KC.status, Literal(triple.status)),
                             (KC.source, Literal(triple.source)), (PROV.generatedAtTime, _time(triple.created_at)),
                             (PROV.wasAttributedTo, iris.curator(triple.created_by))):
        graph.add((statement, predicate, value))
    agents = {triple.created_by}
    if triple.confidence is not None:
        graph.add((statement, KC.confidence, Literal(triple.confidence, datatype=XSD.double)))
    if triple.model_version:
        model = iris.model(triple.model_version)
        graph.add((statement, PROV.wasGeneratedBy, model))
        if _first(model, shared):
            graph.add((model, RDF.type, PROV.SoftwareAgent))
            graph.add((model, RDFS.label, Literal(triple.model_version)))
    agents |= _review(graph, iris, statement, triple)
    for verdict in verdicts:
        graph.add((statement, KC.verdict, _verdict(graph, iris, statement, verdict)))
        agents.add(verdict.curator)
    for sentence, _ in evidence:
        graph.add((statement, PROV.wasDerivedFrom, _sentence(graph, iris, sentence.id, sentence.text,
                                                              sentence.document, shared)))
    if check is not None:
        graph.add((statement, KC.acceptedBySpotCheck, _spot_check(graph, iris, check, shared)))
        agents.add(check.signed_off_by)
    return agents


def _first(node: URIRef, shared: set) -> bool:
    """Whether `node` is described here: the first time the export names it."""
    if node in shared:
        return False
    shared.add(node)
    return True


def _review(graph: Graph, iris: Iris, statement, triple) -> set[str]:
    """Who reviewed the statement, when, and why it was rejected, where it was."""
    if triple.reviewed_by:
        graph.add((statement, KC.reviewedBy, iris.curator(triple.reviewed_by)))
    if triple.reviewed_at:
        graph.add((statement, KC.reviewedAt, _time(triple.reviewed_at)))
    if triple.reason:
        graph.add((statement, KC.rejectReason, Literal(triple.reason)))
    if triple.comment:
        graph.add((statement, RDFS.comment, Literal(triple.comment)))
    if triple.pattern:
        graph.add((statement, KC.becausePattern, Literal(triple.pattern)))
    return {triple.reviewed_by} if triple.reviewed_by else set()


def _spot_check(graph: Graph, iris: Iris, check: SpotCheckRow, shared: set) -> URIRef:
    """The sign-off that accepted a batch: a PROV activity with the precision stated for it, its interval and
    sample, and the curator who signed off."""
    node = iris.spot_check(check.id)
    if not _first(node, shared):
        return node
    e = check.estimate or {}
    graph.add((node, RDF.type, KC.SpotCheck))
    graph.add((node, RDF.type, PROV.Activity))
    graph.add((node, PROV.wasAssociatedWith, iris.curator(check.signed_off_by)))
    if check.signed_off_at is not None:
        graph.add((node, PROV.endedAtTime, _time(check.signed_off_at)))
    for predicate, key in ((KC.statedPrecision, "precision"), (KC.precisionLow, "low"), (KC.precisionHigh, "high")):
        graph.add((node, predicate, Literal(float(e.get(key, 0.0)), datatype=XSD.double)))
    for predicate, key in ((KC.sampleJudged, "judged"), (KC.sampleHeld, "held")):
        graph.add((node, predicate, Literal(int(e.get(key, 0)), datatype=XSD.integer)))
    graph.add((node, RDFS.comment, Literal(str(e.get("method", "")))))
    if e.get("slice"):
        graph.add((node, RDFS.label, Literal(f"spot check {check.id} of {e.get('slice_size', '?')} suggestions "
                                             f"({e['slice']})")))
        graph.add((node, KC.acceptedCount, Literal(int(e.get("accepted", 0)), datatype=XSD.integer)))
    return node


def _verdict(graph: Graph, iris: Iris, statement, verdict: VerdictView):
    """One curator's verdict on a statement, kept beside the decision it led to (or the dispute)."""
    node = URIRef(f"{statement}/verdict/{quote(verdict.curator, safe='')}")
    graph.add((node, RDF.type, KC.Verdict))
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, PROV.wasAttributedTo, iris.curator(verdict.curator)))
    graph.add((node, KC.decision, Literal(verdict.decision)))
    graph.add((node, PROV.generatedAtTime, _time(verdict.at)))
    if verdict.reason:
        graph.add((node, KC.rejectReason, Literal(verdict.reason)))
    if verdict.comment:
        graph.add((node, RDFS.comment, Literal(verdict.comment)))
    return node


def _sentence(graph: Graph, iris: Iris, sentence_id: int, text: str, document: str | None, shared: set):
    node = iris.sentence(sentence_id)
    if not _first(node, shared):
        return node
    graph.add((node, RDF.type, KC.Sentence))
    graph.add((node, KC.text, Literal(text)))
    if document:
        graph.add((node, KC.document, Literal(document)))
    return node


def _add_label(graph: Graph, iris: Iris, label, shared: set) -> set[str]:
    """A curator's label as a `kc:Label` resource; returns who made it."""
    node = iris.label(label.id)
    graph.add((node, RDF.type, KC.Label))
    graph.add((node, RDF.type, PROV.Entity))
    graph.add((node, KC.kind, Literal(label.kind)))
    if label.head:
        graph.add((node, KC.head, iris.entity(label.head)))
    if label.tail:
        graph.add((node, KC.tail, iris.entity(label.tail)))
    if label.relation:
        graph.add((node, KC.relation, iris.relation(label.relation)))
    else:
        graph.add((node, KC.noRelation, Literal(True)))
    graph.add((node, KC.holds, Literal(label.holds)))
    if label.status != "settled":  # waiting for curators' answers or an adjudicator: not yet what trains
        graph.add((node, KC.status, Literal(label.status)))
    if label.sentence_id is not None:
        graph.add((node, PROV.wasDerivedFrom, _sentence(graph, iris, label.sentence_id, label.sentence or "", None,
                                                        shared)))
        graph.add((node, KC.headSpan, Literal(label.head_span)))
        graph.add((node, KC.tailSpan, Literal(label.tail_span)))
    graph.add((node, PROV.wasAttributedTo, iris.curator(label.created_by)))
    graph.add((node, PROV.generatedAtTime, _time(label.created_at)))
    if label.comment:
        graph.add((node, RDFS.comment, Literal(label.comment)))
    return {label.created_by}


def write_rdf(session: Session, out: Path, fmt: str, statuses: tuple[str, ...], base: str = DEFAULT_BASE) -> int:
    """Write the export; returns the statements written."""
    with atomic_output(out) as tmp:
        if fmt not in STREAMED:
            graph = build_graph(session, statuses, base)
            graph.serialize(destination=str(tmp), format=RDF_FORMATS[fmt], encoding="utf-8")
            return len(graph)
        written = 0
        with open(tmp, "wb") as file:
            for part in graph_parts(session, statuses, base, PART_ROWS):
                file.write(part.serialize(format=RDF_FORMATS[fmt], encoding="utf-8"))
                written += len(part)
        return written
