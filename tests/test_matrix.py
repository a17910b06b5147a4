"""The interpreter matrix (``just matrix``): its committed results, and the pieces of the tool.

The matrix itself builds every backend on every interpreter (minutes): CI runs
it (``just matrix --quick --check-committed``). Here: the committed results are
complete and honest, the book's tables are rendered from them, every plan comes
from the registry (a throwaway backend reaches it), a missing interpreter is
reported and never counted as a regression, and names are read as pip reads them.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import conftest
import pytest

import factlab
from factlab.matrix import cli, contract, discovery, probe, render, results, stable_abi, timer, venvs
from factlab.matrix.cells import plan
from factlab.matrix.discovery import Interpreter

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "src" / "matrix"
MATRIX = ROOT / "python" / "factlab" / "matrix"
# What runs INSIDE the matrix's venvs, PyPy 3.9 included (the package's __init__ comes with them).
IN_VENV = ("__init__.py", "probe.py", "timer.py")


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((COMMITTED / "results.json").read_text(encoding="utf-8"))


def interpreter(id_: str) -> Interpreter:
    """An Interpreter as discovery would describe ``id_`` (nothing is run)."""
    implementation, _, version = id_.partition("-")
    major, minor = version.rstrip("t").split(".")
    free_threaded = version.endswith("t")
    return Interpreter(
        id_, "/nowhere", implementation, (int(major), int(minor)), free_threaded, version.rstrip("t")
    )


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> factlab.BackendSpec:
    """A backend registered for one test: an extension of its own project, with an abi3 recipe."""
    return conftest.throwaway(
        monkeypatch,
        extension="factlab_throwaway",
        reach=factlab.Reach(oldest_pypy=None, source="a test: CPython only"),
        stable_abi=factlab.StableAbi("a test's abi3 build", ("throwaway.abi3=yes",), (("THROWAWAY", "1"),)),
    )


# -- the committed results and the book ----------------------------------------------------------


def test_the_book_renders_the_committed_results(committed: dict[str, Any]) -> None:
    """docs/src/matrix/{summary,figures}.md are exactly what the tool renders from the results beside them."""
    stale = "is stale: run `just matrix` then `just docs-matrix`"
    summary = (COMMITTED / "summary.md").read_text(encoding="utf-8")
    assert summary == render.render_summary(committed), f"docs/src/matrix/summary.md {stale}"
    figures = (COMMITTED / "figures.md").read_text(encoding="utf-8")
    assert figures == render.render_figures(committed), f"docs/src/matrix/figures.md {stale}"


def test_every_expected_interpreter_has_every_backend(committed: dict[str, Any]) -> None:
    """No interpreter, no backend silently dropped; every cell not ok says why."""
    listed = {i["id"]: i for i in committed["interpreters"]}
    assert set(discovery.EXPECTED) <= set(listed)
    cells = {(c["interpreter"], c["backend"]): c for c in committed["cells"]}
    for interp in (i for i in listed.values() if not i.get("missing")):
        for name in factlab.backend_names():
            cell = cells[(interp["id"], name)]
            assert cell["status"] in ("ok", "unsupported", "failed")
            if cell["status"] == "ok":
                assert cell["ns"]["factorial(25)"] > 0
            else:
                assert cell["reason"], f"{interp['id']} / {name}: {cell['status']} with no reason"


def test_stable_abi_rows_are_the_registrys(committed: dict[str, Any]) -> None:
    """A row for each backend with a stable-ABI fact in the registry; an ok row names its abi3 wheel."""
    rows = {r["backend"]: r for r in committed["stable_abi"]}
    assert list(rows) == stable_abi.abi3_plan().backends
    for row in rows.values():
        if row["status"] == "ok":
            assert venvs.is_abi3(Path(row["artifact"]))
            assert row["passes_on"] or row["fails_on"]
        else:
            assert row["reason"]


def test_subinterpreter_rows_cover_every_backend(committed: dict[str, Any]) -> None:
    found = {i["id"] for i in committed["interpreters"] if not i.get("missing")}
    # CPython 3.12+ with a GIL: a free-threaded build (3.13t) has no per-interpreter GIL to prove.
    subinterpreter_versions = sorted(
        i for i in found if i.startswith("cpython-3.1") and i >= "cpython-3.12" and not i.endswith("t")
    )
    rows = {(r["interpreter"], r["backend"], r["gil"]) for r in committed["subinterpreters"]}
    for interp in subinterpreter_versions:
        for name in factlab.backend_names():
            assert {(interp, name, "own"), (interp, name, "shared")} <= rows


def test_the_subinterpreter_table_shows_the_iterator_beside_the_import(committed: dict[str, Any]) -> None:
    """Issue 23: where the results step Factorials in the subinterpreter, a column per kind says how it went;
    results from before issue 23 (no "iterator" in their rows) keep their table."""
    ok = {"status": "ok", "reason": ""}
    rows = [
        {"interpreter": "cpython-3.13", "backend": factlab.PURE, "gil": "own", **ok, "iterator": ok},
        {"interpreter": "cpython-3.13", "backend": factlab.STDLIB, "gil": "own", **ok,
         "iterator": {"status": "failed", "reason": "AttributeError: no Factorials"}},
        {"interpreter": "cpython-3.13", "backend": "x", "gil": "own", "status": "failed",
         "reason": "ImportError", "iterator": None},
    ]  # fmt: skip
    table = render.subinterpreters_table({"subinterpreters": rows}, [factlab.PURE, factlab.STDLIB, "x"])
    assert table.headers == ["backend", "cpython-3.13, own GIL", f"cpython-3.13, own GIL: {render.ITERATOR}"]
    assert [row[1:] for row in table.rows] == [["ok", "ok"], ["ok", "**failed** [1]"], ["**failed** [2]", ""]]
    assert table.notes[0] == f"[1] **{factlab.STDLIB}** (Factorials): `AttributeError: no Factorials`"
    older = [{k: v for k, v in r.items() if k != "iterator"} for r in committed["subinterpreters"]]
    before = render.subinterpreters_table({"subinterpreters": older}, factlab.backend_names())
    # A column per interpreter and GIL, in the order of the results, and none for the iterator:
    kinds = dict.fromkeys(f"{r['interpreter']}, {r['gil']} GIL" for r in older)
    assert before.headers == ["backend", *kinds]
    assert not any(render.ITERATOR in h for h in before.headers)
    now = render.subinterpreters_table(committed, factlab.backend_names())  # the committed run has it
    assert any(render.ITERATOR in h for h in now.headers)


def test_a_figure_not_measured_says_so(committed: dict[str, Any]) -> None:
    """Instructions per call: a count is shown beside its time; results without one say "not measured"."""
    uncounted = copy.deepcopy(committed)  # as a run made before the counts existed (or a quick one)
    for c in uncounted["cells"]:
        c.pop("instructions", None)
    table = render.timing_table(uncounted, ["cpython-3.11"], [factlab.PURE], "factorial(25)")
    assert render.NOT_MEASURED in table.rows[0]
    counted = copy.deepcopy(committed)
    cell = next(c for c in counted["cells"] if c["status"] == "ok")
    cell["instructions"] = {"factorial(25)": 12345.0}
    row = render.timing_table(counted, [cell["interpreter"]], [cell["backend"]], "factorial(25)").rows[0]
    assert row[2] == "12,345"
    assert f"{cell['interpreter']}-{cell['backend']}-f25-instructions".replace(
        ".", ""
    ) in render.render_figures(counted)


def test_the_seed_ratio_is_picked_by_spec() -> None:
    """The seed experiment's CFFI is the cffi backend that links the C library in, found in the registry."""
    entry = factlab.spec(render.seed_backend() or "")
    assert (entry.tool, entry.clib) == ("cffi", "static")


