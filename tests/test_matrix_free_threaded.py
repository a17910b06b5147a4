"""The matrix on a free-threaded CPython (issue 25), without building one: the committed column's
shape, ``just python-ft``'s refusal, a tool's refusal costing only its own backends, a crash costing
one cell, the GIL record, the threads table and the merge of a run into the committed results.

CI may not build 3.13t (``just python-ft``, minutes); these tests are cheap and hold by property: a
throwaway registered backend reaches every step.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import conftest
import pytest
from test_matrix import interpreter

import factlab
from factlab._render import X
from factlab.matrix import cells, contract, discovery, loading, probe, render, results, threads_render, venvs
from factlab.matrix.freethreaded import GIL_WARNING, contract_groups, gil_record
from factlab.matrix.tools import Tools, build_requires, needs
from factlab.matrix.workspace import Progress

ROOT = Path(__file__).resolve().parents[1]
FREE_THREADED = "cpython-3.13t"
GIL_TWIN = "cpython-3.13"


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "src" / "matrix" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> factlab.BackendSpec:
    """A backend whose tool documents free-threaded CPython from 3.14 on only, as PyO3's and cffi's do."""
    return conftest.throwaway(
        monkeypatch,
        reach=factlab.Reach(oldest_free_threaded=(3, 14), source="a test: free-threaded from 3.14"),
        gil_declaration="a test's declaration",
    )


# -- the committed column ---------------------------------------------------------------------


def test_the_committed_results_have_a_free_threaded_column(committed: dict[str, Any]) -> None:
    """cpython-3.13t: a cell per registered backend, ok with its GIL state, or not ok with a reason."""
    listed = {i["id"]: i for i in committed["interpreters"]}
    assert not listed[FREE_THREADED].get("missing")
    column = {c["backend"]: c for c in committed["cells"] if c["interpreter"] == FREE_THREADED}
    assert list(column) == factlab.backend_names()
    for name, cell in column.items():
        assert cell["gil"]["declares"] == factlab.spec(name).gil_declaration
        if cell["status"] == "ok":
            assert cell["gil"]["after_import"] in ("on", "off")
            assert cell["gil"]["eight_threads"].startswith("passed")
        else:
            assert cell["status"] in ("unsupported", "failed")
            assert cell["reason"]
            assert cell["documented"] == factlab.spec(name).reach.source


def test_the_committed_threads_table_sets_both_builds_side_by_side(committed: dict[str, Any]) -> None:
    """Each backend ok on 3.13t and on 3.13 has its 1-thread and 2-thread figures on both."""
    rows = {(r["interpreter"], r["backend"]): r for r in committed["threads"]["rows"]}
    for interp in (FREE_THREADED, GIL_TWIN):
        ok = [c["backend"] for c in committed["cells"] if c["interpreter"] == interp and c["status"] == "ok"]
        for name in ok:
            row = rows[(interp, name)]
            assert row["status"] == "ok", row
            assert row["calls_per_s"]["1"] > 0
            assert row["calls_per_s"]["2"] > 0
            assert row["big_s"]["2"] > 0
    summary = (ROOT / "docs" / "src" / "matrix" / "summary.md").read_text(encoding="utf-8")
    assert "ANCHOR: free-threading " in summary
    assert "ANCHOR: threads " in summary


# -- finding it, and building it ---------------------------------------------------------------


def test_the_python_ft_build_is_found_in_factlabs_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Wherever FACTLAB_CACHE points, whatever version python-ft built; its -config script is not one."""
    monkeypatch.setenv("FACTLAB_CACHE", str(tmp_path))
    bin_ = tmp_path / "python-ft" / "3.14.0-1" / "prefix" / "bin"
    bin_.mkdir(parents=True)
    for name in ("python3.14t", "python3.14t-config", "python3.14"):
        (bin_ / name).write_text("")
    assert discovery.free_threaded_builds() == [str(bin_ / "python3.14t")]
    assert str(bin_ / "python3.14t") in discovery.candidates()
    assert discovery.install_hint(FREE_THREADED) == "just python-ft"


