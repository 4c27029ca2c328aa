"""Imports point one way (app → knowco → engine, storage): checked on the source, not by convention."""
from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "storage": {"torch", "transformers", "streamlit", "engine", "knowco", "app", "bench"},
    "engine": {"sqlalchemy", "alembic", "streamlit", "storage", "knowco", "app", "bench"},
    "knowco": {"streamlit", "app"},
    # benchmarks drive the app only as a script (AppTest), never by importing its pages
    "bench": {"app"},
    # pages go through knowco.services only: no SQL, no torch, no direct storage or engine calls
    "app": {"storage", "engine", "sqlalchemy", "torch", "transformers"},
}


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}


PROJECT = ("app", "engine", "knowco", "storage")
#: the front ends and the project modules they may import: the service layer is their one door
DOORS = {
    "app": {"knowco.services", "app.state", "app.ui", "app.login", "app.spot_check_panel"},
    "knowco/cli.py": {"knowco.services", "bench.cli", "knowco.api"},
    # the HTTP API is a front end too: its routes call the service layer, nothing below it
    "knowco/api": {"knowco.services", "knowco.api", "knowco.api.doors", "knowco.api.data", "knowco.api.models",
                   "knowco.api.review"},
    "run_app.py": {"knowco.services"},
}


def _named_modules(tree: ast.AST, with_members: bool = False) -> set[str]:
    """Every module an import names, wherever it stands (in a function, under TYPE_CHECKING); with
    `with_members`, also `module.member` for each name a `from` import takes (it may be a submodule)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if with_members:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _project_modules(path) -> set[str]:
    names = _named_modules(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in names if name.split(".")[0] in PROJECT}


@pytest.mark.parametrize("front", sorted(DOORS))
def test_front_ends_go_through_the_service_layer(front):
    target = ROOT / front
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    offenders = {str(path.relative_to(ROOT)): sorted(_project_modules(path) - DOORS[front]) for path in files
                 if _project_modules(path) - DOORS[front]}
    assert offenders == {}


def _module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycle_between_files():
    import networkx as nx

    modules = {_module_name(path): path for package in PROJECT for path in (ROOT / package).rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        # a cycle hidden behind a late or a typing-only import is a cycle still
        imported = _named_modules(ast.parse(path.read_text(encoding="utf-8")), with_members=True)
        graph.add_edges_from((name, other) for other in imported
                             if other in modules and other != name)
    assert [" → ".join(cycle) for cycle in nx.simple_cycles(graph)] == []


def test_the_product_s_command_line_loads_the_benchmarks_only_when_asked():
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, knowco.cli; "
                             "print(sorted(m for m in sys.modules if m == 'bench' or m.startswith('bench.')))"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
