"""Every setting that comes from outside the code, in one object: command-line flags win, then the
environment (`KNOWCO_*`, which is also how `run_app.py` hands its flags to the Streamlit process and the app
hands the database to the worker), then the defaults. This is the only module that reads the environment.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Mapping, Optional

from knowco.errors import OptionsError

DATABASE_ENV = "KNOWCO_DATABASE_URL"
MODEL_ENV = "KNOWCO_MODEL"
MODEL_DIR_ENV = "KNOWCO_MODEL_DIR"
ACCOUNTS_ENV = "KNOWCO_ACCOUNTS"
USER_ENV = "KNOWCO_USER"
THREADS_ENV = "KNOWCO_THREADS"
WORKER_TIMEOUT_ENV = "KNOWCO_WORKER_TIMEOUT_S"
#: set by run_app.py when the app is served beyond localhost: every session must log in
LOGIN_ENV = "KNOWCO_REQUIRE_LOGIN"
#: set by `serve-api`: the re-rank a verdict triggers runs beside the request, not inside it
BACKGROUND_RERANK_ENV = "KNOWCO_RERANK_IN_BACKGROUND"
#: "local" (a worker process on the app's host per run) or "queue" (PostgreSQL only: queued for
#: `python -m knowco worker` processes on any host that reaches the database)
RETRAIN_WORKERS_ENV = "KNOWCO_RETRAIN_WORKERS"
WORKER_MODES = ("local", "queue")
EXAMPLES_PER_RELATION = 8


@dataclass(frozen=True)
class Settings:
    #: a path or URL; None: `./knowco.sqlite`
    database: Optional[str] = None
    #: the backbone new training runs use (`run_app.py --model`); None: the offline default
    model: Optional[str] = None
    #: where checkpoints go; None: beside the SQLite file, or `./knowco-models`
    model_dir: Optional[Path] = None
    accounts: Path = Path.home() / ".config" / "knowco" / "accounts.json"
    #: the name recorded on writes when none is given
    user: Optional[str] = None
    threads: Optional[int] = None
    #: a running job whose worker has not written for this long is reported as lost
    worker_timeout: timedelta = timedelta(seconds=120)
    require_login: bool = False
    #: the every-few-verdicts re-rank runs in a background thread (the API's requests stay quick); else inside
    #: the verdict's call, so the page that made it shows the new order at once
    rerank_in_background: bool = False
    #: who runs a retrain: a process the app starts ("local") or a worker that claims it from the queue
    retrain_workers: str = "local"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        defaults = cls()
        return cls(
            database=environ.get(DATABASE_ENV) or None,
            model=environ.get(MODEL_ENV) or None,
            model_dir=Path(environ[MODEL_DIR_ENV]) if environ.get(MODEL_DIR_ENV) else None,
            accounts=Path(environ[ACCOUNTS_ENV]) if environ.get(ACCOUNTS_ENV) else defaults.accounts,
            user=" ".join(environ.get(USER_ENV, "").split()) or None,
            threads=int(_number(environ, THREADS_ENV, 0)) or None,
            worker_timeout=timedelta(seconds=_number(environ, WORKER_TIMEOUT_ENV, 120)),
            require_login=environ.get(LOGIN_ENV) == "1",
            rerank_in_background=environ.get(BACKGROUND_RERANK_ENV) == "1",
            retrain_workers=_mode(environ),
        )

    def with_flags(self, **flags) -> "Settings":
        """These settings with the command-line flags that were given (None: not given)."""
        return replace(self, **{k: v for k, v in flags.items() if v is not None})

    def as_environment(self) -> dict[str, str]:
        """The variables that hand these settings to another process (the Streamlit app, the worker)."""
        values = {DATABASE_ENV: self.database, MODEL_ENV: self.model, USER_ENV: self.user,
                  MODEL_DIR_ENV: str(self.model_dir) if self.model_dir else None,
                  LOGIN_ENV: "1" if self.require_login else None,
                  RETRAIN_WORKERS_ENV: self.retrain_workers if self.retrain_workers != "local" else None}
        return {k: v for k, v in values.items() if v is not None}

    def default_user(self) -> str:
        """Who is acting when nobody said: `$KNOWCO_USER`, else the operating-system account."""
        if self.user:
            return self.user
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


def _mode(environ: Mapping[str, str]) -> str:
    text = environ.get(RETRAIN_WORKERS_ENV, "").strip().lower() or "local"
    if text not in WORKER_MODES:
        raise OptionsError(f"{RETRAIN_WORKERS_ENV} must be one of {', '.join(WORKER_MODES)}, not {text!r}")
    return text


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise OptionsError(f"{name} must be a number, not {text!r}") from None
    if value < 0:
        raise OptionsError(f"{name} cannot be negative")
    return value


def settings() -> Settings:
    """The settings of this process (read from the environment at each call, so a test or the launcher that
    changes it is seen)."""
    return Settings.from_environment()