def load_python_ft() -> ModuleType:
    path = ROOT / "python" / "tools" / "python_ft.py"
    spec = importlib.util.spec_from_file_location("python_ft", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_ft_names_what_is_missing_and_the_command_that_fixes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No compiler, no make, no apt: one message naming the packages and the apt-get line."""
    python_ft = load_python_ft()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as refused:
        python_ft.main(["--cache", str(tmp_path)])
    message = str(refused.value.code)
    assert message.startswith("python-ft: missing ")
    assert "build-essential" in message
    assert "apt-get update && apt-get install -y" in message
    assert not any(tmp_path.iterdir())  # nothing fetched, nothing built


# -- a tool's refusal, a crash ---------------------------------------------------------------


@pytest.mark.parametrize("entry", [s for s in factlab.specs() if s.project], ids=lambda s: s.name)
def test_a_backend_needs_its_tool_and_its_projects_build_requirements(entry: factlab.BackendSpec) -> None:
    """Read from the project's own pyproject.toml: what pip must have installed to build it."""
    assert build_requires(entry.project or "")
    assert build_requires(entry.project or "") <= needs(entry)


def test_a_refused_tool_costs_only_the_backends_that_need_it(throwaway: factlab.BackendSpec) -> None:
    tools = Tools(refused={"throwaway-tool": "RuntimeError: not on this interpreter"})
    assert "RuntimeError: not on this interpreter" in tools.blocking(throwaway)
    assert all(not tools.blocking(s) for s in factlab.specs() if s is not throwaway)
    assert tools.harness() == []
    assert Tools(refused={"pytest": "no"}).harness() == ["pytest"]  # no cell runs without it


def test_after_a_refusal_each_pin_is_installed_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip refuses the file: each pin is tried alone, and only the refused one is kept, in pip's words."""
    interp = interpreter(FREE_THREADED)
    refusing = "RuntimeError: CFFI does not support the free-threaded build"
    tried: list[str] = []

    def pip(cmd: list[Any], *args: Any, **kwargs: Any) -> factlab._common.Ran:
        tried.append(str(cmd[-1]))
        ok = not (str(cmd[-1]).endswith(venvs.REQUIREMENTS) or str(cmd[-1]).startswith("cffi=="))
        return factlab._common.Ran([], 0 if ok else 1, "" if ok else refusing)

    monkeypatch.setattr(venvs, "pip_run", pip)
    tools = venvs.install_tools(interp, lambda where, what: None)  # type: ignore[arg-type]
    assert tools.refused == {"cffi": refusing}
    assert len(tried) == 1 + len(venvs.pinned_tools(interp))


def test_a_refused_tool_is_a_cell_with_its_words_and_the_documented_reach(
    monkeypatch: pytest.MonkeyPatch, throwaway: factlab.BackendSpec
) -> None:
    """On 3.13t: the throwaway's project is not built, its cell quotes pip, beside its reach's source."""
    skipped: dict[str, str] = {}

    def build_all(interp: Any, clib: Any, say: Any, skip: dict[str, str]) -> dict[str, venvs.Build]:
        skipped.update(skip)
        return {p: venvs.Build(p not in skip, skip.get(p, "")) for p in factlab.build_projects()}

    loaded = {"artifact": "", "abi3": False, "calls": ["factorial"], "gil": None}
    monkeypatch.setattr(cells, "build_all", build_all)
    monkeypatch.setattr(cells, "probe", lambda interp, names, log: dict.fromkeys(names, loaded))
    monkeypatch.setattr(cells, "contract", lambda interp, names, log, **kw: dict.fromkeys(names, ""))
    monkeypatch.setattr(cells, "measure", lambda *args: None)
    ready = venvs.Ready(tools=Tools(refused={"throwaway-tool": "RuntimeError: refused"}))
    column = cells.run_interpreter(interpreter(FREE_THREADED), ready, Path("clib.whl"), True, Progress())
    cell = {c.backend: c for c in column}["throwaway"]
    assert (cell.status, cell.documented) == ("unsupported", "a test: free-threaded from 3.14")
    assert "RuntimeError: refused" in cell.reason
    assert "RuntimeError: refused" in skipped["crates/throwaway"]
    assert cell.gil["declares"] == "a test's declaration"
    assert all(c.status == "ok" for c in column if c.backend != "throwaway")


def test_a_crash_at_import_costs_one_cell(tmp_path: Path, throwaway: factlab.BackendSpec) -> None:
    """A module that kills the interpreter as it loads: its own child dies, the probe says where."""
    crash = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
    (tmp_path / "factlab_throwaway.py").write_text(crash)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "python")])}
    got = loading.probe_one(Path(sys.executable), throwaway, env, tmp_path / "probe.log")
    assert got == {"error": "crashed at import (SIGSEGV)", "crashed": True}
    fine = loading.probe_one(Path(sys.executable), factlab.spec(factlab.STDLIB), env, tmp_path / "ok.log")
    assert fine["calls"] == ["factorial", "crossing"]


# -- the GIL record and the contract without a GIL --------------------------------------------


def test_the_gil_record_keeps_cpythons_warning_and_the_declaration(throwaway: factlab.BackendSpec) -> None:
    warning = f"RuntimeWarning: {GIL_WARNING} to load module 'factlab_throwaway', which has not declared..."
    seen = {"gil": {"before": False, "after_import": True, "warnings": ["DeprecationWarning: x", warning]}}
    record = gil_record(throwaway, seen)
    assert (record["before_import"], record["after_import"], record["warning"]) == ("off", "on", warning)
    assert record["declares"] == "a test's declaration"
    assert gil_record(throwaway, {"gil": None}) == {}  # a build with a GIL has no GIL state to report


