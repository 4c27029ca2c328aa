"""What every page shares: the database (opened once per process) and the curator's name (once per session)."""
from __future__ import annotations

import streamlit as st

from knowco.services import Database, default_user, open_database
from knowco.settings import database_setting

CURATOR_KEY = "curator"
ACCOUNT_KEY = "account"


@st.cache_resource(show_spinner=False)
def _open(url: str | None) -> Database:
    return open_database(url)


def database() -> Database:
    """The process's connection pool for the configured database (keyed by URL, so a test that points the
    app at a new file never gets the previous one)."""
    return _open(database_setting())


def curator() -> str:
    """The name recorded on every action: the signed-in account's, or (on localhost) the one set in the
    sidebar, defaulting to the OS account."""
    account = st.session_state.get(ACCOUNT_KEY)
    if account is not None:
        return account.name
    name = " ".join(str(st.session_state.get(CURATOR_KEY) or "").split())
    return name[:128] or default_user()


def is_admin() -> bool:
    """May import, delete labels, train and manage models: anyone on localhost, admins when signed in."""
    account = st.session_state.get(ACCOUNT_KEY)
    return account is None or account.is_admin
