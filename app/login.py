"""The login gate for an app served beyond localhost: an anonymous session sees the login form and nothing
else (no page, no navigation, no data)."""
from __future__ import annotations

import streamlit as st

from app.state import ACCOUNT_KEY, CURATOR_KEY, database
from knowco.services import Actor, TooManyAttempts, log_in, settings


def require_login() -> Actor | None:
    """The signed-in account; None when the app runs on localhost without accounts. Stops the run otherwise."""
    if not settings().require_login:
        return None
    account = st.session_state.get(ACCOUNT_KEY)
    if account is not None:
        return account
    st.title("KnowCo")
    with st.form("login"):
        name = st.text_input("Name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        address = st.context.ip_address  # None on localhost (and not a string under AppTest)
        try:
            account = log_in(database(), name.strip(), password, address if isinstance(address, str) else None)
        except TooManyAttempts as refused:
            st.error(f"Too many failed attempts: try again in {refused.retry_after} s.")
            st.stop()
        if account is None:
            st.error("Unknown name or wrong password.")
        else:
            st.session_state[ACCOUNT_KEY] = account
            st.session_state[CURATOR_KEY] = account.name
            st.rerun()
    st.stop()
