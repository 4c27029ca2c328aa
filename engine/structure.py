"""The structural second opinion: a knowledge-graph-embedding model (PyKEEN, the field's library) trained on
the accepted facts, its interaction chosen on held-out facts rather than by hand. It reads no text, so it knows
what the prompt model cannot: which entities keep company in the graph. The link-prediction benchmark uses the
same class for its TransE and RotatE baselines.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch

Triple = tuple[str, str, str]
#: the interactions the link-prediction benchmark compares with the prompt model
KGE_METHODS = ("transe", "rotate")


@dataclass
class StructureConfig:
    interactions: tuple[str, ...] = ("rotate", "complex", "distmult")
    embedding_dim: int = 64
    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.01
    negatives_per_positive: int = 8
    seed: int = 42
    #: held-out facts ranked to choose the interaction (at most)
    selection_facts: int = 200


@dataclass
class StructureReport:
    interaction: str
    #: filtered mean reciprocal rank of held-out facts' tails, per interaction tried
    mrr: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class StructuralModel:
    """One trained interaction over fixed entity and relation vocabularies."""

    def __init__(self, entity_names: Sequence[str], relation_names: Sequence[str], facts: Sequence[Triple],
                 interaction: str, config: StructureConfig) -> None:
        from pykeen.models import model_resolver
        from pykeen.triples import TriplesFactory

        self.entity_ids = {name: i for i, name in enumerate(entity_names)}
        self.relation_ids = {name: i for i, name in enumerate(relation_names)}
        self.factory = TriplesFactory.from_labeled_triples(
            np.array(list(facts), dtype=str).reshape(-1, 3), entity_to_id=self.entity_ids,
            relation_to_id=self.relation_ids)
        torch.manual_seed(config.seed)
        self.model = model_resolver.make(interaction, triples_factory=self.factory,
                                         embedding_dim=config.embedding_dim, random_seed=config.seed)
        self.interaction, self.config = interaction, config

    def fit(self, cancel: Optional[Callable[[], bool]] = None) -> float:
        """Train; returns the seconds it took."""
        from pykeen.training import SLCWATrainingLoop
        from pykeen.training.callbacks import TrainingCallback

        class Stop(TrainingCallback):
            def post_batch(self, epoch: int, batch, **kwargs) -> None:
                if cancel is not None and cancel():
                    raise StructureCancelled("cancelled while training the structural model")

        started = time.perf_counter()
        loop = SLCWATrainingLoop(model=self.model, triples_factory=self.factory, optimizer="adam",
                                 optimizer_kwargs={"lr": self.config.lr},
                                 negative_sampler_kwargs={"num_negs_per_pos": self.config.negatives_per_positive})
        loop.train(triples_factory=self.factory, num_epochs=self.config.epochs, batch_size=self.config.batch_size,
                   use_tqdm=False, callbacks=[Stop()])
        self.model.eval()
        return time.perf_counter() - started

    @torch.inference_mode()
    def tail_scores(self, head: str, relation: str) -> np.ndarray:
        """Scores of every entity as the tail of (head, relation), in `entity_ids` order."""
        query = torch.tensor([[self.entity_ids[head], self.relation_ids[relation]]])
        return self.model.score_t(query)[0].numpy()

    def score_tails(self, head: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.tail_scores(head, relation)
        return scores[[self.entity_ids[n] for n in names]].tolist()

    @torch.inference_mode()
    def score_heads(self, tail: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.model.score_h(torch.tensor([[self.relation_ids[relation], self.entity_ids[tail]]]))[0].numpy()
        return scores[[self.entity_ids[n] for n in names]].tolist()

    def score(self, triples: Sequence[Triple]) -> np.ndarray:
        """A score per triple (higher: more plausible); comparable within one model."""
        by_query: dict[tuple[str, str], np.ndarray] = {}
        out = np.empty(len(triples), dtype=np.float32)
        for i, (head, relation, tail) in enumerate(triples):
            if (head, relation) not in by_query:
                by_query[(head, relation)] = self.tail_scores(head, relation)
            out[i] = by_query[(head, relation)][self.entity_ids[tail]]
        return out

    def mrr(self, held_out: Sequence[Triple], known: set[Triple]) -> float:
        """Filtered mean reciprocal rank of each held-out fact's tail among all entities."""
        ranks = []
        for head, relation, tail in held_out:
            scores = self.tail_scores(head, relation)
            target = scores[self.entity_ids[tail]]
            if not np.isfinite(target):
                ranks.append(0.0)
                continue
            # ties count against the fact (a collapsed model that scores everything alike ranks it last)
            better = scores >= target
            for name, index in self.entity_ids.items():
                if better[index] and (head, relation, name) in known:
                    better[index] = False
            ranks.append(1.0 / (1 + int(better.sum())))
        return float(np.mean(ranks)) if ranks else 0.0


class StructureCancelled(Exception):
    """The curator cancelled the retrain while the structural model trained."""


def train_structure(entity_names: Sequence[str], relation_names: Sequence[str], facts: Sequence[Triple],
                    held_out: Sequence[Triple], config: StructureConfig,
                    progress: Optional[Callable[[str], None]] = None, cancel: Optional[Callable[[], bool]] = None
                    ) -> tuple[StructuralModel, StructureReport]:
    """Each interaction trained on `facts`; the one whose held-out facts rank best is kept."""
    if not config.interactions:
        raise ValueError("no interaction to train")
    started = time.perf_counter()
    known = set(facts) | set(held_out)
    chosen: Optional[StructuralModel] = None
    report = StructureReport(interaction="")
    for interaction in config.interactions:
        if progress is not None:
            progress(f"training the structural model: {interaction}")
        model = StructuralModel(entity_names, relation_names, facts, interaction, config)
        model.fit(cancel)
        report.mrr[interaction] = round(model.mrr(list(held_out)[: config.selection_facts], known), 4)
        if chosen is None or report.mrr[interaction] > report.mrr[chosen.interaction]:
            chosen = model
    report.interaction, report.seconds = chosen.interaction, round(time.perf_counter() - started, 1)
    return chosen, report
