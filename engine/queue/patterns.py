"""The graph's own patterns: which paths of one or two facts between two entities imply a relation between them.

A person born in a city of a country is likely its citizen (`born_in ∘ located_in ⇒ citizen_of`); a capital is
located in its country (`capital_of ⇒ located_in`). Mined here from the accepted facts, each rule is counted the
way a curator would check it: of the entity pairs the path links, how many also hold the relation ("12 of 13").
A candidate whose two entities such a path links gets the best such rule as an opinion (`best`) and as a reason
the Review page can show in words. One miner serves the queue's confidence and the card's reasons.

Paths use each relation forwards and backwards (`located_in⁻¹`: the other way round). A path that links more
pairs than `QueuePolicy.max_pattern_pairs` (a hub's siblings on a big KG) is skipped, before it is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np
from scipy import sparse

from engine.queue.policy import QueuePolicy

Triple = tuple[str, str, str]
Step = tuple[str, bool]  # (relation, forwards)

#: the strongest patterns the Train page lists
SHOWN = 15


@dataclass(frozen=True)
class Rule:
    """`body ⇒ relation`: the pairs the body's path links, `support` of them also hold the relation."""

    body: tuple[Step, ...]
    relation: str
    support: int
    linked: int

    @property
    def confidence(self) -> float:
        """Laplace-smoothed share of linked pairs that hold: a rule seen 3 of 3 times is not certain."""
        return (self.support + 1) / (self.linked + 2)

    def words(self) -> str:
        steps = " ∘ ".join(r if forwards else f"{r}⁻¹" for r, forwards in self.body)
        return f"{steps} ⇒ {self.relation}"

    def as_dict(self) -> dict:
        return {"rule": self.words(), "body": [[r, forwards] for r, forwards in self.body], "relation": self.relation,
                "support": self.support, "linked": self.linked, "confidence": round(self.confidence, 4)}


