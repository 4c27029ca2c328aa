"""Finding entity names in tokenised sentences, fast for tens of thousands of names: one Aho-Corasick automaton
(pyahocorasick) over the names' lower-cased token sequences, matched against the sentence's lower-cased
token sequence, so a match always starts and ends on token boundaries ("aspirin," and "(aspirin)" match,
"aspirinate" does not). Overlapping matches resolve to the leftmost, then longest. A possessive "'s" is not part
of the name it ends ("Hungary's capital" mentions Hungary; "Alzheimer's disease" still matches itself).

Names are cut into tokens by the caller's tokenizer, the one the sentences were cut with (the app's is
`storage.text_split.tokenize`): a name matches a sentence only if both are tokenised alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import ahocorasick

SEPARATOR = "\x1f"
_POSSESSIVE = re.compile(r"(?<=\w)['’]s$")


def _fold(token: str) -> str:
    return _POSSESSIVE.sub("", token.casefold())


@dataclass(frozen=True)
class MentionSpan:
    start: int
    end: int
    entity: str


class MentionIndex:
    """`surfaces`: (text, entity) pairs, e.g. every entity's label, name and aliases; `tokenize`: how the
    sentences were cut into tokens."""

    def __init__(self, surfaces: Iterable[tuple[str, str]], tokenize: Callable[[str], list[str]]) -> None:
        self.automaton = ahocorasick.Automaton()
        for text, entity in surfaces:
            tokens = [_fold(t) for t in tokenize(text)]
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
        folded = [_fold(t) for t in tokens]
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
