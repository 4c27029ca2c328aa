"""Entry point `streamlit run app/main.py` (started by run_app.py): the sidebar and the pages."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from app.state import CURATOR_KEY, curator  # noqa: E402
from app.ui import guarded, md, show_flashes  # noqa: E402
from knowco.services import default_user  # noqa: E402

st.set_page_config(page_title="KnowCo", page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("overview_page.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("graph_page.py", title="Graph", icon=":material/hub:"),
    st.Page("label_page.py", title="Label", icon=":material/label:"),
    st.Page("train_page.py", title="Train", icon=":material/model_training:"),
    st.Page("review_page.py", title="Review", icon=":material/fact_check:"),
    st.Page("data_page.py", title="Import / Export", icon=":material/swap_vert:"),
    st.Page("history_page.py", title="History", icon=":material/history:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    if CURATOR_KEY not in st.session_state:
        st.session_state[CURATOR_KEY] = default_user()
    st.text_input("Curator", key=CURATOR_KEY, help="Recorded on every label, verdict and training run you make.")
    st.caption(f"Acting as {md(curator())}")
show_flashes()
with guarded("show this page"):
    page.run()
