"""The ORM: one class per table of the data model in DESIGN.md.

Every row a curator can create carries who and when, so the audit trail and the exports can say where a
fact came from. Enumerations are stored as short strings (not native enums) so SQLite and PostgreSQL keep
the same schema and a new value needs no type migration.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: "disputed": the curators the overlap asks for disagreed; an adjudicator decides (storage.team)
TRIPLE_STATUSES = ("accepted", "suggested", "rejected", "retracted", "disputed")
#: what one curator can say of a suggestion
DECISIONS = ("accepted", "rejected")
TRIPLE_SOURCES = ("imported", "curator", "model")
#: why a curator rejects a suggestion
REJECT_REASONS = ("false", "wrong direction", "wrong relation", "wrong type", "not stated in the evidence",
                  "duplicate entity")
EXAMPLE_KINDS = ("triple", "sentence")
#: a label counts for training once settled; with a label overlap above 1 it waits ("pending") for enough
#: curators' opinions, and goes to adjudication ("disputed") where they differ
LABEL_STATUSES = ("settled", "pending", "disputed")
SPOT_CHECK_STATUSES = ("open", "accepted")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Entity(Base):
    """A node. `name` is the stable identifier (unique); `label` is what people read."""

    __tablename__ = "entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512), unique=True)
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[Optional[str]] = mapped_column(String(256), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Relation(Base):
    """An edge type. `label` holds the natural-language words the engine builds label words from."""

    __tablename__ = "relation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512), unique=True)
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    head_type: Mapped[Optional[str]] = mapped_column(String(256))
    tail_type: Mapped[Optional[str]] = mapped_column(String(256))
    #: a curator's mark: at most one tail per head (a country's capital); never suggest a second
    functional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: a curator's mark: holds both ways (borders); its reverse is no negative
    symmetric: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: a curator's mark: at most one head per tail (a book's author, when the relation is `written_by`'s
    #: reverse); never suggest a second
    one_head_per_tail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """One training run and the model it produced; suggestions point at the version that made them."""

    __tablename__ = "model_version"
    __table_args__ = (CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    backbone: Mapped[str] = mapped_column(String(512))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    n_examples: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    checkpoint_path: Mapped[Optional[str]] = mapped_column(String(1024))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]
    # the worker reads `cancel_requested` between steps; `heartbeat_at` lets the UI tell a dead worker from a slow one
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    worker_pid: Mapped[Optional[int]] = mapped_column(Integer)
    heartbeat_at: Mapped[Optional[datetime]]


class Triple(Base):
    """A fact, a suggestion or a rejected suggestion: one row per (head, relation, tail), whatever its status."""

    __tablename__ = "triple"
    __table_args__ = (
        UniqueConstraint("head_id", "relation_id", "tail_id", name="uq_triple_hrt"),
        CheckConstraint(_one_of("status", TRIPLE_STATUSES), name="status"),
        CheckConstraint(_one_of("source", TRIPLE_SOURCES), name="source"),
        Index("ix_triple_status_relation", "status", "relation_id"),
        Index("ix_triple_tail", "tail_id"),
        # the review queue's order: a page (and its count) reads its rows off this index, backwards, instead of
        # sorting every pending suggestion (4,000 of them: 6 of a page's 10 ms on SQLite)
        Index("ix_triple_queue_order", "status", "confidence", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    head_id: Mapped[int] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    relation_id: Mapped[int] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    tail_id: Mapped[int] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[Optional[float]] = mapped_column(Float)
    #: a suggestion's margin between the two likeliest answers for its pair ("no relation" included): the
    #: uncertainty order, smallest first
    margin: Mapped[Optional[float]] = mapped_column(Float)
    #: a suggestion's separate opinions, e.g. {"text": 0.81, "graph": 0.64, "sentences": 2}
    opinions: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    model_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("model_version.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[Optional[str]] = mapped_column(String(128))
    reviewed_at: Mapped[Optional[datetime]]
    #: why it was rejected (one of REJECT_REASONS): negative knowledge the exports carry
    reason: Mapped[Optional[str]] = mapped_column(String(64))
    #: the curator's words on the verdict (a retraction's reason too)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    #: the spot check whose stated precision a curator signed off when accepting it with the rest of a slice
    spot_check_id: Mapped[Optional[int]] = mapped_column(ForeignKey("spot_check.id", ondelete="SET NULL"))

    head: Mapped[Entity] = relationship(foreign_keys=[head_id])
    relation: Mapped[Relation] = relationship()
    tail: Mapped[Entity] = relationship(foreign_keys=[tail_id])
    model_version: Mapped[Optional[ModelVersion]] = relationship()


class Document(Base):
    """A text a curator brought in (an uploaded file, or the sentences of a JSONL file)."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(1024))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sentence(Base):
    """One sentence, kept tokenised so example spans are token offsets that cannot drift."""

    __tablename__ = "sentence"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[list[str]] = mapped_column(JSON)
    text_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Example(Base):
    """A curator's label: a triple that holds or not, or a sentence stating a relation (or none).

    `relation_id` is NULL for a sentence labelled "no relation". Rows are never overwritten in place
    without an audit event carrying the old values.
    """

    __tablename__ = "example"
    __table_args__ = (
        CheckConstraint(_one_of("kind", EXAMPLE_KINDS), name="kind"),
        CheckConstraint(_one_of("status", LABEL_STATUSES), name="status"),
        Index(
            "uq_example_triple",
            "head_id",
            "relation_id",
            "tail_id",
            unique=True,
            sqlite_where=text("kind = 'triple'"),
            postgresql_where=text("kind = 'triple'"),
        ),
        UniqueConstraint(
            "sentence_id", "head_start", "head_end", "tail_start", "tail_end", name="uq_example_sentence_spans"
        ),
        Index("ix_example_relation", "relation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    relation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    label: Mapped[bool] = mapped_column(Boolean, default=True)
    head_id: Mapped[Optional[int]] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    tail_id: Mapped[Optional[int]] = mapped_column(ForeignKey("entity.id", ondelete="CASCADE"))
    sentence_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"))
    head_start: Mapped[Optional[int]] = mapped_column(Integer)
    head_end: Mapped[Optional[int]] = mapped_column(Integer)
    tail_start: Mapped[Optional[int]] = mapped_column(Integer)
    tail_end: Mapped[Optional[int]] = mapped_column(Integer)
    #: the curator's words on the label (why it holds, a doubt, a source)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="settled", server_default="settled")


class LabelOpinion(Base):
    """One curator's answer to a label task (does the triple hold; which relation, or none, does the sentence
    state): with a label overlap above 1 the label counts for training only once enough curators gave the same
    answer. Given blind: a curator asked for an opinion is not shown the others'."""

    __tablename__ = "label_opinion"
    __table_args__ = (UniqueConstraint("example_id", "curator", name="uq_label_opinion_example_curator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    example_id: Mapped[int] = mapped_column(ForeignKey("example.id", ondelete="CASCADE"), index=True)
    curator: Mapped[str] = mapped_column(String(128), index=True)
    #: a triple label's answer
    holds: Mapped[bool] = mapped_column(Boolean, default=True)
    #: a sentence label's answer (NULL: no relation)
    relation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("relation.id", ondelete="CASCADE"))
    comment: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Verdict(Base):
    """One curator's verdict on a suggestion. Every verdict is kept: with an overlap above 1 a suggestion
    becomes a fact (or a rejection) only when enough curators agree, and the verdicts give the agreement per
    relation, the adjudicator's view and the exported provenance."""

    __tablename__ = "verdict"
    __table_args__ = (
        UniqueConstraint("triple_id", "curator", name="uq_verdict_triple_curator"),
        CheckConstraint(_one_of("decision", DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    triple_id: Mapped[int] = mapped_column(ForeignKey("triple.id", ondelete="CASCADE"), index=True)
    curator: Mapped[str] = mapped_column(String(128), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[Optional[str]] = mapped_column(String(64))
    comment: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewClaim(Base):
    """A suggestion handed to a curator by "my next items": while the claim is fresh, nobody else beyond the
    overlap is handed the same one."""

    __tablename__ = "review_claim"

    triple_id: Mapped[int] = mapped_column(ForeignKey("triple.id", ondelete="CASCADE"), primary_key=True)
    curator: Mapped[str] = mapped_column(String(128), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProjectSetting(Base):
    """A project-wide choice an admin makes in the app (e.g. the review overlap), one row per key."""

    __tablename__ = "project_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class SpotCheck(Base):
    """A slice of the queue frozen for a spot check: its suggestions (with the confidence band each had), the
    random sample curators judge, and, once a curator accepted the rest, the precision stated and who signed
    off on it."""

    __tablename__ = "spot_check"
    __table_args__ = (CheckConstraint(_one_of("status", SPOT_CHECK_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the slice as the Review page's filters named it, e.g. {"relation": "treats", "min_confidence": 0.8}
    slice: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: [[triple id, band], ...] of every suggestion in the slice when it was frozen
    members: Mapped[list[Any]] = mapped_column(JSON)
    sample: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the stated precision of the rest, its interval, the sample's counts and the method, when signed off
    estimate: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    signed_off_by: Mapped[Optional[str]] = mapped_column(String(128))
    signed_off_at: Mapped[Optional[datetime]]


class ApiToken(Base):
    """A token that lets another program use the HTTP API as one account (its name and role): stored as its
    SHA-256 only (a token is 32 random bytes, so a fast hash cannot be reversed), revocable."""

    __tablename__ = "api_token"
    #: two `token add` calls with one name at once both passed the service's look-up; the database refuses one
    __table_args__ = (
        Index("uq_api_token_live_name", "name", unique=True, sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the token is for, e.g. "nightly-retrain"; unique among tokens not revoked
    name: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[Optional[datetime]]
    revoked_at: Mapped[Optional[datetime]]
    #: a token from a login expires; one made on the command line for a pipeline does not
    expires_at: Mapped[Optional[datetime]]


class LoginAttempts(Base):
    """Failed logins per name and per address ("name:ann", "address:10.0.0.7"), shared by the app and the API
    through the database: how many in a row, and until when the next try is refused."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[Optional[datetime]]


class IdempotentRequest(Base):
    """The answer given to a request carrying an idempotency key, so a client that retries it (a timeout, a
    dropped connection) gets the same answer instead of deciding twice."""

    __tablename__ = "idempotent_request"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    actor: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: method and path of the first request: the same key on another request is refused
    request: Mapped[str] = mapped_column(String(300))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Who did what to which row, when. Append-only: nothing in the code updates or deletes these rows."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[Optional[int]] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Evidence(Base):
    """A sentence in which the model read a suggested triple: the mentions' token spans and its score there."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("triple_id", "sentence_id", "head_start", "tail_start", name="uq_evidence_mention"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    triple_id: Mapped[int] = mapped_column(ForeignKey("triple.id", ondelete="CASCADE"), index=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentence.id", ondelete="CASCADE"))
    head_start: Mapped[int] = mapped_column(Integer)
    head_end: Mapped[int] = mapped_column(Integer)
    tail_start: Mapped[int] = mapped_column(Integer)
    tail_end: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


class ScoreCache(Base):
    """The class probabilities a model version gave one input (keyed by the SHA-256 of what the model read), so a
    new suggest pass rescoring unchanged inputs costs no model call."""

    __tablename__ = "score_cache"

    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"),
                                                  primary_key=True)
    input_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    probabilities: Mapped[list[float]] = mapped_column(JSON)
