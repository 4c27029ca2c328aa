"""What every page shares: the database (opened once per process) and who is acting (once per session)."""
from __future__ import annotations

import streamlit as st

from knowco.services import Actor, Database, open_database, settings

CURATOR_KEY = "curator"
ACCOUNT_KEY = "account"


@st.cache_resource(show_spinner=False)
def _open(url: str | None) -> Database:
    return open_database(url)


def database() -> Database:
    """The process's connection pool for the configured database (keyed by URL, so a test that points the
    app at a new file never gets the previous one)."""
    return _open(settings().database)


def curator() -> str:
    """The name recorded on every action: the signed-in account's, or (on localhost) the one set in the
    sidebar, defaulting to the OS account."""
    account = st.session_state.get(ACCOUNT_KEY)
    if account is not None:
        return account.name
    name = " ".join(str(st.session_state.get(CURATOR_KEY) or "").split())
    return name[:128] or settings().default_user()


def actor() -> Actor:
    """Who the services act for: the signed-in account, or on localhost (no accounts) the sidebar's name as an
    admin. The services check its role on every write."""
    account = st.session_state.get(ACCOUNT_KEY)
    return account if account is not None else Actor(curator(), "admin")


def is_admin() -> bool:
    """May import, delete labels, train and manage models: anyone on localhost, admins when signed in."""
    return actor().is_admin
