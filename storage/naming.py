"""Readable words from identifiers: relation names become the label words the engine starts from."""
from __future__ import annotations

import re
from urllib.parse import unquote

NO_RELATION_NAMES = frozenset({"other", "no_relation", "no relation", "none", "na", "n/a"})
_DIRECTED = re.compile(r"^(?P<base>.+?)\s*\((?P<first>e[12])\s*,\s*(?P<second>e[12])\)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_no_relation(name: str) -> bool:
    return name.strip().lower() in NO_RELATION_NAMES


def _words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text)
    return [w.lower() for w in re.split(r"[\s_\-/.:]+", spaced) if w]


def relation_words(name: str) -> str:
    """`location_of` → "location of"; `Cause-Effect(e2,e1)` → "effect from cause".

    Directed pairs get different connecting words ("to" / "from"), so label words built from the two
    names never start identical.
    """
    match = _DIRECTED.match(name.strip())
    if not match:
        return " ".join(_words(name)) or name
    parts = [p for p in re.split(r"[-–]", match["base"]) if p.strip()]
    if len(parts) != 2:
        return " ".join(_words(match["base"]))
    first, second = (" ".join(_words(p)) for p in parts)
    if match["first"] == "e1":
        return f"{first} to {second}"
    return f"{second} from {first}"


def local_name(iri: str) -> str:
    """The last path segment or fragment of an IRI, percent-decoded: what a person would call it."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    if cut < 0:
        cut = iri.rfind(":")
    return unquote(iri[cut + 1 :]) if cut + 1 < len(iri) else iri
