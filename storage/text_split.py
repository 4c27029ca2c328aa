"""Sentences and tokens from plain text, so uploaded documents can be labelled by token spans."""
from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def tokenize(text: str) -> list[str]:
    """Words (with inner hyphens, apostrophes and dots, as in "low-dose", "5.3") and single punctuation marks."""
    return _TOKEN.findall(text)


def split_sentences(text: str) -> list[str]:
    """One sentence or paragraph per line; a paragraph is cut after ".", "!" or "?" before a capital or digit."""
    sentences = []
    for line in re.split(r"\r?\n", text):
        line = " ".join(line.split())
        if line:
            sentences.extend(part for part in _SENTENCE_END.split(line) if part.strip())
    return sentences
