"""The benchmark harness: runs never lost or mixed, comparisons with the right run, errors in one line.

One real ``--quick`` run (module fixture) over python, math and the first
compiled extension and FFI backend that load; the other tests read it, make
one more tiny run, or run the pyperf script on a hand-written plan. The
backends' values are the contract suite's business; here the harness is under
test. No test reads a clock: figures are compared with the run's own files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pyperf
import pytest

import factlab
from factlab import bench
from factlab._render import Table, X
from factlab.bench import report, targets
from factlab.bench._suite import estimate, timer
from factlab.bench.scenarios import Entry


def loading(kind: str) -> list[str]:
    names = []
    for name in factlab.backend_names(kind):
        try:
            factlab.load(name)
        except factlab.BackendNotBuilt:
            continue
        names.append(name)
    return names[:1]


BACKENDS = [*factlab.backend_names("baseline"), *loading("extension"), *loading("ffi")]


def cli(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "factlab", "bench", *args, "--out", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the --out directory, the run's directory) of one complete quick run."""
    out = tmp_path_factory.mktemp("bench")
    proc = cli("--quick", "--backends", ",".join(BACKENDS), out=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, (out / "latest").resolve()


def test_a_run_is_one_pyperf_suite_in_its_own_directory(first):
    out, run = first
    assert run.parent == out / "runs"
    assert run.name.endswith("-quick")
    suite = pyperf.BenchmarkSuite.load(str(run / "pyperf.json"))
    data = bench.load_run(run)  # the strict reader --compare uses accepts what a run writes
    planned = bench.plan(BACKENDS, mode="quick")
    rows = {r["name"]: r for rs in data["scenarios"].values() for r in rs if "name" in r}
    assert list(rows) == planned
    timed = [name for name, r in rows.items() if r["status"] == "ok"]
    assert sorted(suite.get_benchmark_names()) == sorted(timed)
    assert all(r["status"] in ("ok", "skipped") for r in rows.values())
    for name in timed:
        b, r = suite.get_benchmark(name), rows[name]
        assert r["mean"] == b.mean()
        assert b.get_metadata()["factlab_checked"].startswith("every value" if r["checked"] else "no")
    assert data["machine"]["cpu_count"] >= 1
    assert {f.name for f in run.iterdir()} >= {*bench.FILES, "pyperf.json", "plan.json"}
    assert (run / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_the_threads_rows_carry_the_gil_share_and_the_idle_cores(first):
    data = bench.load_run(first[1])
    ones = [r for r in data["scenarios"]["threads"] if r.get("threads") == 1 and r["status"] == "ok"]
    assert ones
    for r in ones:
        assert r["gil_share"] >= 0
        assert r["releases_gil"] == report.releases_gil(r["backend"], r["gil_share"])
    twos = [r for r in data["scenarios"]["threads"] if r.get("threads") == 2 and r["status"] == "ok"]
    assert all(0 <= r["idle_cores"] <= os.cpu_count() for r in twos)


def test_compare_shows_the_earlier_runs_figures_and_latest_moves(first, tmp_path):
    out, old = first
    proc = cli("--quick", "--scenario", "article", "--backends", "math", "--compare", str(old), out=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = (out / "latest").resolve()
    assert new != old
    assert f"Change from {old.name} to {new.name}" in proc.stdout
    old_bench = pyperf.BenchmarkSuite.load(str(old / "pyperf.json")).get_benchmark(
        "article/math/factorial(25)"
    )
    shown = old_bench.format_value(old_bench.mean())
    table = proc.stdout.split("Change from")[1]
    line = next(ln for ln in table.splitlines() if "article/math/factorial(25)" in ln)
    assert shown in line or "not significant" in line  # pyperf hides a difference within noise
    # `previous` is the complete run before the newest one: the first run again.
    again = cli("--compare", "previous", "--against", "latest", out=out)
    assert again.returncode == 0, again.stderr
    assert f"Change from {old.name} to {new.name}" in again.stdout


def test_an_interrupted_run_leaves_latest_unchanged(first, tmp_path):
    out, _ = first
    before = (out / "latest").resolve()
    cmd = [
        sys.executable,
        "-m",
        "factlab",
        "bench",
        "--quick",
        "--backends",
        "python,math",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    runs = set((out / "runs").iterdir())
    while proc.poll() is None and not any(
        (d / "status.json").exists() for d in set((out / "runs").iterdir()) - runs
    ):
        time.sleep(0.05)  # until pyperf's manager has started timing: a run in the middle of its work
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    printed, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0, printed
    assert "latest is unchanged" in printed
    assert "Traceback" not in printed
    assert (out / "latest").resolve() == before
    (partial,) = set((out / "runs").iterdir()) - runs
    assert not (partial / "results.json").exists()
    assert bench.main(["--compare", str(partial), "--out", str(out)]) == 2  # and nothing compares with it


def test_a_quick_or_partial_run_cannot_reach_the_book(first, tmp_path, capsys):
    out, run = first
    book = Path(factlab.__file__).parents[2] / "docs" / "src" / "bench"
    before = {p.name: p.read_bytes() for p in book.glob("*")} if book.is_dir() else {}
    assert bench.main(["--publish", str(run), "--out", str(out)]) == 2
    assert "quick run" in capsys.readouterr().err
    partial = tmp_path / "partial"
    partial.mkdir()
    assert bench.main(["--publish", str(partial), "--out", str(out)]) == 2
    assert "not a complete run" in capsys.readouterr().err
    if book.is_dir():  # in the repository: a "full" run that lacks the book's figures is refused too
        posing = tmp_path / "posing-as-full"
        posing.mkdir()
        data = json.loads((run / "results.json").read_text())
        (posing / "results.json").write_text(json.dumps(data | {"mode": "default"}))
        assert bench.main(["--publish", str(posing), "--out", str(out)]) == 2
        assert "the book cannot show" in capsys.readouterr().err
        assert {p.name: p.read_bytes() for p in book.glob("*")} == before


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert bench.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m factlab bench: error: ")
    return err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--backends", ""], "no backend named"),
        (["--backends", "python,nosuch"], "unknown backend nosuch"),
        (["--scenario", ""], "no scenario named"),
        (["--scenario", "nosuch"], "unknown scenario"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--quick", "--rigorous"], "not allowed with"),
        (["--against", "latest"], "--against needs --compare"),
        (["--compare", "nowhere"], "no such run"),
    ],
)
def test_bad_arguments_are_one_line_errors(argv, says, capsys, tmp_path):
    assert says in one_line_error([*argv, "--out", str(tmp_path)], capsys)
    assert not list((tmp_path / "runs").glob("*"))  # nothing ran


def test_an_unwritable_out_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert "cannot write there" in one_line_error(["--quick", "--out", str(blocker / "bench")], capsys)


def _rows(data: dict) -> list:
    return [r for rs in data["scenarios"].values() for r in rs]


MALFORMED = {
    "scenarios as a list": lambda d: d | {"scenarios": list(d["scenarios"].values())},
    "a row without backend": lambda d: [r.pop("backend") for r in _rows(d)[:1]] and d,
    "mean 0": lambda d: [r.update(mean=0) for r in _rows(d) if r["status"] == "ok"] and d,
    "mean 'fast'": lambda d: [r.update(mean="fast") for r in _rows(d) if r["status"] == "ok"] and d,
    "n '5'": lambda d: [r.update(n="5") for r in _rows(d) if "n" in r] and d,
    "another format": lambda d: d | {"format": "factlab-bench/1"},
    "an incomplete run": lambda d: d | {"complete": False},
}


@pytest.mark.parametrize("shape", [*MALFORMED, "deeply nested JSON", "not JSON", "no pyperf suite"])
def test_a_malformed_results_file_is_refused_before_the_run(shape, first, tmp_path, capsys):
    out, run = first
    bad = tmp_path / "bad-run"
    bad.mkdir()
    if shape == "deeply nested JSON":
        text = "[" * 100_000 + "]" * 100_000
    elif shape == "not JSON":
        text = "{results"
    elif shape == "no pyperf suite":
        text = (run / "results.json").read_text()
        (bad / "pyperf.json").write_text("{}")
    else:
        text = json.dumps(MALFORMED[shape](json.loads((run / "results.json").read_text())))
    (bad / "results.json").write_text(text)
    runs = sorted((out / "runs").iterdir())
    one_line_error(["--quick", "--compare", str(bad / "results.json"), "--out", str(out)], capsys)
    assert sorted((out / "runs").iterdir()) == runs  # refused before anything ran


def test_plan_follows_the_registry_and_a_modules_strategies(monkeypatch, capsys):
    module = types.ModuleType("factlab_throwaway")
    module.factorial = factlab.load("math").factorial  # type: ignore[attr-defined]
    module.strategies = {"caller-allocates": module.factorial}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "factlab_throwaway", module)
    spec = factlab.BackendSpec(
        "throwaway", "factlab_throwaway", "a test's backend", kind="ffi", tool="python"
    )
    monkeypatch.setitem(factlab._registry._REGISTERED, "throwaway", spec)
    names = bench.plan(["throwaway"], ["article", "crossing", "sweep"])
    assert "article/throwaway/factorial(25)" in names
    assert "crossing/throwaway/crossing(25)" in names  # a native backend: its bare call is timed
    assert "sweep/throwaway[caller-allocates]/factorial(35)" in names
    assert bench.main(["--plan", "--backends", "throwaway", "--scenario", "article"]) == 0
    assert capsys.readouterr().out.split() == ["article/throwaway/factorial(25)"]


def test_an_unbuilt_backend_is_left_out_of_the_plan_and_an_error_when_named(monkeypatch, capsys, tmp_path):
    name = factlab.native_names()[0]
    real_load = factlab.load

    def load(backend: str) -> object:
        if backend == name:
            raise factlab.BackendNotBuilt(f"backend {backend!r} is not built (test)")
        return real_load(backend)

    monkeypatch.setattr(factlab, "load", load)
    assert not [n for n in bench.plan(scenarios=["article"]) if f"/{name}/" in n]
    err = one_line_error(["--quick", "--backends", name, "--out", str(tmp_path)], capsys)
    assert f"backend {name} is not built" in err
    assert not list((tmp_path / "runs").glob("*"))


def test_a_scenario_measured_outside_pyperf_needs_a_function_and_a_table(monkeypatch, tmp_path):
    from factlab.bench import scenarios

    def sizes(run: Path, context: scenarios.Context) -> list[dict]:
        return [
            {"backend": b, "status": "ok", "mean": 1.0, "stdev": 0.0, "bytes": 42} for b in context.modules
        ]

    def table(res: report.Results) -> report.Table:
        return Table(
            "Sizes", ["backend", "bytes"], [[r["backend"], str(r["bytes"])] for r in res.rows("ship")]
        )

    monkeypatch.setitem(scenarios.SCENARIOS, "ship", lambda context: iter(()))
    monkeypatch.setitem(scenarios.OTHER_ROWS, "ship", sizes)
    monkeypatch.setitem(report.TABLES, "ship", table)
    assert bench.main(["--quick", "--scenario", "ship", "--backends", "math", "--out", str(tmp_path)]) == 0
    data = bench.load_run((tmp_path / "latest").resolve())
    assert data["scenarios"]["ship"] == [
        {"backend": "math", "status": "ok", "mean": 1.0, "stdev": 0.0, "bytes": 42}
    ]
    assert "### Sizes" in ((tmp_path / "latest") / "summary.md").read_text()


def test_the_pyperf_script_records_a_crash_and_a_wrong_value_and_goes_on(tmp_path):
    stdlib = factlab.spec("math").module
    entries = [
        Entry("article", "math", "math", 25, call="gcd"),  # gcd(25) is 25, not 25!
        Entry("article", "math", stdlib, 25, call="no_such_function"),
        Entry("article", "math", stdlib, 25),
    ]
    plan = {"mode": "quick", "gmpy2": False, "entries": [e.as_dict() for e in entries]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    cmd = [sys.executable, "-m", "factlab.bench._suite", str(tmp_path), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = json.loads((tmp_path / "status.json").read_text())
    assert status[entries[0].name]["status"] == "wrong"
    assert "WRONG VALUE" in status[entries[0].name]["note"]
    assert status[entries[1].name]["status"] == "failed"
    assert status[entries[2].name]["status"] == "ok"
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "pyperf.json"))
    assert suite.get_benchmark_names() == [entries[2].name]  # and pyperf timed the right function


def test_a_timer_checks_the_value_it_timed(tmp_path):
    e = Entry("sweep", "math", factlab.spec("math").module, 30)
    assert timer(e, "", tmp_path)(3) > 0
    with pytest.raises(SystemExit, match="WRONG VALUE"):
        timer(e, "1:1", tmp_path)(3)


def test_targets_read_one_way_and_a_busy_machine_is_not_judged():
    def ok(backend: str, mean: float, **fields: object) -> dict:
        return {"backend": backend, "status": "ok", "mean": mean, "stdev": 0.0, **fields}

    ext = factlab.backend_names("extension")[0]
    data = {
        "scenarios": {
            "article": [ok("python", 700e-9), ok("math", 100e-9), ok(ext, 25e-9)],
            "sweep": [ok("math", 10e-9, n=20), ok(ext, 20e-9, n=20)],
            "threads": [ok(ext, 1.0, n=9, threads=1), ok(ext, 1.0, n=9, threads=2, idle_cores=0.5)],
        }
    }
    found = {(t["target"], t["backend"]): t for t in targets.evaluate(data)}

    def T(target: str) -> tuple[str, str]:
        return target.format(X=X), ext

    assert found[T("factorial(25), {X} faster than pure Python")]["measured"] == pytest.approx(28.0)
    assert found[T("factorial(25), {X} faster than math.factorial")]["met"] is True  # 4x >= 2x
    assert found[T("factorial(20), {X} faster than math.factorial")]["met"] is False  # 0.5x < 0.77x
    busy = found[T("two threads, {X} faster than in turns")]
    assert busy["met"] is None
    assert busy["why"].startswith("not judged: machine busy")
    assert found[T("factorial(10**6), {X} faster than math.factorial")]["why"] == "not measured"
    # The table lists what the run judged (and the busy row); the rest is one count under it.
    table = report.targets_table(list(found.values()))
    listed = {(row[0], row[1]) for row in table.rows}
    assert T("factorial(20), {X} faster than math.factorial") in listed
    assert T("two threads, {X} faster than in turns") in listed
    assert T("factorial(10**6), {X} faster than math.factorial") not in listed
    unmeasured = sum(t["met"] is None and t["why"] == report.NOT_MEASURED for t in found.values())
    assert unmeasured
    assert f"{unmeasured} more need figures this run did not take" in table.notes[0]


def test_estimate_extrapolates_on_a_log_log_line():
    assert estimate([], 10) is None
    assert estimate([(0, 5.0)], 10) is None  # 0! says nothing about growth
    assert estimate([(10, 1.0)], 100) == pytest.approx(100.0)  # one point: n**2
    assert estimate([(10, 1.0), (100, 10.0)], 1000) == pytest.approx(100.0)  # slope 1
    assert estimate([(10, 1.0), (100, 1e4)], 1000) == pytest.approx(1e4 * 10**2.5)  # slope capped at 2.5
