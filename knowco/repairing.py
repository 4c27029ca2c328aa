"""Use cases of repairing the KG's vocabulary (admins only): merge entities or relations that are one, rename a
relation, delete an entity or relation once the curator has seen and confirmed what goes with it."""
from __future__ import annotations

from storage import label_team, repair
from storage.database import Database
from storage.repair import Footprint, MergePreview

from knowco.access import Actor, require
from knowco.label_answers import resettle


def entity_footprint(database: Database, name: str) -> Footprint:
    with database.sessions() as session:
        return repair.entity_footprint(session, name)


def relation_footprint(database: Database, name: str) -> Footprint:
    with database.sessions() as session:
        return repair.relation_footprint(session, name)


def delete_entity(database: Database, actor: Actor, name: str, confirmed: Footprint) -> Footprint:
    require(actor, "repair")
    with database.transaction() as session:
        return repair.delete_entity(session, actor.name, name, confirmed)


def delete_relation(database: Database, actor: Actor, name: str, confirmed: Footprint) -> Footprint:
    require(actor, "repair")
    with database.transaction() as session:
        answered = label_team.answered_naming(session, name)  # those labels wait for an answer again
        deleted = repair.delete_relation(session, actor.name, name, confirmed)
        resettle(session, answered)
        return deleted


def rename_relation(database: Database, actor: Actor, name: str, new_name: str, new_label: str | None = None) -> str:
    require(actor, "repair")
    with database.transaction() as session:
        return repair.rename_relation(session, actor.name, name, new_name, new_label)


def mark_relation(database: Database, actor: Actor, name: str, *, functional: bool | None = None,
                  symmetric: bool | None = None, one_head_per_tail: bool | None = None) -> dict[str, bool]:
    """Set a relation's marks (None leaves one as it is); every mark as it is now."""
    require(actor, "repair")
    with database.transaction() as session:
        return repair.mark_relation(session, actor.name, name, functional=functional, symmetric=symmetric,
                                    one_head_per_tail=one_head_per_tail)


def heads_with_several_tails(database: Database, name: str) -> int:
    with database.sessions() as session:
        return repair.heads_with_several_tails(session, name)


def preview_merge(database: Database, kind: str, source: str, target: str) -> MergePreview:
    """What merging `source` into `target` (kind "entity" or "relation") would move, drop and leave in conflict."""
    with database.sessions() as session:
        return repair.preview_merge(session, kind, source, target)


def merge_entities(database: Database, actor: Actor, source: str, target: str) -> dict[str, int]:
    require(actor, "repair")
    with database.transaction() as session:
        return repair.merge_entities(session, actor.name, source, target)


def merge_relations(database: Database, actor: Actor, source: str, target: str) -> dict[str, int]:
    require(actor, "repair")
    with database.transaction() as session:
        # answers naming the old relation now name the new one: two that differed only by it agree
        answered = label_team.answered_naming(session, source)
        counts = repair.merge_relations(session, actor.name, source, target)
        resettle(session, answered)
        return counts
