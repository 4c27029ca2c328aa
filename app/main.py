"""Entry point `streamlit run app/main.py` (started by run_app.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="KnowCo", layout="wide")
page = st.navigation([st.Page("overview_page.py", title="Overview", default=True)])
page.run()
