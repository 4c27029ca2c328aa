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
from storage.naming import local_name, relation_words
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


def parse_rdf(path: Path) -> ImportBatch:
    fmt = RDF_FORMATS.get(path.suffix.lower(), "turtle")
    batch = ImportBatch(path=str(path), format="rdf")
    text = read_text(path)
    graph = Graph()
    try:
        graph.parse(data=text, format=fmt)
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise batch.fail(_parse_error_line(message), f"not valid {fmt} RDF: {message}") from exc

    names = _Names()

    statements = {node for node in graph.subjects(RDF.type, RDF.Statement)}
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

    facts: dict[tuple, None] = {}
    for s, p, o in sorted(graph, key=lambda spo: tuple(str(term) for term in spo)):
        if s in statements or is_reserved(p):
            continue
        if isinstance(s, BNode) or isinstance(o, BNode):
            batch.skip("blank-node statements")
        elif isinstance(o, Literal):
            batch.skip("literal-valued statements")
        else:
            facts[(s, p, o)] = None
    for key in sorted(provenance, key=lambda spo: tuple(str(term) for term in spo)):
        facts.setdefault(key, None)

    for iri in sorted(set(graph.subjects(RDF.type, KC.Entity)), key=str):
        if isinstance(iri, URIRef):
            names.of(iri)
    for s, p, o in facts:
        names.of(s)
        names.of(o)
    relation_names = _Names()
    declared = {p for p in graph.subjects(RDF.type, RDF.Property) if isinstance(p, URIRef) and not is_reserved(p)}
    for iri in sorted({p for _, p, _ in facts} | declared, key=str):
        relation_names.of(iri)

    for iri, name in names.items():
        types = [t for t in graph.objects(iri, RDF.type) if isinstance(t, URIRef) and t not in NOT_ENTITY_TYPES]
        entity_type = _text(graph, iri, KC.entityType) or (
            _text(graph, types[0], RDFS.label) or local_name(str(types[0])) if types else None
        )
        batch.entity(
            name,
            label=_text(graph, iri, RDFS.label) or _text(graph, iri, SKOS.prefLabel),
            description=_text(graph, iri, RDFS.comment),
            type=entity_type,
            aliases=sorted(str(v) for v in graph.objects(iri, SKOS.altLabel) if isinstance(v, Literal)),
        )
    for iri, name in relation_names.items():
        batch.relation(name, label=_text(graph, iri, RDFS.label) or relation_words(name),
                       description=_text(graph, iri, RDFS.comment))
    for s, p, o in facts:
        extra = provenance.get((s, p, o), {})
        confidence = extra.pop("confidence", None)
        try:
            confidence = float(confidence) if confidence is not None else None
        except ValueError:
            raise batch.fail(None, f"confidence of <{s}> <{p}> <{o}> is not a number: {confidence}") from None
        batch.triple(TripleRecord(head=names.of(s), relation=relation_names.of(p), tail=names.of(o), confidence=confidence,
                                  **extra))
    if not batch.triples and not batch.entities:
        raise batch.fail(None, "no entities or entity-to-entity statements found in the RDF")
    return batch
