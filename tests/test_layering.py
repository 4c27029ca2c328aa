"""Imports point one way (app → knowco → engine, storage): checked on the source, not by convention."""
from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "storage": {"torch", "transformers", "streamlit", "engine", "knowco", "app"},
    "engine": {"sqlalchemy", "alembic", "streamlit", "storage", "knowco", "app"},
    "knowco": {"streamlit", "app"},
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
