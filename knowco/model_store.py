"""Where checkpoints live and the active model, loaded once per process (the app and the worker share this)."""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from sqlalchemy.engine import make_url

from knowco.settings import MODEL_DIR_ENV, settings

if TYPE_CHECKING:  # the loaders import torch and PyKEEN when a model is first loaded, not when jobs are listed
    from engine.queue.combiner import Combiner
    from engine.structure import PykeenModel

_lock = threading.Lock()
_loaded: dict[str, object] = {}
_opinions: dict[tuple, tuple] = {}


def model_dir(database_url: str) -> Path:
    """The configured folder (`$KNOWCO_MODEL_DIR`), else `<db file>.models/` beside a SQLite file, else
    `./knowco-models`."""
    configured = settings().model_dir
    if configured is not None:
        return configured
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        return path.with_name(path.name + ".models")
    return Path("knowco-models")


def checkpoint_folder(database_url: str, recorded: str) -> Path:
    """Where a version's checkpoint is on this host: a version records its folder relative to the model store
    (its name), so the app and a retrain worker on another host find it wherever each mounts the shared store;
    an absolute path (a version from before) is kept as it is."""
    return model_dir(database_url) / recorded


def recorded_path(database_url: str, folder: Path) -> str:
    """What a version records of its checkpoint folder: relative to the model store where it is inside it."""
    try:
        return str(folder.relative_to(model_dir(database_url)))
    except ValueError:
        return str(folder)


def writable_store(database_url: str) -> Optional[str]:
    """None when this process can write checkpoints to the model store; else the sentence that says why not
    (a retrain worker on another host whose shared folder is not mounted)."""
    folder = model_dir(database_url)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        return (f"this worker cannot write checkpoints to the model store {folder.resolve()} "
                f"({error.strerror or error}); point {MODEL_DIR_ENV} at a folder the app's host reads too")
    return None


def load_model(checkpoint_path: str, device: Optional[str] = None):
    """The model in `checkpoint_path`, read from disk the first time only."""
    from engine.checkpoint import load_checkpoint

    with _lock:
        if checkpoint_path not in _loaded:
            _loaded.clear()
            _loaded[checkpoint_path] = load_checkpoint(checkpoint_path, device)
        return _loaded[checkpoint_path]


def load_opinions(checkpoint_path: str) -> tuple[Optional["PykeenModel"], Optional["Combiner"]]:
    """The structural model and the combiner a retrain saved beside its prompt model (None for a checkpoint
    from before them, or a run that had too few facts for either)."""
    from engine.checkpoint import read_opinions

    with _lock:
        key = ("opinions", checkpoint_path)
        if key not in _opinions:
            _opinions.clear()
            _opinions[key] = read_opinions(Path(checkpoint_path))
        return _opinions[key]
