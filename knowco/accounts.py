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
from pathlib import Path
from typing import Optional

import bcrypt

from knowco.access import ROLES, Actor
from knowco.errors import CuratorError
from knowco.settings import settings

_NAME = re.compile(r"^[\w.@-]{1,64}$")


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
    path = path or accounts_path()
    users = _read(path)
    users[name] = {"role": role, "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=".accounts.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"users": users}, out, indent=2)
    os.chmod(staging, 0o600)
    os.replace(staging, path)


def authenticate(name: str, password: str, path: Optional[Path] = None) -> Optional[Actor]:
    """The account when the password matches; None otherwise (same answer for an unknown name)."""
    user = _read(path or accounts_path()).get(name)
    if user is None:
        bcrypt.checkpw(b"x", bcrypt.hashpw(b"y", bcrypt.gensalt(4)))  # similar time for unknown names
        return None
    if bcrypt.checkpw(password.encode(), user["password_hash"].encode()):
        return Actor(name, user["role"])
    return None
