"""``python -m factlab ship`` (issue 15): its figures match the disk, its builds never touch the tree.

ship is a command of its own, a peer of the bench: its own run directories,
its own results (``ship.json``), the same one-line errors and the same
``latest``. The builds take minutes (CI runs them: ``just ship --quick``); here
they are left out and the rest is measured for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import factlab
from factlab import _runs, bench, ship
from factlab.bench.scenarios import SCENARIOS
from factlab.ship import build, cli, facts, report, rows
from factlab.ship.build import Builds, Wheel

ROOT = Path(__file__).resolve().parent.parent


def test_ship_is_a_command_of_its_own_not_a_scenario_of_the_bench():
    assert "ship" not in SCENARIOS
    assert not [n for n in bench.plan() if n.startswith("ship/")]
    done = subprocess.run([sys.executable, "-m", "factlab", "ship", "--plan", "--quick"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    measured = [
        line.split()[1].rstrip(":") for line in done.stdout.splitlines() if line.startswith("measure ")
    ]
    assert measured == [n for n in factlab.backend_names() if n in measured]
    assert set(factlab.native_names()) <= set(measured)


def test_the_plan_includes_a_throwaway_backend(monkeypatch, capsys):
    module = types.ModuleType("factlab_throwaway")
    module.factorial = factlab.load(factlab.STDLIB).factorial  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "factlab_throwaway", module)
    spec = factlab.BackendSpec(
        "throwaway", "factlab_throwaway", "a test's", kind="extension", tool="t", project="python/throwaway"
    )
    monkeypatch.setitem(factlab._registry._REGISTERED, "throwaway", spec)
    lines = rows.Plan.make("default", None).lines()
    assert "build python/throwaway: cold, incremental" in lines
    assert any(line.startswith("measure throwaway:") for line in lines)
    assert ship.main(["--plan", "--quick", "--backends", "throwaway"]) == 0
    runs = rows.IMPORT_RUNS["quick"]
    assert capsys.readouterr().out.splitlines() == [  # quick: no cold builds, so no shared row to build
        "build python/throwaway: incremental",
        f"measure throwaway: artifact, needs, {runs}+{runs} imports, lines",
    ]


def test_a_wheels_tags_come_from_its_name():
    assert Wheel("factlab_pyo3-0.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", 1).tags == (
        "cp311-cp311-manylinux_2_17_x86_64"
    )
    assert Wheel("x-1.0-cp310-abi3-linux_x86_64.whl", 1).tags == "cp310-abi3-linux_x86_64"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "a.py",
            '"""Doc.\n\nMore."""\n\nx = 1  # note\n# only a comment\n\n',
            (1, 3, 3),
        ),  # a blank line is blank, in a docstring too
        ("a.rs", "//! crate doc\n\n/* block\n   ends */\nfn f() {} // tail\n", (1, 3, 1)),
        ("a.toml", "# comment\n[x]\n\ny = 1\n", (2, 1, 1)),
    ],
)
def test_lines_are_code_comment_or_blank(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    counts = facts.count_lines(path)
    assert (counts["code"], counts["comment"], counts["blank"]) == expected
    assert sum(counts.values()) == len(text.splitlines())


def test_the_one_line_change_goes_into_the_copy_only(tmp_path):
    before = (ROOT / build.CORE_SOURCE).read_bytes()
    builder = build.Builder(ROOT, tmp_path, say=lambda _: None)
    assert (builder.src / build.CORE_SOURCE).read_bytes() == before
    builder.change()
    copy = (builder.src / build.CORE_SOURCE).read_text()
    assert copy.splitlines()[:-1] == before.decode().splitlines()
    assert (ROOT / build.CORE_SOURCE).read_bytes() == before


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The ship rows of every built backend, builds left out (they take minutes: CI runs them)."""
    work = tmp_path_factory.mktemp("work")
    patch = pytest.MonkeyPatch()
    patch.setattr(build, "measure_builds", lambda *a: Builds())
    patch.setitem(rows.IMPORT_RUNS, "quick", 1)
    try:
        measured = rows.measure(rows.Plan.make("quick", None), work, say=lambda _: None)
    finally:
        patch.undo()
    return measured["rows"]