# -- every plan from the registry -------------------------------------------------------------


@pytest.mark.parametrize("id_", discovery.EXPECTED)
def test_every_registered_backend_is_planned_with_its_reach(id_: str) -> None:
    """A failure is "unsupported" exactly where the backend's tool says it does not go (registry's reach)."""
    interp = interpreter(id_)
    planned = {p.backend: p for p in plan(interp)}
    assert list(planned) == factlab.backend_names()
    for entry in factlab.specs():
        covers = entry.reach.covers(interp.implementation, interp.version, interp.free_threaded)
        assert planned[entry.name].documented == covers
        assert planned[entry.name].project == entry.project
        assert planned[entry.name].failure(id_, "boom").status == ("failed" if covers else "unsupported")


def test_a_throwaway_backend_reaches_every_plan(throwaway: factlab.BackendSpec) -> None:
    planned = {p.backend: p for p in plan(interpreter("cpython-3.12"))}
    assert planned["throwaway"].project == "crates/throwaway"
    assert planned["throwaway"].documented
    assert not {p.backend: p for p in plan(interpreter("pypy-3.9"))}["throwaway"].documented
    abi3 = stable_abi.abi3_plan()
    assert "throwaway" in abi3.backends
    project = next(p for p in abi3.projects if p.project == "crates/throwaway")
    assert project.backends == ("throwaway",)
    assert project.pip_options() == ["-C", "throwaway.abi3=yes"]  # the registry keeps settings without "-C"
    assert dict(project.recipe.env) == {"THROWAWAY": "1"}


