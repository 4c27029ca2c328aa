"""Scores a model version already computed, by the SHA-256 of the input text: a suggest pass asks here first and
sends only the misses to the model."""
from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import ScoreCache

CHUNK = 900


def cached_scores(session: Session, model_version_id: int, keys: list[str]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        found.update(session.execute(select(ScoreCache.input_sha256, ScoreCache.probabilities).where(
            ScoreCache.model_version_id == model_version_id, ScoreCache.input_sha256.in_(chunk))).all())
    return found


def store_scores(session: Session, model_version_id: int, scores: dict[str, list[float]]) -> None:
    rows = [{"model_version_id": model_version_id, "input_sha256": key, "probabilities": value}
            for key, value in scores.items()]
    present = set()
    for start in range(0, len(rows), CHUNK):
        present.update(session.scalars(select(ScoreCache.input_sha256).where(
            ScoreCache.model_version_id == model_version_id,
            ScoreCache.input_sha256.in_([r["input_sha256"] for r in rows[start:start + CHUNK]]))))
    new = [r for r in rows if r["input_sha256"] not in present]
    for start in range(0, len(new), 5000):
        session.execute(insert(ScoreCache), new[start:start + 5000])
