"""The resolver: a method's or checkpoint's name → its classifier class, read from the classes themselves
(their `kind`), so the benchmarks, the checkpoints and the command line never keep a copy of the names."""
from __future__ import annotations

from engine.base import Classifier
from engine.classifier import PromptClassifier
from engine.finetune import FineTuneClassifier

CLASSIFIERS: dict[str, type[Classifier]] = {cls.kind: cls for cls in (PromptClassifier, FineTuneClassifier)}


def classifier_class(kind: str) -> type[Classifier]:
    try:
        return CLASSIFIERS[kind]
    except KeyError:
        raise ValueError(f"unknown method {kind!r} (expected one of {', '.join(CLASSIFIERS)})") from None
