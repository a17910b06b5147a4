"""The interpreter matrix (``just matrix``): its committed results, and the pieces of the tool.

The matrix itself builds every backend on every interpreter (minutes): CI runs
it (``just matrix --quick``). Here: the committed results are complete and
honest, the book's tables are rendered from them, and the tool's parsing and
comparison do what they claim.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest

import factlab
from factlab import matrix

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "src" / "matrix"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((COMMITTED / "results.json").read_text(encoding="utf-8"))


def test_the_book_renders_the_committed_results(committed: dict[str, Any]) -> None:
    """docs/src/matrix/summary.md is exactly what the tool renders from results.json beside it."""
    rendered = matrix.render_summary(committed)
    assert (COMMITTED / "summary.md").read_text(encoding="utf-8") == rendered, (
        "docs/src/matrix/summary.md is stale: run `just matrix` then `just docs-matrix`"
    )


def test_every_expected_interpreter_has_every_backend(committed: dict[str, Any]) -> None:
    """No interpreter, no backend silently dropped; every cell not ok says why."""
    listed = {i["id"]: i for i in committed["interpreters"]}
    assert set(matrix.EXPECTED) <= set(listed)
    cells = {(c["interpreter"], c["backend"]): c for c in committed["cells"]}
    for interp in (i for i in listed.values() if not i.get("missing")):
        for name in factlab.backend_names():
            cell = cells[(interp["id"], name)]
            assert cell["status"] in ("ok", "unsupported", "failed")
            if cell["status"] == "ok":
                assert cell["ns"]["factorial(25)"] > 0
            else:
                assert cell["reason"], f"{interp['id']} / {name}: {cell['status']} with no reason"


def test_stable_abi_rows_name_their_artifact(committed: dict[str, Any]) -> None:
    rows = {r["backend"]: r for r in committed["stable_abi"]}
    for entry in factlab.specs():
        compiled = entry.kind != "baseline" and entry.clib != "dlopen"
        assert (entry.name in rows) == compiled, entry.name
    for row in rows.values():
        if row["status"] == "ok":
            assert "abi3" in Path(row["artifact"]).name
            assert row["passes_on"] or row["fails_on"]
        else:
            assert row["reason"]


def test_subinterpreter_rows_cover_every_backend(committed: dict[str, Any]) -> None:
    found = {i["id"] for i in committed["interpreters"] if not i.get("missing")}
    subinterpreter_versions = sorted(i for i in found if i.startswith("cpython-3.1") and i >= "cpython-3.12")
    rows = {(r["interpreter"], r["backend"], r["gil"]) for r in committed["subinterpreters"]}
    for interp in subinterpreter_versions:
        for name in factlab.backend_names():
            assert {(interp, name, "own"), (interp, name, "shared")} <= rows


def test_compare_reports_a_cell_that_was_ok(committed: dict[str, Any]) -> None:
    assert matrix.compare(committed, committed) == []
    worse = copy.deepcopy(committed)
    cell = next(c for c in worse["cells"] if c["status"] == "ok")
    cell.update(status="failed", reason="ImportError: boom")
    lost = matrix.compare(committed, worse)
    assert len(lost) == 1
    assert cell["backend"] in lost[0]
    assert "boom" in lost[0]


@pytest.mark.parametrize("name", factlab.backend_names())
def test_a_test_id_names_its_backend(name: str) -> None:
    """pytest's ids join parameters with '-', and backend names contain '-' too."""
    names = factlab.backend_names()
    assert matrix.backend_of(f"test_x[{name}]", names) == name
    assert matrix.backend_of(f"test_x[{name}-10000]", names) == name
    assert matrix.backend_of(f"test_x[10000-{name}]", names) == name
    assert matrix.backend_of("test_without_params", names) is None


def test_excerpt_quotes_the_error_lines() -> None:
    error = "error: the configured Python interpreter version (3.9) is lower"
    assert matrix.excerpt(f"Compiling pyo3\nwarning: unused\n{error}\nmore") == error
    assert matrix.excerpt("one\ntwo\nthree\nfour") == "two / three / four"


def test_interpreter_ids() -> None:
    assert matrix.interpreter_id("cpython", (3, 12), False) == "cpython-3.12"
    assert matrix.interpreter_id("cpython", (3, 13), True) == "cpython-3.13t"
    assert matrix.interpreter_id("pypy", (3, 9), False) == "pypy-3.9"


def test_documented_support_decides_unsupported_from_failed() -> None:
    assert not matrix.documented("pyo3", "pypy", (3, 9))
    assert matrix.documented("pyo3", "cpython", (3, 13))
    assert not matrix.documented("rust-cpython", "cpython", (3, 13))
    assert matrix.documented("cffi", "pypy", (3, 9))


PY39_MODULES = sorted(
    p for p in (ROOT / "python" / "factlab").rglob("*.py") if "bench" not in p.relative_to(ROOT).parts
)


@pytest.mark.parametrize("path", PY39_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_package_parses_as_python_39(path: Path) -> None:
    """PyPy 3.9 imports factlab (the bench aside): no 3.10-only syntax in it."""
    ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 9))
