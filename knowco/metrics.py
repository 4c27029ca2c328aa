"""What a finished run measured, as one typed record: stored as JSON on its `model_version` row, read back by the
Train and Overview pages (`metrics_of`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from engine.calibration import MIN_CALIBRATION_ITEMS
from knowco.plain_words import quality_words
from storage.runs import Run

#: below this many held-out items, accuracy and F1 move by 5 points or more with one item: shown with a warning
MIN_TRUSTED_ITEMS = 20


@dataclass(frozen=True)
class RunMetrics:
    #: items held out of training to measure quality (0: too few to hold any out)
    held_out: int = 0
    #: what they are: "labels", "facts" (a KG without enough labels) or "none"
    held_out_source: str = "labels"
    accuracy: Optional[float] = None
    micro_f1: Optional[float] = None
    temperature: Optional[float] = None
    ece_before: Optional[float] = None
    ece_after: Optional[float] = None
    reliability_before: list = field(default_factory=list)
    reliability_after: list = field(default_factory=list)
    #: precision, recall, F1 and support of each relation on the held-out items
    per_relation: list = field(default_factory=list)
    #: labelled items (and their reversals and negatives) trained on in every epoch
    train_items: int = 0
    #: facts from the KG and their negatives, sampled per epoch
    kg_items: int = 0
    #: corpus sentences that mention an accepted fact's entities (and their reversals), sampled per epoch
    fact_sentences: int = 0
    train_seconds: Optional[float] = None
    best_stage: str = ""
    #: the suggest pass that ended the run (SuggestReport as a dict)
    suggestions: dict = field(default_factory=dict)
    #: the structural model: interaction chosen, held-out MRR of each tried, seconds (empty: none trained)
    structure: dict = field(default_factory=dict)
    #: the head that predicts and how it was chosen (engine.heads.HeadChoice as a dict; empty: older runs)
    head: dict = field(default_factory=dict)
    #: the combiner of opinions (engine.queue.combiner.CombinerReport as a dict; empty: none fitted)
    combiner: dict = field(default_factory=dict)
    #: the accepted facts no model of this version trained on (head, relation, tail): a later version is
    #: compared with this one on those both held out
    held_out_facts: list = field(default_factory=list)
    #: this version against the version active when it finished, on the same held-out items
    #: (engine.comparison.Paired as a dict, with the other version's name; empty: nothing to compare)
    compared: dict = field(default_factory=dict)
    #: [share of the text model's steps done, seconds since the run started, estimated seconds left], kept at a
    #: few points so that how far the Train page's estimate was from the truth can be measured
    estimates: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "RunMetrics":
        """Read back a stored row: figures a newer or older version wrote under other names are left out, so
        one odd row never stops the Train page."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)

    def trustworthy(self) -> bool:
        """Whether enough items were held out for the figures to mean much (else the page says so)."""
        return self.held_out >= MIN_TRUSTED_ITEMS

    def calibrated(self) -> bool:
        """Whether enough items were held out to fit a temperature (else the model's own probabilities)."""
        return self.held_out >= MIN_CALIBRATION_ITEMS

    def summary(self) -> str:
        """The run's one line on the Train page and at the command line, in the curator's words (the technical
        figures are in the page's details)."""
        parts = ([quality_words(self.accuracy, self.held_out, self.held_out_source)] if self.accuracy is not None
                 else [])
        if self.suggestions:
            found = self.suggestions
            looked, possible = found.get("prefilter_scored", 0), found.get("prefilter_possible", 0)
            parts.append(f"{found['new']} new suggestions" + (
                f" from {found['candidates']:,} candidates (it looked at {looked:,} of {possible:,} possible pairs, "
                "the best-connected entities first)" if looked < possible else ""))
        return "done: " + "; ".join(parts) if parts else "done"


def metrics_of(run: Run) -> RunMetrics:
    return RunMetrics.from_dict(run.metrics)
