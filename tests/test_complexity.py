"""No function above a cyclomatic complexity of 15 (radon's measure) in the product and the benchmarks: past
that, a function is a tangle of cases that the next change breaks (storage/history.py's `describe` reached 47
before it became a table of event renderers)."""
from __future__ import annotations

from radon.complexity import cc_visit

from tests.conftest import ROOT

LIMIT = 15
CHECKED = ("app", "knowco", "engine", "storage", "bench")


def test_no_function_is_too_complex():
    too_complex = {}
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for block in cc_visit(path.read_text(encoding="utf-8")):
                if block.complexity > LIMIT:
                    too_complex[f"{path.relative_to(ROOT)}: {block.fullname}"] = block.complexity
    assert too_complex == {}
