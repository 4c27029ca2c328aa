"""Finding entity names in tokenised sentences, fast for tens of thousands of names: one Aho-Corasick automaton
(pyahocorasick) over the names' lower-cased token sequences, matched against the sentence's lower-cased
token sequence, so a match always starts and ends on token boundaries ("aspirin," and "(aspirin)" match,
"aspirinate" does not). Overlapping matches resolve to the leftmost, then longest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import ahocorasick

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class MentionSpan:
    start: int
    end: int
    entity: str


def name_tokens(name: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(name)]


class MentionIndex:
    """`surfaces`: (text, entity) pairs, e.g. every entity's label, name and aliases."""

    def __init__(self, surfaces: Iterable[tuple[str, str]]) -> None:
        self.automaton = ahocorasick.Automaton()
        for text, entity in surfaces:
            tokens = name_tokens(text)
            if not tokens or all(len(t) < 2 and not t.isalnum() for t in tokens):
                continue
            key = SEPARATOR + SEPARATOR.join(tokens) + SEPARATOR
            if key not in self.automaton:  # the first entity to claim a surface keeps it
                self.automaton.add_word(key, (len(tokens), entity))
        self.size = len(self.automaton)
        if self.size:
            self.automaton.make_automaton()

    def find(self, tokens: Sequence[str]) -> list[MentionSpan]:
        if not self.size or not tokens:
            return []
        folded = [t.casefold() for t in tokens]
        text = SEPARATOR + SEPARATOR.join(folded) + SEPARATOR
        # the character offset where each token ends (its trailing separator), to turn matches into token spans
        token_at_end, position = {}, 0
        for i, token in enumerate(folded):
            position += 1 + len(token)
            token_at_end[position] = i
        found = []
        for end_char, (length, entity) in self.automaton.iter(text):
            last = token_at_end.get(end_char)
            if last is not None:
                found.append(MentionSpan(last + 1 - length, last + 1, entity))
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        chosen, covered_until = [], 0
        for mention in found:
            if mention.start >= covered_until:
                chosen.append(mention)
                covered_until = mention.end
        return chosen
