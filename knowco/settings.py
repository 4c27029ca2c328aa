"""Process-wide settings the launcher passes to the app through the environment."""
from __future__ import annotations

import os

DATABASE_ENV = "KNOWCO_DATABASE_URL"
MODEL_ENV = "KNOWCO_MODEL"
#: set by run_app.py when the app is served beyond localhost: every session must log in
LOGIN_ENV = "KNOWCO_REQUIRE_LOGIN"
EXAMPLES_PER_RELATION = 8


def database_setting() -> str | None:
    return os.environ.get(DATABASE_ENV)


def model_setting() -> str | None:
    """The backbone `run_app.py --model` chose for new training runs."""
    return os.environ.get(MODEL_ENV)


def login_required() -> bool:
    return os.environ.get(LOGIN_ENV) == "1"
