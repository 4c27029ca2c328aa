"""Checkpoints: a folder with the weights (safetensors), the tokenizer, and `knowco.json` (backbone, classes,
prompt rows, configuration, metrics); where the retrain trained them, the structural model (`structure/`) and
the combiner of opinions (`combiner.json`). Written to a temporary folder and renamed into place, so a reader
sees a whole checkpoint or none.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional, Union

from safetensors.torch import load_model, save_model

from engine.backbones import load_backbone
from engine.base import Classifier
from engine.queue.combiner import Combiner
from engine.config import TrainConfig
from engine.methods import classifier_class
from engine.structure import PykeenModel
from engine.types import RelationSpec

FORMAT_VERSION = 1
META = "knowco.json"
WEIGHTS = "model.safetensors"
STRUCTURE = "structure"
COMBINER = "combiner.json"


class CheckpointError(Exception):
    """A checkpoint folder that is missing, incomplete or from an incompatible version."""


def save_checkpoint(model: Classifier, path: Union[str, Path], metrics: dict | None = None,
                    structure: Optional[PykeenModel] = None, combiner: Optional[Combiner] = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        save_model(model.module, str(staging / WEIGHTS))
        model.backbone.tokenizer.save_pretrained(staging)
        meta = {
            "format": FORMAT_VERSION,
            "kind": model.kind,
            "backbone": model.backbone.name,
            "classes": [[spec.name, spec.words] for spec in model.classes],
            "config": model.config.as_dict(),
            "metrics": metrics or {},
            "temperature": model.temperature,
            **model.checkpoint_meta(),
        }
        (staging / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if structure is not None:
            structure.save(staging / STRUCTURE)
        if combiner is not None:
            (staging / COMBINER).write_text(json.dumps(combiner.as_dict()), encoding="utf-8")
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def read_meta(path: Union[str, Path]) -> dict:
    meta_file = Path(path) / META
    if not meta_file.is_file() or not (Path(path) / WEIGHTS).is_file():
        raise CheckpointError(f"{path} is not a KnowCo checkpoint (no {META} and {WEIGHTS})")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {meta.get('format')} is not {FORMAT_VERSION}")
    return meta


def load_checkpoint(path: Union[str, Path], device: str | None = None) -> Classifier:
    """Rebuild the model exactly as saved: same backbone, prompt rows and weights, so it gives the same scores."""
    meta = read_meta(path)
    try:
        config = TrainConfig.from_dict({**meta["config"], "device": device})
        model_class = classifier_class(meta["kind"])
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    backbone = load_backbone(meta["backbone"])
    classes = [RelationSpec(name, words) for name, words in meta["classes"]]
    try:
        model = model_class.restore(backbone, classes, config, meta)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    load_model(model.module, str(Path(path) / WEIGHTS), device=str(model.device))
    model.temperature = float(meta.get("temperature", 1.0))
    model.module.eval()
    return model


def read_opinions(path: Union[str, Path]) -> tuple[Optional[PykeenModel], Optional[Combiner]]:
    """The structural model and the combiner saved with a checkpoint, each None where it has none."""
    path = Path(path)
    structure = PykeenModel.load(path / STRUCTURE)
    combiner_file = path / COMBINER
    if not combiner_file.is_file() or (structure is None and (path / STRUCTURE).is_dir()):
        return structure, None  # a combiner without the structural model it was fitted with would misjudge
    return structure, Combiner.from_dict(json.loads(combiner_file.read_text(encoding="utf-8")))