def test_a_project_serving_several_backends_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = next(p for p in stable_abi.abi3_plan().projects)
    first = factlab.spec(shared.backends[0])
    twin = factlab.BackendSpec(
        "twin",
        "factlab_twin",
        "a test's backend",
        kind="ffi",
        tool="t",
        project=first.project,
        stable_abi=first.stable_abi,
    )
    monkeypatch.setitem(factlab._registry._REGISTERED, "twin", twin)
    projects = [p for p in stable_abi.abi3_plan().projects if p.project == first.project]
    assert len(projects) == 1
    assert projects[0].backends == (*shared.backends, "twin")


def test_a_refused_stable_abi_is_a_row_with_its_reason() -> None:
    planned = stable_abi.abi3_plan()
    for entry in factlab.specs():
        if entry.stable_abi is not None and entry.stable_abi.refused:
            assert planned.refused[entry.name] == entry.stable_abi.refused
            assert all(entry.name not in p.backends for p in planned.projects)


def test_no_matrix_module_names_a_backend() -> None:
    """Every backend fact is the registry's: no backend's name written in the matrix's code."""
    for path in MATRIX.glob("*.py"):
        strings = {
            n.value
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant)
        }
        assert not strings & set(factlab.backend_names()), path.name


# -- missing interpreters and the committed results --------------------------------------------


def test_a_missing_interpreter_comes_with_its_install_command() -> None:
    missing = {m.id: m.install for m in discovery.missing(["cpython-3.11", "cpython-3.12"], only=[])}
    assert missing == {
        "cpython-3.10": "pyenv install 3.10",
        "cpython-3.13": "pyenv install 3.13",
        "cpython-3.13t": "just python-ft",  # built from Debian's source package, into factlab's cache
        "pypy-3.9": "apt-get install pypy3 pypy3-dev",
    }
    assert discovery.missing([], only=["cpython-3.12"]) == [discovery.Missing("cpython-3.12")]
    assert discovery.missing([], only=["cpython-3.14t"]) == []  # asked for, but not one the book expects


def without(run: dict[str, Any], interp: str) -> dict[str, Any]:
    """``run`` as a machine without ``interp`` would make it: listed missing, no cell of it."""
    now = copy.deepcopy(run)
    now["interpreters"] = [i for i in now["interpreters"] if i["id"] != interp]
    now["interpreters"].append({"id": interp, "missing": True, "install": discovery.install_hint(interp)})
    now["cells"] = [c for c in now["cells"] if c["interpreter"] != interp]
    now["subinterpreters"] = [r for r in now["subinterpreters"] if r["interpreter"] != interp]
    for row in now["stable_abi"]:
        row["passes_on"] = [i for i in row.get("passes_on", []) if i != interp]
    return now