def test_a_run_writes_ship_json_summary_and_chart_then_latest(shipped, tmp_path, monkeypatch):
    """A run as the command makes it, its measuring child replaced by the rows measured above."""
    plan = rows.Plan.make("quick", None)

    def child(cmd: list[str]) -> Path:
        (Path(cmd[-1]) / "rows.json").write_text(
            json.dumps({"seconds": 1.0, "build_problem": None, "rows": shipped})
        )
        return Path(cmd[-1])

    monkeypatch.setattr(cli, "spawn", child)
    monkeypatch.setattr(cli, "wait", lambda proc: 0)
    (tmp_path / "runs").mkdir()
    from rich.console import Console

    code, run_dir = cli.start(plan, tmp_path, Console(file=open("/dev/null", "w")))  # noqa: SIM115
    assert code == 0
    assert (tmp_path / "latest").resolve() == run_dir
    doc = cli.load_run(run_dir)
    assert doc["format"] == cli.FORMAT
    assert doc["rows"] == shipped
    names = [r["backend"] for r in shipped if not r.get("shared")]
    assert names == [n for n in factlab.backend_names() if n in names]
    assert set(factlab.native_names()) <= set(names)
    summary = (run_dir / "summary.md").read_text()
    assert all(
        h.replace("|", "\\|") in summary for h in report.table(shipped).headers
    )  # all 13 columns there
    assert (run_dir / "chart-ship.png").read_bytes()[:4] == b"\x89PNG"


def test_the_terminal_shows_the_deciding_columns_in_100(shipped):
    from rich.console import Console

    from factlab._cli import TERMINAL, show

    full, short = report.table(shipped), report.terminal(shipped)
    assert len(full.headers) == 13
    assert short.headers == ["backend", *report.TERMINAL]
    console = Console(width=TERMINAL, record=True)
    show(console, short)
    shown = console.export_text()
    assert max(map(len, shown.splitlines())) <= TERMINAL
    words = {w for row in short.rows for cell in row for w in cell.split()}
    assert all(w in shown for w in words), sorted(w for w in words if w not in shown)


@pytest.mark.parametrize("backend", factlab.backend_names())
def test_sizes_match_the_disk(shipped, backend):
    row = next((r for r in shipped if r["backend"] == backend), None)
    if row is None:
        pytest.skip(f"{backend} is not built")
    assert row["status"] == "ok", row.get("note")
    for key in ("artifact", "opens", "static"):
        if row.get(key):
            path = Path(row[key]) if Path(row[key]).is_absolute() else ROOT / row[key]
            assert row[f"{key}_bytes"] == path.stat().st_size
    if row.get("stripped_bytes") is not None:
        assert 0 < row["stripped_bytes"] <= row["artifact_bytes"]
    spec = factlab.spec(backend)
    lines = row["binding_lines"]
    assert lines["files"] == len(spec.sources)
    total = sum(len((ROOT / s).read_text().splitlines()) for s in spec.sources)
    assert lines["code"] + lines["comment"] + lines["blank"] == total
    assert row["import_ms"] > 0
    assert row["first_call_us"] > 0


def test_what_a_native_backend_needs_comes_from_its_project_and_ldd(shipped):
    for row in shipped:
        if row.get("shared") or row["status"] != "ok" or not factlab.spec(row["backend"]).native:
            continue
        spec = factlab.spec(row["backend"])
        assert "Rust (cargo)" in row["needs_build"]  # the kernel is Rust, whatever the binding
        assert all(" " not in need or need in ("Rust (cargo)", "a C compiler") for need in row["needs_build"])
        static = spec.clib == "static" or (spec.clib == "none" and spec.extension)
        if static and row["artifact"].endswith(".so"):
            assert not any("factlab_clib" in lib for lib in row["needs_run"])  # linked in, not loaded


def test_a_quick_or_partial_ship_run_cannot_reach_the_book(tmp_path, capsys):
    run_dir = tmp_path / "runs" / "20260101-000000-quick"
    run_dir.mkdir(parents=True)
    doc = {"format": cli.FORMAT, "mode": "quick", "created": "now", "rows": []}
    (run_dir / "ship.json").write_text(json.dumps(doc | {"complete": False}))
    assert ship.main(["--publish", str(run_dir), "--out", str(tmp_path)]) == 2
    assert "'complete' is False" in capsys.readouterr().err
    (run_dir / "ship.json").write_text(json.dumps(doc | {"complete": True}))
    assert ship.main(["--publish", str(run_dir), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "quick run" in err
    assert not _runs.is_complete(tmp_path, "ship.json")
