"""Documents a curator uploads: split into tokenised sentences that relation extraction can label and read."""
from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.audit import record_event

from storage.models import Document, Sentence, utcnow
from storage.text_split import split_sentences, tokenize

MAX_SENTENCE_CHARS = 5000


class DocumentError(ValueError):
    """A document that cannot be added (empty, or nothing in it that is not already stored)."""


@dataclass
class SentenceRow:
    id: int
    document: Optional[str]
    text: str
    tokens: list[str]


def _digest(tokens: list[str]) -> str:
    return sha256(" ".join(tokens).encode("utf-8")).hexdigest()


def add_document(session: Session, name: str, text: str, user: str) -> tuple[int, int]:
    """Store the new sentences of `text` under document `name`; (added, already present)."""
    sentences = [s for s in split_sentences(text) if tokenize(s)]
    if not sentences:
        raise DocumentError(f"{name}: no text in the document")
    too_long = next((i for i, s in enumerate(sentences, 1) if len(s) > MAX_SENTENCE_CHARS), None)
    if too_long:
        raise DocumentError(f"{name}: sentence {too_long} is longer than {MAX_SENTENCE_CHARS} characters; "
                            "put one sentence or paragraph per line")
    rows = {}
    for text_ in sentences:
        tokens = tokenize(text_)
        rows.setdefault(_digest(tokens), (text_, tokens))
    present = set(session.scalars(select(Sentence.text_sha256).where(Sentence.text_sha256.in_(list(rows)))))
    new = [(digest, value) for digest, value in rows.items() if digest not in present]
    if new:
        document = session.scalar(select(Document).where(Document.name == name))
        if document is None:
            document = Document(name=name, created_by=user, created_at=utcnow())
            session.add(document)
            session.flush()
        last = session.scalar(select(func.max(Sentence.position)).where(Sentence.document_id == document.id))
        start = 0 if last is None else last + 1
        for offset, (digest, (text_, tokens)) in enumerate(new):
            session.add(Sentence(document_id=document.id, position=start + offset, text=text_, tokens=tokens,
                                 text_sha256=digest, created_at=utcnow()))
        record_event(session, actor=user, action="import", target="document", target_id=document.id,
                     details={"name": name, "sentences": len(new), "already_present": len(present)})
    return len(new), len(present)


def add_sentence(session: Session, text: str, user: str) -> int:
    """One sentence typed by the curator (kept under the document "typed by NAME"); returns its id."""
    tokens = tokenize(text)
    if not tokens:
        raise DocumentError("the sentence is empty")
    digest = _digest(tokens)
    existing = session.scalar(select(Sentence.id).where(Sentence.text_sha256 == digest))
    if existing is not None:
        return existing
    add_document(session, f"typed by {user}", " ".join(text.split()), user)
    return session.scalar(select(Sentence.id).where(Sentence.text_sha256 == digest))


def find_sentences(session: Session, contains: str = "", limit: int = 50) -> list[SentenceRow]:
    query = (select(Sentence, Document.name).outerjoin(Document, Sentence.document_id == Document.id)
             .order_by(Sentence.id).limit(limit))
    if contains.strip():
        words = contains.split()
        query = query.where(*(Sentence.text.ilike(f"%{w}%") for w in words))
    return [SentenceRow(s.id, doc, s.text, list(s.tokens)) for s, doc in session.execute(query)]


def sentences_mentioning(session: Session, first: list[str], second: list[str], limit: int = 3) -> list[str]:
    """Sentences that contain one of the `first` names and one of the `second` names: evidence for a pair."""
    first = [n for n in first if n and len(n) > 2]
    second = [n for n in second if n and len(n) > 2]
    if not first or not second:
        return []
    query = (select(Sentence.text)
             .where(or_(*(Sentence.text.ilike(f"%{n}%") for n in first)))
             .where(or_(*(Sentence.text.ilike(f"%{n}%") for n in second))).limit(limit))
    return list(session.scalars(query))


def get_sentence(session: Session, sentence_id: int) -> Optional[SentenceRow]:
    row = session.execute(select(Sentence, Document.name).outerjoin(Document, Sentence.document_id == Document.id)
                          .where(Sentence.id == sentence_id)).first()
    return SentenceRow(row[0].id, row[1], row[0].text, list(row[0].tokens)) if row else None


def all_sentences(session: Session) -> list[tuple[int, list[str]]]:
    """(id, tokens) of every stored sentence: the text a suggest pass reads."""
    return [(sentence_id, list(tokens)) for sentence_id, tokens in session.execute(select(Sentence.id, Sentence.tokens))]
