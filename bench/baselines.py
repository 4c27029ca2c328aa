"""The simple methods the app's queue contains, run on the same KG and scored against the same truth in the same
`bench queue` run, so a table never reports the app without the best thing it could have done instead.

- **The reverse rule**: in a relation where at least `REVERSE_SHARE` of the facts have their reverse as a fact too,
  propose the missing reverse of every other fact. On WN18RR this one line explained the app's P@100 = 1.0.
- **Each structural model alone**, trained to convergence: TransE, ComplEx and the interactions of the app's own
  structure search, with early stopping on facts held out of the KG (never the truth), then every candidate
  triple (not a fact, head ≠ tail) ranked by its score: all relations together, and as the app builds its queue
  (each relation's best `per_relation`).
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import replace
from typing import Callable, Sequence

from engine.queue.candidates import best_pairs
from engine.structure import PykeenModel, StructureConfig

Triple = tuple[str, str, str]
#: a ranking's figures against the run's truth (`bench.queue.precision_and_recall`)
Score = Callable[[list[Triple]], dict]

#: a relation holds both ways where at least this share of its facts have their reverse among the facts
REVERSE_SHARE = 0.9
#: the structural baselines' training: long enough to converge, stopped by the held-out facts
CONVERGED = StructureConfig(embedding_dim=128, epochs=500, batch_size=256, lr=0.005, negatives_per_positive=8,
                            max_batches=10**9, patience=3, check_every=10, selection_facts=200)
#: facts held out of the KG to stop each structural baseline on (at most)
STOPPING_FACTS = 200


def reverse_rule(kg: Sequence[Triple], share: float = REVERSE_SHARE) -> list[Triple]:
    """The missing reverses of the facts of each relation that holds both ways in `share` of its facts, the
    relations that hold both ways most often first."""
    facts = set(kg)
    by_relation: dict[str, list[Triple]] = defaultdict(list)
    for triple in sorted(facts):
        by_relation[triple[1]].append(triple)
    both = {r: sum((t, r, h) in facts for h, _, t in triples) / len(triples) for r, triples in by_relation.items()}
    proposed = []
    for relation in sorted((r for r in both if both[r] >= share), key=lambda r: (-both[r], r)):
        proposed += [(t, relation, h) for h, _, t in by_relation[relation] if h != t and (t, relation, h) not in facts]
    return list(dict.fromkeys(proposed))


def _stopping_split(kg: Sequence[Triple], seed: int) -> tuple[list[Triple], list[Triple]]:
    """(facts to train on, facts to stop on): a small random share of the KG, never an entity's only fact."""
    rng = random.Random(seed)
    facts = sorted(set(kg))
    degree: dict[str, int] = defaultdict(int)
    for h, _, t in facts:
        degree[h] += 1
        degree[t] += 1
    order = list(facts)
    rng.shuffle(order)
    held = []
    for h, r, t in order:
        if len(held) >= min(STOPPING_FACTS, len(facts) // 20):
            break
        if degree[h] > 1 and degree[t] > 1:
            held.append((h, r, t))
            degree[h] -= 1
            degree[t] -= 1
    held_set = set(held)
    return [f for f in facts if f not in held_set], held


def structural_baseline(entities: list[str], relations: list[str], kg: Sequence[Triple], interaction: str,
                        seed: int, score: Score, per_relation: int = 25, top: int = 1000,
                        config: StructureConfig = CONVERGED) -> dict:
    """One interaction trained to convergence on the KG, its candidates ranked all together (`all`) and as the
    app's queue is built (`per_relation`)."""
    started = time.perf_counter()
    train, stopping = _stopping_split(kg, seed)
    model = PykeenModel(entities, relations, train, interaction, replace(config, seed=seed))
    model.fit(stop_on=stopping, known=set(kg))
    trained = time.perf_counter() - started
    tails: dict[str, dict[str, list[str]]] = {r: {} for r in relations}
    for head, relation, tail in kg:
        tails[relation].setdefault(head, []).append(tail)
    scored = [[(s, (head, relation, tail)) for s, head, tail in
               best_pairs(model, relation, entities, entities, tails[relation], max(top, per_relation))]
              for relation in relations]
    everything = sorted((item for mine in scored for item in mine), key=lambda x: -x[0])
    queue_like = sorted((item for mine in scored for item in mine[:per_relation]), key=lambda x: -x[0])
    return {"all": score([t for _, t in everything[:top]]), "per_relation": score([t for _, t in queue_like]),
            "stopped": model.stopped, "train_seconds": round(trained, 1),
            "seconds": round(time.perf_counter() - started, 1)}
