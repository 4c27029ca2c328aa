"""Readable names from identifiers: display labels for relations, local names for IRIs."""
from __future__ import annotations

import re
from urllib.parse import unquote

NO_RELATION_NAMES = frozenset({"other", "no_relation", "no relation", "none", "na", "n/a"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DIRECTED = re.compile(r"^(?P<base>.*\S)\s*\(\s*(?P<first>e[12])\s*,\s*(?P<second>e[12])\s*\)$", re.IGNORECASE)


def is_no_relation(name: str) -> bool:
    return name.strip().lower() in NO_RELATION_NAMES


def directed_label(label: str) -> tuple[str, bool]:
    """SemEval-style directed labels as one relation and a direction: `Cause-Effect(e1,e2)` → ("Cause-Effect",
    False), `Cause-Effect(e2,e1)` → ("Cause-Effect", True: the second mention is the head). In a KG the direction
    is which entity is the head; two inverse relations of the same name would make every fact and suggestion
    ambiguous (`A Cause-Effect(e2,e1) B` reads "B causes A")."""
    match = _DIRECTED.match(label.strip())
    if not match or match["first"].lower() == match["second"].lower():
        return label, False
    return match["base"], match["first"].lower() == "e2"


def _words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text)
    return [w.lower() for w in re.split(r"[\s_\-/.:(),]+", spaced) if w]


def readable_label(name: str) -> str:
    """A relation's display label when the data gives none: `location_of` → "location of",
    `ageOfOnset` → "age of onset". (The words a model starts from are the engine's decision: engine.verbalizer.)"""
    return " ".join(_words(name)) or name


def local_name(iri: str) -> str:
    """The last path segment or fragment of an IRI, percent-decoded: what a person would call it."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    if cut < 0:
        cut = iri.rfind(":")
    return unquote(iri[cut + 1 :]) if cut + 1 < len(iri) else iri