def test_the_backends_that_keep_the_gil_off_are_tested_without_it() -> None:
    gil = {"a": {"after_import": "off"}, "b": {"after_import": "on"}, "c": {"after_import": "off"}}
    runs = contract_groups(gil, ["a", "b", "c"])
    assert runs == [(["a", "c"], (f"{GIL_WARNING}:RuntimeWarning",)), (["b"], ())]
    assert contract_groups({"a": {}, "b": {}}, ["a", "b"]) == [(["a", "b"], ())]  # a GIL build: one run


def test_the_contract_selects_exactly_its_backends(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--backend, not -k: "python" must not select rust-cpython's tests, nor "math" a test "..._math"."""
    ran: list[list[str]] = []
    monkeypatch.setattr(contract, "run", lambda cmd, **kw: ran.append(cmd) or factlab._common.Ran(cmd, 0, ""))
    contract.contract(interpreter(GIL_TWIN), [factlab.PURE], tmp_path / "c.log", quick=True, errors=("W:X",))
    cmd = ran[0]
    assert cmd[cmd.index("--backend") + 1] == factlab.PURE
    assert factlab.PURE not in cmd[cmd.index("-k") + 1]
    assert contract.THREADS_TEST in cmd[cmd.index("-k") + 1]
    assert cmd[cmd.index("-W") + 1] == "error:W:X"


# -- threads, measured and rendered ------------------------------------------------------------


def test_the_threads_probe_reports_one_thread_against_two(capsys: pytest.CaptureFixture[str]) -> None:
    probe.threads_probe(factlab.spec(factlab.STDLIB).module, 0.01, 0.0)
    got = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert got["rounds"] == {"calls": 1, "big": 1}
    assert got["gil_enabled"] is None  # this interpreter has a GIL: nothing to report
    assert got["calls_per_s"]["1"] > 0
    assert got["calls_per_s"]["2"] > 0
    assert 0 < got["big_s"]["1"] < 60


def threads_results(idle: float | None) -> dict[str, Any]:
    row = {"interpreter": FREE_THREADED, "backend": factlab.PURE, "status": "ok", "gil_enabled": False}
    row |= {"calls_per_s": {"1": 1e6, "2": 1.9e6}, "big_s": {"1": 1.0, "2": 1.1}, "idle_cores": idle}
    return {"threads": {"describe": "a test", "idle_needed": 1.8, "rows": [row]}, "cells": []}


def test_a_ratio_on_a_busy_machine_is_not_judged() -> None:
    """Two threads can only scale on two idle cores: with fewer, no ratio is published."""
    busy = threads_render.threads_table(threads_results(0.7))
    assert busy.rows[0][3] == busy.rows[0][4] == "not judged [1]"
    assert "[1] not judged: machine busy (0.7 idle cores)" in busy.notes
    idle = threads_render.threads_table(threads_results(2.0))
    assert idle.rows[0][1:] == ["1.00 M/s", "1.90 M/s", f"1.90{X}", f"1.10{X}"]
    assert "machine busy" in "".join(threads_render.threads_figures(threads_results(None)))


# -- a run of two interpreters merged into the committed results --------------------------------


def test_a_merged_run_replaces_its_interpreters_and_keeps_the_others(committed: dict[str, Any]) -> None:
    here = next(i for i in committed["interpreters"] if not i.get("missing") and i["id"] != FREE_THREADED)
    run = copy.deepcopy(committed)
    run["generated"], run["seconds"] = "2030-01-01T00:00:00+00:00", 60
    run["interpreters"] = [here]
    run["cells"] = [c | {"reason": "new"} for c in committed["cells"] if c["interpreter"] == here["id"]]
    run["subinterpreters"] = []
    merged = results.merge(committed, run)
    assert [i["id"] for i in merged["interpreters"]] == [i["id"] for i in committed["interpreters"]]
    assert len(merged["cells"]) == len(committed["cells"])
    for cell in merged["cells"]:
        assert (cell["reason"] == "new") == (cell["interpreter"] == here["id"])
    assert merged["merged"][-1]["interpreters"] == [here["id"]]
    assert merged["stable_abi"] == committed["stable_abi"]  # one experiment over every CPython: kept
    assert results.merge(merged, run)["merged"] == merged["merged"]  # merging again changes nothing more
    assert "merged with --merge-committed" in render.render_summary(merged)


def test_a_new_interpreter_takes_its_column_after_its_gil_build() -> None:
    assert sorted(["pypy-3.9", "cpython-3.13t", "cpython-3.10", "cpython-3.13"], key=results.order) == [
        "cpython-3.10",
        "cpython-3.13",
        "cpython-3.13t",
        "pypy-3.9",
    ]
