"""Use cases of curating as a team: the review overlap, agreement per relation, adjudication and "my next
items". The rule and the rows are storage.team's; the agreement figures are computed here, with
scikit-learn's Cohen's κ (two curators) and the `krippendorff` package's α (any number, missing verdicts
allowed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from storage import label_team, review, team
from storage.database import Database
from storage.label_team import DOES_NOT_HOLD, HOLDS, NO_RELATION, DisputedLabel, LabelTask
from storage.review import Suggestion
from storage.team import MAX_OVERLAP, Disputed, JudgedItem

from knowco import label_answers, verdicts
from knowco.label_answers import LabelOutcome
from knowco.access import Actor, require

__all__ = ["MAX_OVERLAP", "LOW_AGREEMENT", "RelationAgreement", "CuratorCount", "agreement", "agreement_of",
           "curator_counts", "review_overlap", "set_review_overlap", "disputed", "adjudicate", "my_next_items",
           "HOLDS", "DOES_NOT_HOLD", "NO_RELATION", "LabelTask", "LabelOutcome", "DisputedLabel", "label_overlap",
           "set_label_overlap", "label_tasks_waiting", "answer_label_task", "disputed_labels", "adjudicate_label",
           "label_agreement"]

#: agreement below this is shown as low (Landis and Koch's "moderate" begins at 0.41 for κ)
LOW_AGREEMENT = 0.4


@dataclass
class RelationAgreement:
    relation: str
    #: suggestions of the relation judged by two or more curators
    items: int
    curators: list[str]
    #: share of those items where every verdict was the same
    agreed: float
    #: Krippendorff's α (nominal); None where it is undefined (every verdict the same decision)
    alpha: Optional[float]
    #: Cohen's κ, where exactly two curators judged every item; None otherwise or where undefined
    kappa: Optional[float]
    #: the items behind the figure where the verdicts differ
    disagreements: list[JudgedItem]

    @property
    def figure(self) -> tuple[str, Optional[float]]:
        """κ where it applies (two curators, the same items), else α."""
        return ("κ", self.kappa) if self.kappa is not None else ("α", self.alpha)

    @property
    def low(self) -> bool:
        value = self.figure[1]
        return value is not None and value < LOW_AGREEMENT


def _alpha(items: list[JudgedItem], curators: list[str]) -> Optional[float]:
    import krippendorff

    codes = {answer: float(i) for i, answer in enumerate(sorted({a for item in items for a in item.decisions.values()}))}
    data = np.full((len(curators), len(items)), np.nan)
    for column, item in enumerate(items):
        for row, curator in enumerate(curators):
            if curator in item.decisions:
                data[row, column] = codes[item.decisions[curator]]
    if len({v for v in data[~np.isnan(data)]}) < 2:
        return None
    return round(float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")), 4)


def _kappa(items: list[JudgedItem], curators: list[str]) -> Optional[float]:
    from sklearn.metrics import cohen_kappa_score

    if len(curators) != 2 or any(set(item.decisions) != set(curators) for item in items):
        return None
    first = [item.decisions[curators[0]] for item in items]
    second = [item.decisions[curators[1]] for item in items]
    if len(set(first) | set(second)) < 2:
        return None
    return round(float(cohen_kappa_score(first, second)), 4)


def agreement_of(items: list[JudgedItem]) -> list[RelationAgreement]:
    """Agreement per relation over the items two or more curators judged."""
    by_relation: dict[str, list[JudgedItem]] = {}
    for item in items:
        by_relation.setdefault(item.relation, []).append(item)
    out = []
    for relation in sorted(by_relation):
        judged = by_relation[relation]
        curators = sorted({c for item in judged for c in item.decisions})
        differing = [item for item in judged if len(set(item.decisions.values())) > 1]
        out.append(RelationAgreement(relation, len(judged), curators, round(1 - len(differing) / len(judged), 4),
                                     _alpha(judged, curators), _kappa(judged, curators), differing))
    return out


def agreement(database: Database) -> list[RelationAgreement]:
    with database.sessions() as session:
        return agreement_of(team.judged_items(session))


def label_agreement(database: Database) -> list[RelationAgreement]:
    """Agreement on label tasks: triple tasks per relation, sentence tasks together (the answer is the relation,
    so α is over as many categories as there are relations, plus "no relation")."""
    with database.sessions() as session:
        return agreement_of(label_team.judged_labels(session))


@dataclass
class CuratorCount:
    curator: str
    verdicts: int
    accepted: int
    rejected: int


def curator_counts(database: Database) -> list[CuratorCount]:
    with database.sessions() as session:
        counts: dict[str, CuratorCount] = {}
        for curator, decision, n in team.verdict_counts(session):
            row = counts.setdefault(curator, CuratorCount(curator, 0, 0, 0))
            row.verdicts += n
            setattr(row, decision, getattr(row, decision) + n)
        return sorted(counts.values(), key=lambda c: -c.verdicts)


def review_overlap(database: Database) -> int:
    with database.sessions() as session:
        return team.overlap(session)


def set_review_overlap(database: Database, actor: Actor, value: int) -> int:
    """How many curators decide each suggestion from now on (suggestions already decided stay decided); returns
    how many waiting suggestions the new overlap decided or disputed at once."""
    require(actor, "adjudicate")
    with database.transaction() as session:
        return verdicts.set_overlap(session, value, actor.name)


def disputed(database: Database) -> list[Disputed]:
    with database.sessions() as session:
        return team.disputed(session)


def adjudicate(database: Database, actor: Actor, triple_id: int, decision: str, reason: Optional[str] = None,
               comment: str = "") -> str:
    """The adjudicator's decision on a disputed suggestion; every verdict stays in the history and the export."""
    require(actor, "adjudicate")
    with database.transaction() as session:
        return verdicts.adjudicate(session, triple_id, actor.name, decision, reason, comment)


