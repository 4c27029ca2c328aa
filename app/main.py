"""Entry point `streamlit run app/main.py` (started by run_app.py): the sidebar and the pages. The packages
import from wherever the project was installed (`pip install -r requirements.txt` installs it)."""
from pathlib import Path

import streamlit as st

from app.login import require_login
from app.state import ACCOUNT_KEY, CURATOR_KEY, curator, is_admin
from app.ui import guarded, md, show_flashes
from knowco.services import settings

# a local image: a material-symbol favicon is fetched from fonts.gstatic.com, and the app promises to run offline
st.set_page_config(page_title="KnowCo", page_icon=str(Path(__file__).with_name("static") / "knowco.png"),
                   layout="wide")
account = require_login()

PAGES = [
    st.Page("overview_page.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("graph_page.py", title="Graph", icon=":material/hub:"),
    st.Page("label_page.py", title="Label", icon=":material/label:"),
    st.Page("train_page.py", title="Train", icon=":material/model_training:"),
    st.Page("review_page.py", title="Review", icon=":material/fact_check:"),
    st.Page("team_page.py", title="Team", icon=":material/groups:"),
    st.Page("data_page.py", title="Import / Export", icon=":material/swap_vert:"),
    st.Page("history_page.py", title="History", icon=":material/history:"),
]
ADMIN_ONLY = {"Train", "Import / Export"}

page = st.navigation([p for p in PAGES if is_admin() or p.title not in ADMIN_ONLY])
with st.sidebar:
    if account is None:
        if CURATOR_KEY not in st.session_state:
            st.session_state[CURATOR_KEY] = settings().default_user()
        st.text_input("Curator", key=CURATOR_KEY, help="Recorded on every label, verdict and training run you make.")
        st.caption(f"Acting as {md(curator())}")
    else:
        st.caption(f"Signed in as {md(account.name)} ({account.role})")
        if st.button("Sign out", key="sign_out"):
            del st.session_state[ACCOUNT_KEY]
            st.rerun()
show_flashes()
with guarded("show this page"):
    page.run()
