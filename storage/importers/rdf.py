"""RDF through rdflib: IRIs with `rdfs:label` become entities, other IRI-valued predicates relations.

Reads back what `storage.exporters.rdf_export` writes (reified statements carry status and provenance), and
any other RDF: literal-valued and blank-node statements have no place in a KG of entity-to-entity triples and
are skipped with a count in the import summary.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS

from storage.importers.records import ImportBatch, TripleRecord
from storage.importers.text import read_text
from storage.naming import local_name, readable_label
from storage.rdf_vocab import KC, is_reserved

RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".rdf": "xml", ".owl": "xml", ".n3": "n3",
               ".xml": "xml"}
NOT_ENTITY_TYPES = {KC.Entity, RDF.Statement, RDF.Property, PROV.Agent, PROV.SoftwareAgent, RDFS.Class,
                    URIRef("http://www.w3.org/2002/07/owl#Class"),
                    URIRef("http://www.w3.org/2002/07/owl#ObjectProperty")}


def _text(graph: Graph, node, predicate) -> str:
    """The one literal a person would read: untagged or English first, then the others in a stable order."""
    values = [v for v in graph.objects(node, predicate) if isinstance(v, Literal)]
    if not values:
        return ""
    values.sort(key=lambda v: (v.language not in (None, "en"), v.language or "", str(v)))
    return str(values[0])


def _time(value) -> Optional[datetime]:
    if not isinstance(value, Literal):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _agent(graph: Graph, node) -> Optional[str]:
    if node is None:
        return None
    return _text(graph, node, RDFS.label) or local_name(str(node))


def _parse_error_line(message: str) -> Optional[int]:
    match = re.search(r"line[ :]+(\d+)", message)
    return int(match.group(1)) if match else None


class _Names(dict):
    """IRI → name: the IRI's local name, or the whole IRI where two IRIs share a local name."""

    def of(self, iri: URIRef) -> str:
        if iri not in self:
            short = local_name(str(iri)) or str(iri)
            self[iri] = str(iri) if short in self.values() else short
        return self[iri]


def _ordered(triples):
    return sorted(triples, key=lambda spo: tuple(str(term) for term in spo))


def _load(path: Path, batch: ImportBatch) -> Graph:
    fmt = RDF_FORMATS.get(path.suffix.lower(), "turtle")
    graph = Graph()
    try:
        graph.parse(data=read_text(path), format=fmt)
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise batch.fail(_parse_error_line(message), f"not valid {fmt} RDF: {message}") from exc
    return graph


def _provenance(graph: Graph, statements: set, batch: ImportBatch) -> dict[tuple, dict]:
    """What the reified statements (as KnowCo exports them) say about each triple: status, who, when."""
    provenance: dict[tuple, dict] = {}
    for node in statements:
        s, p, o = (graph.value(node, term) for term in (RDF.subject, RDF.predicate, RDF.object))
        if not all(isinstance(term, URIRef) for term in (s, p, o)):
            batch.skip("reified statements without IRIs")
            continue
        provenance[(s, p, o)] = {
            "status": str(graph.value(node, KC.status) or "accepted"),
            "source": str(graph.value(node, KC.source) or "imported"),
            "confidence": graph.value(node, KC.confidence),
            "created_by": _agent(graph, graph.value(node, PROV.wasAttributedTo)),
            "created_at": _time(graph.value(node, PROV.generatedAtTime)),
            "reviewed_by": _agent(graph, graph.value(node, KC.reviewedBy)),
            "reviewed_at": _time(graph.value(node, KC.reviewedAt)),
        }
    return provenance


def _facts(graph: Graph, statements: set, provenance: dict[tuple, dict], batch: ImportBatch) -> list[tuple]:
    """The entity-to-entity triples, in a stable order; literal and blank-node statements are counted, not kept."""
    facts: dict[tuple, None] = {}
    for s, p, o in _ordered(graph):
        if s in statements or is_reserved(p):
            continue
        if isinstance(s, BNode) or isinstance(o, BNode):
            batch.skip("blank-node statements")
        elif isinstance(o, Literal):
            batch.skip("literal-valued statements")
        else:
            facts[(s, p, o)] = None
    for key in _ordered(provenance):
        facts.setdefault(key, None)
    return list(facts)


def _entity_type(graph: Graph, iri: URIRef) -> Optional[str]:
    types = [t for t in graph.objects(iri, RDF.type) if isinstance(t, URIRef) and t not in NOT_ENTITY_TYPES]
    declared = _text(graph, iri, KC.entityType)
    if declared or not types:
        return declared or None
    return _text(graph, types[0], RDFS.label) or local_name(str(types[0]))


def _add_entities(graph: Graph, facts: list[tuple], batch: ImportBatch) -> _Names:
    names = _Names()
    for iri in sorted(set(graph.subjects(RDF.type, KC.Entity)), key=str):
        if isinstance(iri, URIRef):
            names.of(iri)
    for s, _, o in facts:
        names.of(s)
        names.of(o)
    for iri, name in names.items():
        batch.entity(
            name,
            label=_text(graph, iri, RDFS.label) or _text(graph, iri, SKOS.prefLabel),
            description=_text(graph, iri, RDFS.comment),
            type=_entity_type(graph, iri),
            aliases=sorted(str(v) for v in graph.objects(iri, SKOS.altLabel) if isinstance(v, Literal)),
        )
    return names


def _add_relations(graph: Graph, facts: list[tuple], batch: ImportBatch) -> _Names:
    """Every predicate used by a fact, and every declared property, even one no triple uses yet."""
    names = _Names()
    declared = {p for p in graph.subjects(RDF.type, RDF.Property) if isinstance(p, URIRef) and not is_reserved(p)}
    for iri in sorted({p for _, p, _ in facts} | declared, key=str):
        names.of(iri)
    for iri, name in names.items():
        batch.relation(name, label=_text(graph, iri, RDFS.label) or readable_label(name),
                       description=_text(graph, iri, RDFS.comment))
    return names


def _add_triples(facts: list[tuple], provenance: dict[tuple, dict], entities: _Names, relations: _Names,
                 batch: ImportBatch) -> None:
    for s, p, o in facts:
        extra = dict(provenance.get((s, p, o), {}))
        confidence = extra.pop("confidence", None)
        try:
            confidence = float(confidence) if confidence is not None else None
        except ValueError:
            raise batch.fail(None, f"confidence of <{s}> <{p}> <{o}> is not a number: {confidence}") from None
        batch.triple(TripleRecord(head=entities.of(s), relation=relations.of(p), tail=entities.of(o),
                                  confidence=confidence, **extra))


def parse_rdf(path: Path) -> ImportBatch:
    batch = ImportBatch(path=str(path), format="rdf")
    graph = _load(path, batch)
    statements = set(graph.subjects(RDF.type, RDF.Statement))
    provenance = _provenance(graph, statements, batch)
    facts = _facts(graph, statements, provenance, batch)
    entities = _add_entities(graph, facts, batch)
    relations = _add_relations(graph, facts, batch)
    _add_triples(facts, provenance, entities, relations, batch)
    if not batch.triples and not batch.entities:
        raise batch.fail(None, "no entities or entity-to-entity statements found in the RDF")
    return batch
