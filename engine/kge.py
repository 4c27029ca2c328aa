"""The knowledge-graph-embedding baselines, from PyKEEN (the field's library): TransE and RotatE trained on the
same few-shot triples, ranked by the same code as the prompt model (`engine.link_prediction.rank_evaluation`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

Triple = tuple[str, str, str]
KGE_METHODS = ("transe", "rotate")


@dataclass
class KgeConfig:
    embedding_dim: int = 64
    epochs: int = 300
    lr: float = 0.01
    batch_size: int = 64
    negatives_per_positive: int = 8
    seed: int = 42


class KgeModel:
    def __init__(self, method: str, entity_names: Sequence[str], relation_names: Sequence[str],
                 train_triples: Sequence[Triple], config: KgeConfig) -> None:
        from pykeen.models import RotatE, TransE
        from pykeen.triples import TriplesFactory

        if method not in KGE_METHODS:
            raise ValueError(f"unknown KGE method {method!r} (expected one of {', '.join(KGE_METHODS)})")
        self.entity_ids = {name: i for i, name in enumerate(entity_names)}
        self.relation_ids = {name: i for i, name in enumerate(relation_names)}
        self.factory = TriplesFactory.from_labeled_triples(
            np.array(train_triples, dtype=str), entity_to_id=self.entity_ids, relation_to_id=self.relation_ids)
        model_class = {"transe": TransE, "rotate": RotatE}[method]
        torch.manual_seed(config.seed)
        self.model = model_class(triples_factory=self.factory, embedding_dim=config.embedding_dim,
                                 random_seed=config.seed)
        self.config = config

    def fit(self) -> float:
        from pykeen.training import SLCWATrainingLoop

        started = time.perf_counter()
        loop = SLCWATrainingLoop(model=self.model, triples_factory=self.factory, optimizer="adam",
                                 optimizer_kwargs={"lr": self.config.lr},
                                 negative_sampler_kwargs={"num_negs_per_pos": self.config.negatives_per_positive})
        loop.train(triples_factory=self.factory, num_epochs=self.config.epochs, batch_size=self.config.batch_size,
                   use_tqdm=False)
        self.model.eval()
        return time.perf_counter() - started

    @torch.inference_mode()
    def score_tails(self, head: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.model.score_t(torch.tensor([[self.entity_ids[head], self.relation_ids[relation]]]))[0]
        return scores[[self.entity_ids[n] for n in names]].tolist()

    @torch.inference_mode()
    def score_heads(self, tail: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.model.score_h(torch.tensor([[self.relation_ids[relation], self.entity_ids[tail]]]))[0]
        return scores[[self.entity_ids[n] for n in names]].tolist()
