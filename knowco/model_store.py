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

#: the file in the model store that names the database it belongs to
STORE_MARK = ".knowco-store"

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
    """Where a version's checkpoint is on this host. A version records its folder's name, relative to the model
    store, so the app and a retrain worker on another host find it wherever each mounts the shared store; a
    version from before recorded the whole path (absolute, or relative to the folder the app ran in), which is
    used while it exists, and else its last part is looked for in this host's store."""
    store, path = model_dir(database_url), Path(recorded)
    candidates = [store / path, path, store / path.name]
    return next((folder for folder in candidates if folder.is_dir()), candidates[0])


def writable_store(database_url: str) -> Optional[str]:
    """None when this process can write checkpoints to the model store (created where missing: the app's own
    host); else the sentence that says why not."""
    folder = model_dir(database_url)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _unwritable(folder, error)
    return _probe(folder)


def _unwritable(folder: Path, error: OSError) -> str:
    return (f"this worker cannot write checkpoints to the model store {folder.resolve()} ({error.strerror or error}); "
            f"point {MODEL_DIR_ENV} at a folder the app's host reads too")


def _probe(folder: Path) -> Optional[str]:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            return None
    except OSError as error:
        return _unwritable(folder, error)


def mark_store(database_url: str, identity: str) -> None:
    """Leave the database's mark in the app's model store, so a worker on another host can tell the shared
    store from an empty folder where the share should have been mounted."""
    folder = model_dir(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STORE_MARK).write_text(identity, encoding="utf-8")


def shared_store_problem(database_url: str, identity: str) -> Optional[str]:
    """None when this host's model store is the one the app writes to (it holds the database's mark) and this
    process can write to it; else the sentence that says which."""
    folder = model_dir(database_url)
    try:
        mark = (folder / STORE_MARK).read_text(encoding="utf-8").strip()
    except OSError:
        mark = None
    if mark != identity:
        return (f"this worker's model store {folder.resolve()} is not the one the app writes to (it holds no mark "
                f"of this database: is the shared folder mounted there?); point {MODEL_DIR_ENV} at the folder the "
                "app's host uses")
    return _probe(folder)


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
