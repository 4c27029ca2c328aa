"""Sentences and tokens from plain text, so uploaded documents can be labelled by token spans.

Sentence boundaries come from pySBD (rule-based, the Golden Rules set): "Dr.", "e.g.", "U.S." and "Fig. 2)" do
not end a sentence, and a sentence may start in lower case ("p53 was mutated"). `tokenize` is the one
tokenizer of the project: stored sentences are cut with it, and entity names are cut with it to find their
mentions (`engine.mention_index`).
"""
from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Words (with inner hyphens, apostrophes and dots, as in "low-dose", "5.3") and single punctuation marks."""
    return _TOKEN.findall(text)


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """One sentence or paragraph per line; a paragraph is cut into its sentences."""
    sentences = []
    for line in re.split(r"\r?\n", text):
        line = " ".join(line.split())
        if line:
            sentences.extend(part.strip() for part in _segmenter().segment(line) if part.strip())
    return sentences