def test_compare_reports_a_cell_that_was_ok(committed: dict[str, Any]) -> None:
    assert results.compare(committed, committed) == []
    worse = copy.deepcopy(committed)
    cell = next(c for c in worse["cells"] if c["status"] == "ok")
    cell.update(status="failed", reason="ImportError: boom")
    lost = results.compare(committed, worse)
    assert len(lost) == 1
    assert cell["backend"] in lost[0]
    assert "boom" in lost[0]


@pytest.mark.parametrize("gone", ["pypy-3.9", "cpython-3.10"])
def test_a_missing_interpreter_is_reported_not_a_regression(committed: dict[str, Any], gone: str) -> None:
    now = without(committed, gone)
    lost, unchecked = results.check_committed(committed, now, only=[])
    assert lost == []
    assert len(unchecked) == 1
    assert gone in unchecked[0]
    assert discovery.install_hint(gone) in unchecked[0]
    assert results.check_committed(committed, now, only=["cpython-3.12"])[1] == []  # --only left it out
    # ... and a real regression on an interpreter that is here still counts.
    cell = next(c for c in now["cells"] if c["status"] == "ok")
    cell.update(status="failed", reason="boom")
    assert len(results.check_committed(committed, now, only=[])[0]) == 1


def test_the_status_table_lists_what_is_missing(committed: dict[str, Any]) -> None:
    notes = render.status_table(without(committed, "pypy-3.9"), [], []).notes
    assert any("pypy-3.9" in n and "apt-get install pypy3 pypy3-dev" in n for n in notes)


@pytest.mark.parametrize(
    ("flags", "broken", "code"),
    [
        ([], True, 0),  # no flag: the run is reported, never compared
        (["--check-committed"], False, 0),  # PyPy missing here: reported, the run is green
        (["--check-committed"], True, 1),  # a cell ok in the book fails now
    ],
)
def test_only_the_flag_compares_with_the_committed_results(
    committed: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    broken: bool,
    code: int,
) -> None:
    now = without(committed, "pypy-3.9")
    if broken:
        next(c for c in now["cells"] if c["status"] == "ok").update(status="failed", reason="boom")
    found = [interpreter(i["id"]) for i in now["interpreters"] if not i.get("missing")]
    monkeypatch.setattr(discovery, "discover", lambda extra: (found, []))
    monkeypatch.setattr(cli, "everything", lambda *args: now)
    monkeypatch.setattr(results, "write", lambda run: tmp_path)
    assert cli.main(flags) == code
    err = capsys.readouterr().err
    assert ("REGRESSION" in err) == (code == 1)
    assert ("pypy-3.9 is not on this machine" in err) == bool(flags)


