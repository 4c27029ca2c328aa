"""Relation extraction over a corpus: pair the entity mentions of each sentence, and fold the model's verdicts
on every pair into one suggestion per triple that keeps all its sentences as evidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from engine.mention_index import MentionIndex, MentionSpan
from engine.types import SentenceExample

MAX_MENTIONS_PER_SENTENCE = 12


@dataclass(frozen=True)
class MentionPair:
    sentence_id: int
    tokens: tuple[str, ...]
    head: MentionSpan
    tail: MentionSpan

    def example(self) -> SentenceExample:
        return SentenceExample(self.tokens, (self.head.start, self.head.end), (self.tail.start, self.tail.end))


@dataclass
class TextSuggestion:
    head: str
    relation: str
    tail: str
    confidence: float
    evidence: list[tuple[int, int, int, int, int, float]] = field(default_factory=list)
    # (sentence id, head start, head end, tail start, tail end, score)


def mention_pairs(sentences: Iterable[tuple[int, Sequence[str]]], index: MentionIndex) -> list[MentionPair]:
    """Both orders of every two mentions of different entities in a sentence (the first 12 mentions)."""
    pairs = []
    for sentence_id, tokens in sentences:
        mentions = index.find(tokens)[:MAX_MENTIONS_PER_SENTENCE]
        tokens = tuple(tokens)
        for head in mentions:
            for tail in mentions:
                if head.entity != tail.entity:
                    pairs.append(MentionPair(sentence_id, tokens, head, tail))
    return pairs


def aggregate(pairs: Sequence[MentionPair], distributions: Sequence[dict[str, float]], no_relation: str,
              min_confidence: float) -> list[TextSuggestion]:
    """One suggestion per (head, relation, tail): the relation each pair most probably states (not "no
    relation"), kept when at least `min_confidence`; the triple's confidence is its best sentence's."""
    found: dict[tuple[str, str, str], TextSuggestion] = {}
    for pair, distribution in zip(pairs, distributions):
        relation, p = max(((r, q) for r, q in distribution.items()), key=lambda x: x[1])
        if relation == no_relation or p < min_confidence:
            continue
        key = (pair.head.entity, relation, pair.tail.entity)
        suggestion = found.setdefault(key, TextSuggestion(*key, confidence=0.0))
        suggestion.confidence = max(suggestion.confidence, p)
        suggestion.evidence.append((pair.sentence_id, pair.head.start, pair.head.end, pair.tail.start,
                                    pair.tail.end, p))
    for suggestion in found.values():
        suggestion.evidence.sort(key=lambda e: -e[5])
    return sorted(found.values(), key=lambda s: -s.confidence)
