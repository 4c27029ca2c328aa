"""Opening one page of the app as a signed-in curator, for AppTest tests of pages that need a role."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def signed_in_page(name: str, who: str) -> AppTest:
    """The page `name` (`team` for app/team_page.py) as `who` sees it, on the database KNOWCO_DATABASE_URL names."""
    app = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    app.session_state["curator"] = who
    app.run()
    app.switch_page(f"{name}_page.py").run()
    assert not app.exception, app.exception
    return app
