"""Resources shared by every page and rerun: opened once per process."""
from __future__ import annotations

import streamlit as st

from knowco.settings import database_setting
from storage.database import Database, open_database


@st.cache_resource(show_spinner=False)
def database() -> Database:
    return open_database(database_setting())