class Patterns:
    """Rules mined from `facts` (length 1 and 2), kept where at least `min_pattern_support` pairs hold them."""

    def __init__(self, facts: Iterable[Triple], policy: QueuePolicy = QueuePolicy()) -> None:
        facts = sorted(set(facts))
        self.policy = policy
        names = sorted({e for h, _, t in facts for e in (h, t)})
        self.index = {name: i for i, name in enumerate(names)}
        self.n = n = len(names)
        relations = sorted({r for _, r, _ in facts})
        self.relations = relations
        by_relation: dict[str, list[tuple[int, int]]] = {r: [] for r in relations}
        for h, r, t in facts:
            by_relation[r].append((self.index[h], self.index[t]))
        self.matrices = {}
        for r, pairs in by_relation.items():
            rows, cols = (np.array(x, dtype=np.int64) for x in zip(*pairs))
            m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
            self.matrices[(r, True)] = m
            self.matrices[(r, False)] = m.T.tocsr()
        # each fact pair (as one integer) and the relations it holds, for counting support
        keys = np.array([self.index[h] * n + self.index[t] for h, _, t in facts], dtype=np.int64)
        rel_ids = np.array([relations.index(r) for _, r, _ in facts], dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._fact_keys, self._fact_rels = keys[order], rel_ids[order]
        self.rules: dict[str, list[Rule]] = {r: [] for r in relations}
        self._bodies: dict[tuple[Step, ...], np.ndarray] = {}
        if n:
            self._mine()

    def _bodies_to_try(self) -> Iterable[tuple[tuple[Step, ...], sparse.csr_matrix]]:
        steps = sorted(self.matrices)
        out_of = {step: np.asarray(self.matrices[step].sum(axis=1)).ravel() for step in steps}
        for step in steps:
            yield (step,), self.matrices[step]
        for first in steps:
            a = self.matrices[first]
            into = np.asarray(a.sum(axis=0)).ravel()  # pairs reaching each middle entity
            for second in steps:
                if first[0] == second[0] and first[1] != second[1]:
                    continue  # r ∘ r⁻¹: siblings, which imply nothing about r itself and are the biggest paths
                paths = float(into @ out_of[second])  # an upper bound on the pairs the path links
                if paths < self.policy.min_pattern_support or paths > self.policy.max_pattern_pairs:
                    continue  # too few to count (most paths of a KG of thin relations link nothing) or too many
                yield (first, second), a @ self.matrices[second]

    def _mine(self) -> None:
        n, policy = self.n, self.policy
        for body, matrix in self._bodies_to_try():
            coo = matrix.tocoo()
            keep = coo.row != coo.col
            keys = np.unique(coo.row[keep].astype(np.int64) * n + coo.col[keep])
            if len(keys) < policy.min_pattern_support:
                continue
            at = np.searchsorted(self._fact_keys, keys)
            lo = np.clip(at, 0, len(self._fact_keys) - 1)
            hit = self._fact_keys[lo] == keys
            # every relation each linked pair holds (a pair may hold several): the fact rows from the first match on
            starts = at[hit]
            ends = np.searchsorted(self._fact_keys, keys[hit], side="right")
            rels = np.concatenate([self._fact_rels[s:e] for s, e in zip(starts, ends)]) if len(starts) else np.empty(0, np.int64)
            support = np.bincount(rels, minlength=len(self.relations))
            kept = False
            for rid in np.nonzero(support >= policy.min_pattern_support)[0]:
                relation = self.relations[rid]
                if body == ((relation, True),):
                    continue
                rule = Rule(body, relation, int(support[rid]), len(keys))
                if rule.confidence >= policy.min_pattern_confidence:
                    self.rules[relation].append(rule)
                    kept = True
            if kept:
                self._bodies[body] = keys
        for relation in self.rules:
            self.rules[relation].sort(key=lambda rule: (-rule.confidence, -rule.support, rule.words()))

    def best(self, triples: Sequence[Triple]) -> list[Optional[Rule]]:
        """For each candidate, the most confident rule whose path links its head to its tail (None: none)."""
        out: list[Optional[Rule]] = [None] * len(triples)
        by_relation: dict[str, list[int]] = {}
        for i, (_, r, _) in enumerate(triples):
            by_relation.setdefault(r, []).append(i)
        for relation, positions in by_relation.items():
            rules = self.rules.get(relation)
            if not rules:
                continue
            keys = np.array([self.index.get(triples[i][0], -1) * self.n + self.index.get(triples[i][2], -1)
                             if triples[i][0] in self.index and triples[i][2] in self.index else -1
                             for i in positions], dtype=np.int64)
            open_ = np.ones(len(positions), dtype=bool)
            for rule in rules:  # most confident first: the first rule that links a pair is its best
                body = self._bodies[rule.body]
                at = np.clip(np.searchsorted(body, keys), 0, len(body) - 1)
                linked = open_ & (keys >= 0) & (body[at] == keys)
                for j in np.nonzero(linked)[0]:
                    out[positions[j]] = rule
                open_ &= ~linked
                if not open_.any():
                    break
        return out

    def implied(self, body: Sequence[Step]) -> list[tuple[str, str]]:
        """The (head, tail) pairs a path of these steps links (head ≠ tail): what a standing rule proposes."""
        matrix = None
        for step in body:
            step = (step[0], bool(step[1]))
            if step not in self.matrices:
                return []
            matrix = self.matrices[step] if matrix is None else matrix @ self.matrices[step]
        if matrix is None:
            return []
        coo = matrix.tocoo()
        names = sorted(self.index, key=self.index.get)
        return sorted((names[r], names[c]) for r, c in zip(coo.row, coo.col) if r != c)

    def strongest(self, limit: int = 20, min_confidence: float = 0.5) -> list[Rule]:
        """The KG's strongest rules, for the curator to read."""
        every = [rule for rules in self.rules.values() for rule in rules if rule.confidence >= min_confidence]
        return sorted(every, key=lambda rule: (-rule.confidence, -rule.support, rule.words()))[:limit]
