"""The rows behind the graph view: an entity's neighbourhood or a filtered slice, capped at a node budget so a
100k-triple KG still draws in a moment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Entity, Relation, Triple


@dataclass(frozen=True)
class Node:
    name: str
    label: str
    type: Optional[str]
    description: str


@dataclass(frozen=True)
class Edge:
    id: int
    head: str
    relation: str
    relation_label: str
    tail: str
    status: str
    confidence: Optional[float]
    source: str


@dataclass
class Subgraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False


def busiest_entity(session: Session) -> Optional[str]:
    """The entity in the most accepted facts: where a first look at a KG starts (a whole-graph view of the
    first edges is a hairball)."""
    ends = select(Triple.head_id.label("entity_id")).where(Triple.status == "accepted").union_all(
        select(Triple.tail_id.label("entity_id")).where(Triple.status == "accepted")).subquery()
    return session.scalar(select(Entity.name).join(ends, Entity.id == ends.c.entity_id).group_by(Entity.id, Entity.name)
                          .order_by(func.count().desc(), Entity.name).limit(1))


def subgraph(session: Session, *, center: Optional[str] = None, relations: Sequence[str] = (),
             statuses: Sequence[str] = ("accepted", "suggested"), min_confidence: float = 0.0,
             max_confidence: float = 1.0, max_nodes: int = 300, hops: int = 1) -> Subgraph:
    """Edges touching `center` (grown `hops` steps out) or, without a center, the first edges matching the
    filters; stops adding edges once `max_nodes` nodes are in. Suggestions outside the confidence range are
    dropped; accepted facts have no confidence and always pass.
    """
    head, tail = aliased(Entity), aliased(Entity)
    query = (select(Triple.id, head.name, Relation.name, Relation.label, tail.name, Triple.status,
                    Triple.confidence, Triple.source)
             .join(head, Triple.head_id == head.id).join(tail, Triple.tail_id == tail.id)
             .join(Relation, Triple.relation_id == Relation.id)
             .where(Triple.status.in_(list(statuses)))
             .where(or_(Triple.status == "accepted", func.coalesce(Triple.confidence, 0.0).between(
                 min_confidence, max_confidence))))
    if relations:
        query = query.where(Relation.name.in_(list(relations)))
    graph, names = Subgraph(), set()
    if center is None:
        rows = session.execute(query.order_by(Triple.id).limit(max_nodes * 4)).all()
        _add(graph, names, rows, max_nodes)
    else:
        frontier = {center}
        names.add(center)
        for _ in range(max(1, hops)):
            ids = list(session.scalars(select(Entity.id).where(Entity.name.in_(list(frontier)))))
            if not ids:
                break
            rows = session.execute(query.where(or_(Triple.head_id.in_(ids), Triple.tail_id.in_(ids)))
                                   .order_by(Triple.status, Triple.id).limit(max_nodes * 4)).all()
            before = set(names)
            _add(graph, names, rows, max_nodes)
            frontier = names - before
            if graph.truncated or not frontier:
                break
    for entity in session.scalars(select(Entity).where(Entity.name.in_(list(names)))):
        graph.nodes[entity.name] = Node(entity.name, entity.label, entity.type, entity.description or "")
    return graph


def _add(graph: Subgraph, names: set[str], rows, max_nodes: int) -> None:
    seen = {edge.id for edge in graph.edges}
    for row in rows:
        edge = Edge(*row)
        if edge.id in seen:
            continue
        new = {edge.head, edge.tail} - names
        if len(names) + len(new) > max_nodes:
            graph.truncated = True
            return
        names.update(new)
        graph.edges.append(edge)
        seen.add(edge.id)
