"""Entity mentions in a tokenised sentence: the longest token spans whose text names an entity, never overlapping,
so the Label page can offer them as head and tail without the curator counting tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database
from storage.labels import entities_named

MAX_MENTION_TOKENS = 6


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    entity: str


def _span_text(tokens: list[str], start: int, end: int) -> str:
    return " ".join(tokens[start:end])


def detect_mentions(database: Database, tokens: list[str]) -> list[Mention]:
    spans = {(i, j): _span_text(tokens, i, j) for i in range(len(tokens))
             for j in range(i + 1, min(len(tokens), i + MAX_MENTION_TOKENS) + 1)}
    with database.sessions() as session:
        named = entities_named(session, set(spans.values()))
    mentions, taken = [], set()
    for (i, j), text in sorted(spans.items(), key=lambda kv: (-(kv[0][1] - kv[0][0]), kv[0][0])):
        entity = named.get(text.lower())
        if entity is None or taken & set(range(i, j)):
            continue
        mentions.append(Mention(i, j, text, entity))
        taken.update(range(i, j))
    return sorted(mentions, key=lambda m: m.start)
