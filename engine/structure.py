"""The structural second opinion: a knowledge-graph-embedding model (PyKEEN, the field's library) trained on
the accepted facts, its interaction chosen on held-out facts rather than by hand. It reads no text, so it knows
what the prompt model cannot: which entities keep company in the graph. The link-prediction benchmark uses the
same class for its TransE and RotatE baselines.
"""
from __future__ import annotations

import gc
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from safetensors.torch import load_file, save_file

Triple = tuple[str, str, str]
#: the interactions the link-prediction benchmark compares with the prompt model
KGE_METHODS = ("transe", "rotate")
#: a relation with fewer facts than this is compared with every relation's facts (too few of its own)
MIN_OWN_FACTS = 5
QUANTILES = np.linspace(0.0, 1.0, 101)
#: interactions whose every-tail scores are one matrix product (`PykeenModel.tail_matrix`)
def _complex_dot(turned: torch.Tensor, entities: torch.Tensor) -> torch.Tensor:
    """Re(<turned, conj(t)>) for every entity t, in real arithmetic."""
    return turned.real @ entities.real.T + turned.imag @ entities.imag.T


def _rotate(turned: torch.Tensor, entities: torch.Tensor) -> torch.Tensor:
    """-|turned - t| = -sqrt(|turned|^2 + |t|^2 - 2 Re<turned, conj(t)>) for every entity t."""
    squared = ((turned.real ** 2 + turned.imag ** 2).sum(-1, keepdim=True)
               + (entities.real ** 2 + entities.imag ** 2).sum(-1) - 2 * _complex_dot(turned, entities))
    return -squared.clamp_min(0.0).sqrt()


#: the interactions scored as one matrix product (or one `cdist`) of the heads, scaled, rotated or moved by the
#: relation, with every entity, each its own scorer: PyKEEN's broadcast `score_t` is the fallback for the others.
#: TransE is PyKEEN's default, -‖h + r − t‖₁.
MATRIX_SCORERS = {"distmult": lambda turned, entities: turned @ entities.T, "complex": _complex_dot,
                  "rotate": _rotate, "transe": lambda moved, entities: -torch.cdist(moved, entities, p=1)}
MATRIX_INTERACTIONS = tuple(MATRIX_SCORERS)
#: how an interaction applies the relation to the heads before scoring them against every entity
ADDITIVE = ("transe",)
META = "structure.json"
WEIGHTS = "structure.safetensors"