def test_without_packaging_the_matrix_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The host reads names with packaging: a host without it gets one line naming it, exit 2."""
    import importlib.util

    import factlab.matrix

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "packaging" else real(name, *a)
    )
    assert factlab.matrix.main(["--help"]) == 2
    assert "packaging" in capsys.readouterr().err


def test_malformed_committed_results_are_one_line(tmp_path: Path, committed: dict[str, Any]) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('{"cells": [{"status": "ok"}]}')
    assert cli.check(bad, committed, only=[]) == 2


# -- names read as pip reads them, and the contract's test ids ------------------------------------


def test_wheel_names_are_read_with_packaging() -> None:
    abi3 = Path("factlab_pyo3-0.1.0-cp310-abi3-linux_x86_64.whl")
    specific = Path("factlab_pyo3-0.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert venvs.is_abi3(abi3)
    assert not venvs.is_abi3(specific)
    assert venvs.wheel_tags(abi3) == "cp310-abi3-linux_x86_64"
    assert venvs.wheel_tags(specific) == "cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64"


@pytest.mark.parametrize("id_", discovery.EXPECTED)
def test_every_interpreter_gets_one_pin_of_each_tool(id_: str) -> None:
    """requirements-matrix.txt, its markers applied as pip applies them: the tools the matrix needs, once."""
    tools = venvs.pinned_tools(interpreter(id_), ROOT / venvs.REQUIREMENTS)
    assert {"pip", "pytest", "pyperf", "setuptools", "maturin"} <= set(tools)
    assert all(version[0].isdigit() for version in tools.values())  # exact pins
    assert ("cffi" in tools) == id_.startswith("cpython")  # PyPy's cffi is its own


def test_two_pins_for_one_interpreter_are_refused(tmp_path: Path) -> None:
    pins = tmp_path / "requirements.txt"
    pins.write_text('pyperf==2.10.0\npyperf==2.9.0; implementation_name == "pypy"\n')
    assert venvs.pinned_tools(interpreter("cpython-3.12"), pins) == {"pyperf": "2.10.0"}
    with pytest.raises(ValueError, match="twice"):
        venvs.pinned_tools(interpreter("pypy-3.9"), pins)


@pytest.mark.parametrize("name", factlab.backend_names())
def test_a_test_id_names_its_backend(name: str) -> None:
    """pytest's ids join parameters with '-', and backend names contain '-' too."""
    names = factlab.backend_names()
    assert contract.backend_of(f"test_x[{name}]", names) == name
    assert contract.backend_of(f"test_x[{name}-10000]", names) == name
    assert contract.backend_of(f"test_x[10000-{name}]", names) == name
    assert contract.backend_of("test_without_params", names) is None


def test_interpreter_ids() -> None:
    assert discovery.interpreter_id("cpython", (3, 12), False) == "cpython-3.12"
    assert discovery.interpreter_id("cpython", (3, 13), True) == "cpython-3.13t"
    assert discovery.interpreter_id("pypy", (3, 9), False) == "pypy-3.9"


# -- what runs inside the venvs --------------------------------------------------------------


def test_the_timer_publishes_pyperfs_mean() -> None:
    """The timer, run as the matrix runs it (tiny settings): pyperf's mean per call, as JSON, last."""
    cmd = [sys.executable, "-m", "factlab.matrix.timer", "--backend", factlab.STDLIB, "--call", "factorial"]
    cmd += ["--processes", "1", "--values", "2", "--warmups", "0", "--min-time", "0.001", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got[f"factorial({timer.N})"]["mean_ns"] > 0
    assert got[f"factorial({timer.N})"]["values"] == 2


def test_the_probe_loads_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    """One backend per call: it says each stage first (the host reads where a crash happened), then
    what it loaded; on a build with a GIL there is no GIL state to report."""
    probe.probe(factlab.spec(factlab.PURE).module)
    *stages, got = map(json.loads, capsys.readouterr().out.splitlines())
    assert stages == [{"stage": "import"}, {"stage": "call"}]
    assert got == {"artifact": "", "abi3": False, "calls": ["factorial"], "gil": None}
    probe.probe(factlab.spec(factlab.STDLIB).module)
    assert "crossing" in json.loads(capsys.readouterr().out.splitlines()[-1])["calls"]


PY39_MODULES = sorted(
    p
    for p in (ROOT / "python" / "factlab").rglob("*.py")
    if "bench" not in p.relative_to(ROOT).parts and (p.parent != MATRIX or p.name in IN_VENV)
)


@pytest.mark.parametrize("path", PY39_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_package_parses_as_python_39(path: Path) -> None:
    """PyPy 3.9 imports factlab and the matrix's probe (the bench and the matrix's host side aside)."""
    ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 9))


@pytest.mark.parametrize("name", IN_VENV)
def test_the_probe_imports_nothing_of_the_host(name: str) -> None:
    """What runs in a venv imports only the standard library, pyperf and factlab's registry."""
    tree = ast.parse((MATRIX / name).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    # __init__.main imports the command line when it is called, on the host only.
    host = {m for m in imported if m.startswith("factlab.") and m != "factlab.matrix.cli"}
    assert host <= {f"factlab.matrix.{Path(n).stem}" for n in IN_VENV if n != "__init__.py"}
    assert "factlab._common" not in imported
