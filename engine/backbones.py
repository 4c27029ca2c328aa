"""Backbones: any Hugging Face masked LM by name or path, plus offline presets for the packaged models.

Nothing is fetched at run time: presets resolve to folders inside installed packages, and every load runs
with `local_files_only` unless the caller allows downloads.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Optional

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from engine.presets import DEFAULT_BACKBONE, PRESETS, BackboneError

__all__ = ["DEFAULT_BACKBONE", "PRESETS", "BackboneError", "Backbone", "load_backbone", "pick_device", "resolve",
           "set_cpu_threads"]


def resolve(name_or_path: str) -> str:
    """A preset name → its folder; anything else is passed to transformers as a hub name or path."""
    if name_or_path in PRESETS:
        path = PRESETS[name_or_path]()
        if not path.is_dir():
            raise BackboneError(f"preset {name_or_path!r}: model folder {path} is missing")
        return str(path)
    return name_or_path


def pick_device(device: str | None = None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def threads_for_load(cores: int, load: float) -> int:
    """One thread per core that the machine's load leaves free, at least one. On a 2-core machine with another
    process keeping one core busy, two threads took ten times as long as one: each step waits for the thread
    that shares a core."""
    return max(1, min(cores, int(cores - load + 0.5)))


def busy_cores(cores: int, window_s: float = 0.5) -> float:
    """How many cores other processes keep busy now: the machine's busy share over a short window in which this
    process waits (Linux's /proc/stat; elsewhere the one-minute load average, which counts this process too)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values) - idle, sum(values)

    try:
        busy0, total0 = sample()
        time.sleep(window_s)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return cores * (busy1 - busy0) / max(1, total1 - total0)


def set_cpu_threads(count: Optional[int] = None) -> int:
    """On the CPU, `count` intra-op threads (default: the cores the machine's current load leaves free, so a
    retrain on a busy machine does not fight for the cores); returns the number set.

    PyTorch's default can exceed the cores a container really has; oversubscribed threads slow small models.
    """
    if count is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        count = threads_for_load(cores, busy_cores(cores))
    count = max(1, count)
    if not torch.cuda.is_available():
        torch.set_num_threads(count)
    return count


@dataclass
class Backbone:
    name: str
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel


def load_backbone(name_or_path: str, *, allow_download: bool = False) -> Backbone:
    path = resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=not allow_download)
        model = AutoModelForMaskedLM.from_pretrained(path, local_files_only=not allow_download)
    except (OSError, ValueError) as exc:
        raise BackboneError(
            f"cannot load masked LM {name_or_path!r} offline: {' '.join(str(exc).split())[:300]}"
        ) from exc
    model.float()
    if tokenizer.mask_token is None:
        raise BackboneError(f"{name_or_path!r} has no [MASK] token: a masked language model is needed")
    return Backbone(name=name_or_path, tokenizer=tokenizer, model=model)