@dataclass
class StructureConfig:
    interactions: tuple[str, ...] = ("rotate", "complex", "distmult")
    embedding_dim: int = 64
    #: sizes tried with each interaction by `train_structure` (empty: `embedding_dim` only)
    dims: tuple[int, ...] = ()
    epochs: int = 100
    batch_size: int = 256
    lr: float = 0.01
    negatives_per_positive: int = 8
    seed: int = 42
    #: held-out facts ranked to choose the interaction (at most)
    selection_facts: int = 200
    #: batches per interaction at most: a big KG trains fewer epochs (in bigger batches) instead of for hours
    max_batches: int = 3000
    #: early stopping (0: off): every `check_every` epochs the held-out facts are ranked, and training stops
    #: after `patience` checks without a better filtered MRR, keeping the best weights
    patience: int = 0
    check_every: int = 10
    #: held-out facts needed before they stop training early (fewer rank too coarsely to tell epochs apart)
    min_stopping_facts: int = 20

    def schedule(self, facts: int) -> tuple[int, int]:
        """(epochs, batch size) for a KG of `facts` facts within `max_batches`."""
        batch_size = max(self.batch_size, -(-facts * self.epochs // (self.max_batches * 4)))
        per_epoch = max(1, -(-facts // batch_size))
        return max(1, min(self.epochs, self.max_batches // per_epoch)), batch_size


@dataclass
class StructureReport:
    interaction: str
    embedding_dim: int = 0
    #: filtered mean reciprocal rank of held-out facts' tails, per interaction and size tried ("rotate/64")
    mrr: dict[str, float] = field(default_factory=dict)
    #: where early stopping ended each try ({"epochs", "best_epoch", "best_mrr"}; none where it was off)
    stopped: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


class PykeenModel:
    """One trained PyKEEN interaction over fixed entity and relation vocabularies: the queue's structural model
(`engine.queue.structural.StructuralModel`).

    Its raw scores mean nothing to a curator and differ in scale between relations, so `opinion` reads a score
    against two yardsticks of the relation: random pairs of entities and the facts the model was trained on.
    It is the mean of the two shares it scores above: 0.5 means above every random pair and below every fact,
    0.9 above 80 % of the facts. A small KG's facts all outscore every candidate (the model fits them closely),
    so the random pairs keep the opinion informative there.
    """

    def __init__(self, entity_names: Sequence[str], relation_names: Sequence[str], facts: Sequence[Triple],
                 interaction: str, config: StructureConfig) -> None:
        from pykeen.models import model_resolver
        from pykeen.triples import TriplesFactory

        self.entity_ids = {name: i for i, name in enumerate(entity_names)}
        self.relation_ids = {name: i for i, name in enumerate(relation_names)}
        labelled = list(facts) or [(entity_names[0], relation_names[0], entity_names[0])]
        self.factory = TriplesFactory.from_labeled_triples(
            np.array(labelled, dtype=str).reshape(-1, 3), entity_to_id=self.entity_ids,
            relation_to_id=self.relation_ids)
        torch.manual_seed(config.seed)
        self.model = model_resolver.make(interaction, triples_factory=self.factory,
                                         embedding_dim=config.embedding_dim, random_seed=config.seed)
        self.interaction, self.config = interaction, config
        #: where early stopping ended ({"epochs", "best_epoch", "best_mrr"}), or None where it was off
        self.stopped: Optional[dict] = None
        #: quantiles of the scores of the training facts ("facts": per relation, and "" for all) and of random
        #: pairs ("pairs": per relation)
        self.yardsticks: dict[str, dict[str, list[float]]] = {"facts": {}, "pairs": {}}

    def fit(self, cancel: Optional[Callable[[], bool]] = None,
            epoch_done: Optional[Callable[[int, int], None]] = None,
            stop_on: Sequence[Triple] = (), known: Optional[set[Triple]] = None) -> float:
        """Train; returns the seconds it took. With `config.patience` and held-out facts `stop_on` (`known`: the
        facts filtered out of their ranks), training stops once they rank no better, with the best weights."""
        from pykeen.training import SLCWATrainingLoop
        from pykeen.training.callbacks import TrainingCallback

        epochs, batch_size = self.config.schedule(self.factory.num_triples)
        stopping = _EarlyStopping(self, list(stop_on)[: self.config.selection_facts], known or set()) \
            if self.config.patience and stop_on else None

        class Stop(TrainingCallback):
            def post_batch(self, epoch: int, batch, **kwargs) -> None:
                if cancel is not None and cancel():
                    raise StructureCancelled("cancelled while training the structural model")

            def post_epoch(self, epoch: int, epoch_loss: float, **kwargs) -> None:
                if epoch_done is not None:
                    epoch_done(epoch, epochs)
                if stopping is not None and stopping.should_stop(epoch):
                    self.training_loop._should_stop = True  # PyKEEN's own stopper callback stops it so

        started = time.perf_counter()
        loop = SLCWATrainingLoop(model=self.model, triples_factory=self.factory, optimizer="adam",
                                 optimizer_kwargs={"lr": self.config.lr},
                                 negative_sampler_kwargs={"num_negs_per_pos": self.config.negatives_per_positive})
        # PyKEEN runs a full garbage collection after every epoch; in a process that has loaded transformers
        # that is 0.3 s each, 95 % of a small KG's training. Frozen objects are skipped by the collector.
        gc.freeze()
        try:
            loop.train(triples_factory=self.factory, num_epochs=epochs, batch_size=batch_size,
                       use_tqdm=False, callbacks=[Stop()])
        finally:
            gc.unfreeze()
        if stopping is not None:
            stopping.restore_best()
            self.stopped = stopping.summary()
        self.model.eval()
        self._measure_facts()
        return time.perf_counter() - started

    def _measure_facts(self, pairs_per_relation: int = 1000) -> None:
        triples = [tuple(t) for t in self.factory.label_triples(self.factory.mapped_triples)]
        scores = self.score(triples)
        by_relation: dict[str, list[float]] = {}
        for (_, relation, _), score in zip(triples, scores.tolist()):
            by_relation.setdefault(relation, []).append(score)
        facts = {"": np.quantile(scores, QUANTILES).tolist()} if len(scores) else {}
        facts.update({relation: np.quantile(own, QUANTILES).tolist() for relation, own in by_relation.items()
                      if len(own) >= MIN_OWN_FACTS})
        rng = np.random.default_rng(self.config.seed)
        names = list(self.entity_ids)
        pairs = {}
        for relation in self.relation_ids:
            heads = rng.integers(0, len(names), pairs_per_relation)
            tails = rng.integers(0, len(names), pairs_per_relation)
            random_scores = self.score([(names[h], relation, names[t]) for h, t in zip(heads, tails)])
            pairs[relation] = np.quantile(random_scores, QUANTILES).tolist()
        self.yardsticks = {"facts": facts, "pairs": pairs}

    def knows(self, entity: str) -> bool:
        return entity in self.entity_ids

    @torch.inference_mode()
    def tail_matrix(self, heads: Sequence[str], relation: str) -> np.ndarray:
        """Scores of every entity (columns, `entity_ids` order) as the tail of each head (rows).

        DistMult, ComplEx and RotatE are scored as one matrix product of the heads (rotated or scaled by the
        relation) with every entity: PyKEEN's `score_t` builds a heads × entities × dimensions tensor, which on
        WN18RR's 40,943 entities allows 6 heads per 256 MB and took minutes per relation."""
        rows = torch.tensor([self.entity_ids[h] for h in heads], dtype=torch.long)
        if self.interaction in MATRIX_INTERACTIONS:
            return self._matrix_scores(rows, self.relation_ids[relation]).numpy()
        query = torch.stack([rows, torch.full_like(rows, self.relation_ids[relation])], dim=1).reshape(-1, 2)
        return self.model.score_t(query).numpy()

    def bytes_per_head(self) -> int:
        """Memory one head's row of `tail_matrix` takes while it is computed: a few float32 per entity for a
        matrix product, an entities × dimensions slice of PyKEEN's broadcast tensor (with room for an
        intermediate) otherwise."""
        entities = len(self.entity_ids)
        if self.interaction in MATRIX_INTERACTIONS:
            return entities * 16
        return entities * self.config.embedding_dim * 16

    def _matrix_scores(self, rows: torch.Tensor, relation: int) -> torch.Tensor:
        entities = self.model.entity_representations[0](indices=None)
        by = self.model.relation_representations[0](indices=None)[relation]
        turned = entities[rows] + by if self.interaction in ADDITIVE else entities[rows] * by
        return MATRIX_SCORERS[self.interaction](turned, entities)

    def tail_scores(self, head: str, relation: str) -> np.ndarray:
        """Scores of every entity as the tail of (head, relation), in `entity_ids` order."""
        return self.tail_matrix([head], relation)[0]

    def score_tails(self, head: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.tail_scores(head, relation)
        return scores[[self.entity_ids[n] for n in names]].tolist()

    @torch.inference_mode()
    def score_heads(self, tail: str, relation: str, names: Sequence[str]) -> list[float]:
        scores = self.model.score_h(torch.tensor([[self.relation_ids[relation], self.entity_ids[tail]]]))[0].numpy()
        return scores[[self.entity_ids[n] for n in names]].tolist()

    @torch.inference_mode()
    def score(self, triples: Sequence[Triple]) -> np.ndarray:
        """A score per triple (higher: more plausible); comparable within one relation of one model."""
        if not triples:
            return np.empty(0, dtype=np.float32)
        ids = torch.tensor([[self.entity_ids[h], self.relation_ids[r], self.entity_ids[t]] for h, r, t in triples])
        return self.model.score_hrt(ids).reshape(-1).numpy()

    def opinion(self, triples: Sequence[Triple]) -> np.ndarray:
        """Per triple, 0..1: the mean of the shares of the relation's random pairs and of its training facts
        that it scores above; NaN where the model does not know an entity or the relation (added after
        training)."""
        out = np.full(len(triples), np.nan)
        usable = [i for i, (h, r, t) in enumerate(triples)
                  if h in self.entity_ids and t in self.entity_ids and r in self.relation_ids]
        scores = self.score([triples[i] for i in usable])
        facts, pairs = self.yardsticks["facts"], self.yardsticks["pairs"]
        for i, score in zip(usable, scores.tolist()):
            relation = triples[i][1]
            fact_quantiles = facts.get(relation) or facts.get("")
            if fact_quantiles and relation in pairs:
                out[i] = 0.5 * (np.interp(score, pairs[relation], QUANTILES, left=0.0, right=1.0)
                                + np.interp(score, fact_quantiles, QUANTILES, left=0.0, right=1.0))
        return out

    def mrr(self, held_out: Sequence[Triple], known: set[Triple]) -> float:
        """Filtered mean reciprocal rank of each held-out fact's tail among all entities."""
        known_tails: dict[tuple[str, str], list[int]] = {}
        for head, relation, tail in known:
            if tail in self.entity_ids:
                known_tails.setdefault((head, relation), []).append(self.entity_ids[tail])
        ranks = []
        for head, relation, tail in held_out:
            scores = self.tail_scores(head, relation)
            target = scores[self.entity_ids[tail]]
            if not np.isfinite(target):
                ranks.append(0.0)
                continue
            # ties count against the fact (a collapsed model that scores everything alike ranks it last)
            better = scores >= target
            better[known_tails.get((head, relation), [])] = False
            ranks.append(1.0 / (1 + int(better.sum())))
        return float(np.mean(ranks)) if ranks else 0.0

    def save(self, folder: Path) -> None:
        """Weights (safetensors) and what rebuilds the model (`structure.json`) into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().contiguous() for k, v in self.model.state_dict().items()}, str(folder / WEIGHTS))
        meta = {"interaction": self.interaction, "config": {**asdict(self.config),
                                                            "interactions": list(self.config.interactions),
                                                            "dims": list(self.config.dims)},
                "entities": list(self.entity_ids), "relations": list(self.relation_ids),
                "yardsticks": self.yardsticks}
        (folder / META).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Optional["PykeenModel"]:
        """The model saved in `folder`; None where there is none (a checkpoint from before structural models)."""
        if not (folder / META).is_file():
            return None
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if "yardsticks" not in meta:  # saved before opinions were read against random pairs too
            return None
        config = StructureConfig(**{**meta["config"], "interactions": tuple(meta["config"]["interactions"]),
                                    "dims": tuple(meta["config"].get("dims", ()))})
        model = cls(meta["entities"], meta["relations"], [], meta["interaction"], config)
        model.model.load_state_dict(load_file(str(folder / WEIGHTS)))
        model.model.eval()
        model.yardsticks = meta["yardsticks"]
        return model


class StructureCancelled(Exception):
    """The curator cancelled the retrain while the structural model trained."""


class _EarlyStopping:
    """The best weights so far by the held-out facts' filtered MRR, checked every `check_every` epochs."""

    def __init__(self, model: "PykeenModel", held_out: list[Triple], known: set[Triple]) -> None:
        self.model, self.held_out, self.known = model, held_out, known | set(held_out)
        self.best_mrr, self.best_epoch, self.checks_since, self.epoch = -1.0, 0, 0, 0
        self.best_state: Optional[dict] = None

    def should_stop(self, epoch: int) -> bool:
        self.epoch = epoch
        if epoch % self.model.config.check_every:
            return False
        self.model.model.eval()
        mrr = self.model.mrr(self.held_out, self.known)
        self.model.model.train()
        if mrr > self.best_mrr:
            self.best_mrr, self.best_epoch, self.checks_since = mrr, epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.model.state_dict().items()}
            return False
        self.checks_since += 1
        return self.checks_since >= self.model.config.patience

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.model.model.load_state_dict(self.best_state)

    def summary(self) -> dict:
        return {"epochs": self.epoch, "best_epoch": self.best_epoch, "best_mrr": round(self.best_mrr, 4)}


def train_structure(entity_names: Sequence[str], relation_names: Sequence[str], facts: Sequence[Triple],
                    held_out: Sequence[Triple], config: StructureConfig,
                    progress: Optional[Callable[[str, float], None]] = None,
                    cancel: Optional[Callable[[], bool]] = None) -> tuple[PykeenModel, StructureReport]:
    """Each interaction at each size trained on `facts` (stopped early where `config.patience` is set and the
    held-out facts are enough); the one whose held-out facts rank best is kept. `progress` hears a message and
    the share (0..1) of the whole done."""
    if not config.interactions:
        raise ValueError("no interaction to train")
    started = time.perf_counter()
    known = set(facts) | set(held_out)
    chosen: Optional[PykeenModel] = None
    report = StructureReport(interaction="")
    tries = [(interaction, dim) for interaction in config.interactions for dim in (config.dims or (config.embedding_dim,))]
    stop_on = list(held_out) if len(held_out) >= config.min_stopping_facts else []
    for i, (interaction, dim) in enumerate(tries):
        def epoch_done(epoch: int, epochs: int, i=i, name=f"{interaction}/{dim}") -> None:
            if progress is not None:
                progress(f"structural model {name} ({i + 1} of {len(tries)}): epoch {epoch} of {epochs}",
                         (i + epoch / epochs) / len(tries))

        model = PykeenModel(entity_names, relation_names, facts, interaction, replace(config, embedding_dim=dim))
        model.fit(cancel, epoch_done, stop_on=stop_on, known=known)
        report.mrr[f"{interaction}/{dim}"] = round(model.mrr(list(held_out)[: config.selection_facts], known), 4)
        if model.stopped is not None:
            report.stopped[f"{interaction}/{dim}"] = model.stopped
        if chosen is None or report.mrr[f"{interaction}/{dim}"] > report.mrr[_key(chosen)]:
            chosen = model
    report.interaction, report.embedding_dim = chosen.interaction, chosen.config.embedding_dim
    report.seconds = round(time.perf_counter() - started, 1)
    return chosen, report


def _key(model: PykeenModel) -> str:
    return f"{model.interaction}/{model.config.embedding_dim}"
