"""Curator accounts for an app served beyond localhost: a JSON file outside the repository (path from
`$KNOWCO_ACCOUNTS`, default `~/.config/knowco/accounts.json`) holding each name's role and bcrypt hash
(salted, slow on purpose). Roles: `curator` labels and reviews; `admin` also imports, exports, trains and
manages models.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Optional

import bcrypt

from knowco.access import ROLES, Actor
from knowco.errors import CuratorError
from knowco.settings import settings

_NAME = re.compile(r"^[\w.@-]{1,64}$")
#: bcrypt reads no more of a password (and bcrypt 5 refuses a longer one)
MAX_PASSWORD_BYTES = 72


class AccountError(CuratorError):
    """A bad name, role or password, or an unreadable accounts file."""


def accounts_path() -> Path:
    return settings().accounts


def _read(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AccountError(f"cannot read the accounts file {path}: {exc}") from exc
    return data.get("users", {})


def has_accounts(path: Optional[Path] = None) -> bool:
    return bool(_read(path or accounts_path()))


def add_account(name: str, role: str, password: str, path: Optional[Path] = None) -> None:
    """Create or replace an account; the file is rewritten atomically and readable by its owner only."""
    if not _NAME.match(name):
        raise AccountError("a name is 1 to 64 letters, digits, '.', '@', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise AccountError(f"the password may have at most {MAX_PASSWORD_BYTES} bytes (bcrypt reads no further)")
    path = path or accounts_path()
    users = _read(path)
    users[name] = {"role": role, "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=".accounts.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"users": users}, out, indent=2)
    os.chmod(staging, 0o600)
    os.replace(staging, path)


@lru_cache(maxsize=1)
def _decoy() -> bytes:
    """A hash at the accounts' own cost: an unknown name takes as long to refuse as a wrong password."""
    return bcrypt.hashpw(b"decoy", bcrypt.gensalt())


def authenticate(name: str, password: str, path: Optional[Path] = None) -> Optional[Actor]:
    """The account when the password matches; None otherwise (the same answer, in about the same time, for an
    unknown name, and for a password longer than bcrypt's 72 bytes, which no account can have)."""
    user = _read(path or accounts_path()).get(name)
    secret = password.encode()
    if user is None or len(secret) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(b"x", _decoy())
        return None
    if bcrypt.checkpw(secret, user["password_hash"].encode()):
        return Actor(name, user["role"])
    return None
