"""Reading use cases of the Graph and History pages: a slice of the graph and the audit log. Reads need no role
beyond being signed in (the app lets no anonymous session reach a page)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional, Sequence

from storage import graph_query, history as audit_log
from storage.database import Database
from storage.graph_query import Subgraph
from storage.history import HistoryRow


def subgraph(database: Database, *, center: Optional[str] = None, relations: Sequence[str] = (),
             statuses: Sequence[str] = ("accepted", "suggested"), min_confidence: float = 0.0,
             max_confidence: float = 1.0, max_nodes: int = 300, hops: int = 1) -> Subgraph:
    with database.sessions() as session:
        return graph_query.subgraph(session, center=center, relations=relations, statuses=statuses,
                                    min_confidence=min_confidence, max_confidence=max_confidence,
                                    max_nodes=max_nodes, hops=hops)


def busiest_entity(database: Database) -> Optional[str]:
    with database.sessions() as session:
        return graph_query.busiest_entity(session)


def history(database: Database, *, actors: Sequence[str] = (), actions: Sequence[str] = (),
            since: Optional[datetime] = None, limit: int = 500, viewer: Optional[str] = None,
            before: Optional[int] = None) -> list[HistoryRow]:
    """The audit log, newest first (older than the event numbered `before`, where given); with `viewer`, others'
    answers to what the viewer is still asked to answer are hidden."""
    with database.sessions() as session:
        return audit_log.history(session, actors=actors, actions=actions, since=since, limit=limit, viewer=viewer,
                                 before=before)


def history_choices(database: Database) -> tuple[list[str], list[str]]:
    with database.sessions() as session:
        return audit_log.history_choices(session)