def my_next_items(database: Database, actor: Actor, *, limit: int = 10, relation: Optional[str] = None,
                  min_confidence: float = 0.0, max_confidence: float = 1.0, order: review.Order = "confidence",
                  exclude: Iterable[int] = (), from_text: Optional[bool] = None) -> list[Suggestion]:
    """Suggestions for this curator alone (claimed for them for a while): ones they have not judged, and of
    which other curators do not already hold every seat the overlap allows."""
    require(actor, "review")
    with database.transaction() as session:
        return review.suggestions(session, relation=relation, min_confidence=min_confidence,
                                  max_confidence=max_confidence, order=order, limit=limit, exclude=exclude,
                                  curator=actor.name, mine=True, from_text=from_text)


def label_overlap(database: Database) -> int:
    with database.sessions() as session:
        return label_team.label_overlap(session)


def set_label_overlap(database: Database, actor: Actor, value: int) -> int:
    """How many curators must give the same answer before a label trains the model; returns how many waiting
    labels the new overlap settled or disputed at once."""
    require(actor, "adjudicate")
    with database.transaction() as session:
        return label_answers.set_label_overlap(session, value, actor.name)


def label_tasks_waiting(database: Database, actor: Actor, limit: int = 50) -> tuple[list[LabelTask], int]:
    """Labels waiting for this curator's answer (shown blind), and how many wait in all."""
    with database.sessions() as session:
        return label_team.waiting_for(session, actor.name, limit), label_team.waiting_count(session, actor.name)


def answer_label_task(database: Database, actor: Actor, example_id: int, answer: str, comment: str = "") -> LabelOutcome:
    require(actor, "label")
    with database.transaction() as session:
        return label_answers.give_opinion(session, example_id, actor.name, answer, comment)


def disputed_labels(database: Database) -> list[DisputedLabel]:
    with database.sessions() as session:
        return label_team.disputed_labels(session)


def adjudicate_label(database: Database, actor: Actor, example_id: int, answer: str, comment: str = "") -> str:
    """The adjudicator's answer to a disputed label task; every curator's answer stays in the history."""
    require(actor, "adjudicate")
    with database.transaction() as session:
        return label_answers.adjudicate_label(session, example_id, actor.name, answer, comment)
