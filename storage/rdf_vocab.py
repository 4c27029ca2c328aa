"""The RDF terms KnowCo writes and reads back: its own small vocabulary plus PROV-O, RDFS and SKOS.

Provenance is attached by standard RDF reification (one `rdf:Statement` per triple), not named graphs:
Turtle, N-Triples and JSON-LD as curators open them all carry reification, while named graphs need TriG or
N-Quads. Only accepted triples are asserted as plain facts; suggested and rejected ones exist only as
reified statements with their status, so no tool mistakes a rejected suggestion for a fact. A statement read
from text is `prov:wasDerivedFrom` each `kc:Sentence` it was read in (with its text and document); the curators'
labels are `kc:Label` resources (head, relation, tail, whether it holds, the sentence and spans, who and when).
"""
from __future__ import annotations

from hashlib import sha1
from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS

KC = Namespace("https://w3id.org/knowco/ns#")
DEFAULT_BASE = "http://example.org/knowco/"

RESERVED_NAMESPACES = (str(KC), str(PROV), str(RDF), str(RDFS), str(SKOS), "http://www.w3.org/2002/07/owl#")


class Iris:
    """Stable IRIs under one base namespace: the same KG exported twice gives the same IRIs."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _make(self, kind: str, name: str) -> URIRef:
        return URIRef(f"{self.base}{kind}/{quote(name, safe='')}")

    def entity(self, name: str) -> URIRef:
        return self._make("entity", name)

    def relation(self, name: str) -> URIRef:
        return self._make("relation", name)

    def curator(self, name: str) -> URIRef:
        return self._make("curator", name)

    def model(self, name: str) -> URIRef:
        return self._make("model", name)

    def sentence(self, sentence_id: int) -> URIRef:
        return self._make("sentence", str(sentence_id))

    def spot_check(self, check_id: int) -> URIRef:
        return self._make("spotcheck", str(check_id))

    def label(self, label_id: int) -> URIRef:
        return self._make("label", str(label_id))

    def statement(self, head: str, relation: str, tail: str) -> URIRef:
        digest = sha1("\x1f".join((head, relation, tail)).encode("utf-8")).hexdigest()[:24]
        return URIRef(f"{self.base}statement/{digest}")


def is_reserved(predicate: URIRef) -> bool:
    return str(predicate).startswith(RESERVED_NAMESPACES)
