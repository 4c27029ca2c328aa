"""Patterns the curator can act on: the Train page lists the KG's strongest patterns (`born_in ∘ located_in ⇒
citizen_of`, 12 of 13), and a curator who trusts one makes it a standing rule: every suggest pass then puts the
pairs its path links (not yet facts, nor judged) in the queue, with the pattern as their evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

from storage import project_settings
from storage.database import Database

from knowco.access import Actor, require
from knowco.errors import CuratorError

KEY = "standing_rules"


@dataclass(frozen=True)
class StandingRule:
    #: [(relation, forwards), ...]: the path from head to tail
    body: tuple[tuple[str, bool], ...]
    relation: str
    #: the rule in words, e.g. "born_in ∘ located_in ⇒ citizen_of"
    words: str
    made_by: str

    def as_dict(self) -> dict:
        return {"body": [[r, forwards] for r, forwards in self.body], "relation": self.relation,
                "rule": self.words, "by": self.made_by}

    @classmethod
    def from_dict(cls, data: dict) -> "StandingRule":
        return cls(tuple((str(r), bool(f)) for r, f in data["body"]), data["relation"], data["rule"],
                   data.get("by", ""))


def standing_rules(database: Database) -> list[StandingRule]:
    with database.sessions() as session:
        return [StandingRule.from_dict(d) for d in project_settings.value_of(session, KEY, [])]


def make_standing_rule(database: Database, actor: Actor, pattern: dict) -> str:
    """A pattern of the Train page (a rule's dict as the run recorded it) becomes a standing rule."""
    require(actor, "manage_models")
    rule = StandingRule(tuple((r, bool(f)) for r, f in pattern["body"]), pattern["relation"], pattern["rule"],
                        actor.name)
    with database.transaction() as session:
        rules = [StandingRule.from_dict(d) for d in project_settings.value_of(session, KEY, [])]
        if any(r.words == rule.words for r in rules):
            raise CuratorError(f"{rule.words} is a standing rule already")
        project_settings.set_value(session, KEY, [r.as_dict() for r in rules] + [rule.as_dict()], actor.name,
                                   "make_standing_rule", {"rule": rule.words})
    return f"{rule.words} is a standing rule: the next suggest pass puts what it implies in the queue"


def drop_standing_rule(database: Database, actor: Actor, words: str) -> str:
    require(actor, "manage_models")
    with database.transaction() as session:
        rules = [StandingRule.from_dict(d) for d in project_settings.value_of(session, KEY, [])]
        kept = [r for r in rules if r.words != words]
        if len(kept) == len(rules):
            raise CuratorError(f"{words} is not a standing rule")
        project_settings.set_value(session, KEY, [r.as_dict() for r in kept], actor.name, "drop_standing_rule",
                                   {"rule": words})
    return f"{words} is no longer a standing rule"
