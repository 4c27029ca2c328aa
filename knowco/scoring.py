"""Scoring with a cache: the probabilities a model version gave an input are kept under the SHA-256 of the input's
text, so a suggest pass after an unrelated edit (or a second pass with the same version) sends only new or
changed inputs to the model."""
from __future__ import annotations

import json
from hashlib import sha256
from typing import Callable, Optional, Sequence

from engine.training import TrainingCancelled
from engine.types import EntityText, SentenceExample
from storage.database import Database
from storage.score_cache import cached_scores, store_scores

BATCH = 512


def pair_key(head: EntityText, tail: EntityText) -> str:
    return sha256(json.dumps(["pair", head.label, head.description, tail.label, tail.description],
                             ensure_ascii=False).encode("utf-8")).hexdigest()


def sentence_key(example: SentenceExample) -> str:
    return sha256(json.dumps(["sentence", example.tokens, example.head, example.tail],
                             ensure_ascii=False).encode("utf-8")).hexdigest()


class CachedScorer:
    """`model.probabilities` for pairs and sentences, through the `score_cache` table of one model version.
    `model_calls` counts the inputs actually sent to the model."""

    def __init__(self, database: Database, model_version_id: Optional[int], model) -> None:
        self.database, self.version, self.model = database, model_version_id, model
        self.classes = [spec.name for spec in model.classes]
        self.model_calls = 0

    def _score(self, keys: list[str], encode: Callable[[int], object], cancel=None,
               progress: Optional[Callable[[int, int], None]] = None) -> list[list[float]]:
        known: dict[str, list[float]] = {}
        if self.version is not None:
            with self.database.sessions() as session:
                known = cached_scores(session, self.version, sorted(set(keys)))
        todo, seen = [], set()
        for i, key in enumerate(keys):
            if key not in known and key not in seen:
                seen.add(key)
                todo.append(i)
        fresh: dict[str, list[float]] = {}
        for start in range(0, len(todo), BATCH):
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled("cancelled while suggesting")
            chunk = todo[start:start + BATCH]
            probs = self.model.probabilities([encode(i) for i in chunk]).numpy()
            self.model_calls += len(chunk)
            for i, row in zip(chunk, probs):
                fresh[keys[i]] = [round(float(p), 6) for p in row]
            if progress is not None:
                progress(min(start + BATCH, len(todo)), len(todo))
        if fresh and self.version is not None:  # a cache, not curation: its own transaction
            with self.database.transaction() as session:
                store_scores(session, self.version, fresh)
        known.update(fresh)
        return [known[key] for key in keys]

    def pairs(self, pairs: Sequence[tuple[EntityText, EntityText]], cancel=None, progress=None
              ) -> list[dict[str, float]]:
        keys = [pair_key(h, t) for h, t in pairs]
        rows = self._score(keys, lambda i: self.model.encode_pair(*pairs[i]), cancel, progress)
        return [dict(zip(self.classes, row)) for row in rows]

    def sentences(self, examples: Sequence[SentenceExample], cancel=None, progress=None) -> list[dict[str, float]]:
        keys = [sentence_key(x) for x in examples]
        rows = self._score(keys, lambda i: self.model.encode_sentence(examples[i]), cancel, progress)
        return [dict(zip(self.classes, row)) for row in rows]
