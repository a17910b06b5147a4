"""The benchmark harness: runs never lost or mixed, comparisons with the right run, errors in one line.

One real ``--quick`` run (module fixture) over python, math and the first
compiled extension and FFI backend that load; the other tests read it, make
one more tiny run, or run the pyperf script on a hand-written plan. The
backends' values are the contract suite's business; here the harness is under
test. No test reads a clock: figures are compared with the run's own files.
Killed runs, runs started together and write errors are issue 24's findings.
"""

from __future__ import annotations

import ast
import datetime
import errno
import json
import math
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import conftest
import psutil
import pyperf
import pytest

import factlab
from factlab import _runs, bench, instructions
from factlab._render import X
from factlab.bench import _count, _suite, chart, report, report_object, scenarios, targets
from factlab.bench._suite import estimate, timer
from factlab.bench.results import Results
from factlab.bench.scenarios import Entry

ROOT = Path(__file__).resolve().parents[1]


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
    timed = [name for name, r in rows.items() if r["status"] == "ok" and "mean" in r]
    assert sorted(suite.get_benchmark_names()) == sorted(timed)
    assert all(r["status"] in ("ok", "skipped") for r in rows.values())
    for name in timed:
        b, r = suite.get_benchmark(name), rows[name]
        assert r["mean"] == b.mean()
        assert b.get_metadata()["factlab_checked"].startswith("every value" if r["checked"] else "no")
    assert data["machine"]["cpu_count"] >= 1
    assert {f.name for f in run.iterdir()} >= {*bench.FILES, "pyperf.json", "plan.json"}
    assert (run / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert data["complete"] is True


@pytest.mark.skipif(not instructions.available(), reason="valgrind is not installed")
def test_the_article_table_carries_the_instructions_the_run_counted(first):
    data = bench.load_run(first[1])
    counted = {
        r["backend"]: r["instructions"]
        for r in data["scenarios"]["instructions"]
        if r["call"] == "factorial" and r["n"] == scenarios.ARTICLE_N
    }
    assert set(counted) == set(BACKENDS)
    assert all(v > 0 for v in counted.values())
    table = next(t for t in report.tables(data) if t.title == report.TITLES["article"])
    column = table.headers.index(report.INSTRUCTIONS)
    shown = {row[0]: row[column] for row in table.rows if row[0] in counted}
    assert shown == {b: report.count(v) for b, v in counted.items()}


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


def _quick_bench(out: Path) -> list[str]:
    """A quick bench of the two baselines into ``out``, as a command line (for a child to kill)."""
    names = f"{factlab.PURE},{factlab.STDLIB}"
    return [sys.executable, "-m", "factlab", "bench", "--quick", "--backends", names, "--out", str(out)]


def test_an_interrupted_run_leaves_latest_unchanged(first, tmp_path):
    out, _ = first
    before = (out / "latest").resolve()
    cmd = _quick_bench(out)
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
    assert "Traceback" not in printed, printed
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


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_out_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    for d in (tmp_path, tmp_path / "runs"):
        d.chmod(0o555)
    try:
        assert "cannot write there" in one_line_error(["--quick", "--out", str(tmp_path)], capsys)
    finally:
        for d in (tmp_path, tmp_path / "runs"):
            d.chmod(0o755)


@pytest.mark.parametrize(
    ("fails", "error"),
    [
        ("chart.png", OSError(errno.ENOSPC, "No space left on device")),
        ("summary.md", PermissionError(errno.EACCES, "Permission denied")),
    ],
)
def test_a_write_error_is_one_line_the_run_partial_and_latest_unchanged(
    first, monkeypatch, capsys, fails, error
):
    out, _ = first
    before = (out / "latest").resolve()
    real = _runs.write

    def broken(path: Path, *args: object) -> None:
        raise error

    if fails == "chart.png":
        monkeypatch.setattr(chart, "slide", broken)
    else:  # summary.md is written through pathlib: fail that file only
        real_write_text = Path.write_text
        monkeypatch.setattr(
            Path,
            "write_text",
            lambda p, *a, **k: broken(p) if p.name == fails else real_write_text(p, *a, **k),
        )
    runs = set((out / "runs").iterdir())
    code = bench.main(["--quick", "--scenario", "article", "--backends", "math", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1, err
    assert f"cannot write {fails} ({error.strerror})" in err
    assert "latest is unchanged" in err
    assert (out / "latest").resolve() == before
    (partial,) = set((out / "runs").iterdir()) - runs
    assert json.loads((partial / "results.json").read_text())["complete"] is False
    assert not _runs.is_complete(partial, "results.json")
    assert real is _runs.write  # the run wrote through the one helper


def test_two_runs_started_in_the_same_second_get_two_directories(tmp_path):
    (tmp_path / "runs").mkdir()
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    first, second = (_runs.new_run(tmp_path, "quick", now) for _ in range(2))
    assert first != second
    assert first.name == "20260102-030405-quick"
    assert second.name.startswith(first.name)


def test_two_benches_started_together_both_complete(tmp_path):
    cmd = [sys.executable, "-m", "factlab", "bench", "--quick", "--scenario", "article", "--backends", "math",
           "--out", str(tmp_path)]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)
    ]
    printed = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], printed
    assert len(_runs.complete_runs(tmp_path, "results.json")) == 2


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _is_worker(p: psutil.Process) -> bool:
    try:
        return "--worker" in p.cmdline()
    except psutil.Error:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_bench_leaves_no_process_behind(tmp_path, sig):
    cmd = _quick_bench(tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and not any(map(_is_worker, _descendants(proc.pid))):
        time.sleep(0.05)  # until pyperf's manager runs a worker: the deepest tree the bench makes
    assert proc.poll() is None, "the run ended before a worker started"
    started = _descendants(proc.pid)
    proc.send_signal(sig)
    proc.wait(timeout=120)
    _, alive = psutil.wait_procs(started, timeout=60)
    assert not alive, [p.cmdline() for p in alive]
    assert not (tmp_path / "latest").exists()


def test_a_child_that_loses_its_parent_takes_its_group_down(tmp_path):
    """The mechanism alone: a parent killed outright, its child (and the child's child) follow."""
    child = tmp_path / "child.py"  # a child that starts a grandchild, then waits
    child.write_text(
        "import subprocess, sys, time\n"
        "from factlab._children import die_with_group\n"
        "die_with_group()\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "time.sleep(600)\n"
    )
    script = (
        "import sys, time\n"
        "from factlab._children import spawn\n"
        f"print(spawn([sys.executable, {str(child)!r}]).pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))  # type: ignore[union-attr]
    while len(child.children()) < 1:
        time.sleep(0.05)
    family = [child, *child.children(recursive=True)]
    parent.kill()
    parent.wait()
    _, alive = psutil.wait_procs(family, timeout=60)
    assert not alive


def _rows(data: dict) -> list:
    return [r for rs in data["scenarios"].values() for r in rs]


def _stdev(d: dict, value: float) -> dict:
    next(r for r in _rows(d) if r["status"] == "ok" and "stdev" in r)["stdev"] = value
    return d


MALFORMED = {
    "mode as a list": lambda d: d | {"mode": ["quick"]},
    "a negative stdev": lambda d: _stdev(d, -1.5),
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
    err = one_line_error(["--quick", "--compare", str(bad / "results.json"), "--out", str(out)], capsys)
    assert sorted((out / "runs").iterdir()) == runs  # refused before anything ran
    if shape == "mode as a list":
        assert "'mode' must be one of quick, default, rigorous, not ['quick']" in err
    if shape == "a negative stdev":
        assert "'stdev' must be seconds >= 0, not -1.5" in err  # the field named, and its own value


def test_a_malformed_results_file_is_one_line_and_exit_2_from_the_command_line(first, tmp_path):
    bad = tmp_path / "bad-run"
    bad.mkdir()
    data = json.loads((first[1] / "results.json").read_text())
    (bad / "results.json").write_text(json.dumps(data | {"mode": ["quick"]}))
    proc = cli("--compare", str(bad), "--against", "latest", out=first[0])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["bench", "ship"])
def test_a_missing_library_is_one_line_naming_the_extra(command, tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None  # as if not installed\n"
        "from factlab.__main__ import main\n"
        f"sys.exit(main([{command!r}, '--quick', '--out', {str(tmp_path)!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"python -m factlab {command}: error: matplotlib is not installed: pip install 'factlab[bench]'\n"
    )
    assert not list((tmp_path / "runs").glob("*"))  # nothing ran


def test_plan_follows_the_registry_and_a_modules_strategies(monkeypatch, capsys):
    module = types.ModuleType("factlab_throwaway")
    module.factorial = factlab.load("math").factorial  # type: ignore[attr-defined]
    module.strategies = {"caller-allocates": module.factorial}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "factlab_throwaway", module)
    conftest.throwaway(monkeypatch, kind="ffi", tool="python", project=None)
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


def run_suite(tmp_path: Path, entries: list[Entry]) -> dict:
    """Run the pyperf script on ``entries`` (quick mode) as the bench does; its status per entry."""
    plan = {"mode": "quick", "gmpy2": False, "entries": [e.as_dict() for e in entries]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    cmd = [sys.executable, "-m", "factlab.bench._suite", str(tmp_path), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "status.json").read_text())


def test_the_pyperf_script_records_a_crash_and_a_wrong_value_and_goes_on(tmp_path):
    stdlib = factlab.spec("math").module
    entries = [
        Entry("article", "math", "math", 25, call="gcd"),  # gcd(25) is 25, not 25!
        Entry("article", "math", stdlib, 25, call="no_such_function"),
        Entry("article", "math", stdlib, 25),
    ]
    status = run_suite(tmp_path, entries)
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


def test_targets_come_from_the_registry(monkeypatch):
    """A throwaway backend with targets of its own is judged against them, and against its kind's."""
    own = factlab.Targets(over_pure=3.0, at_35_of_math=7.0, near=(factlab.STDLIB, 2.0), fastest=True)
    conftest.throwaway(monkeypatch, kind="ffi", tool="t", project=None, targets=own)

    def ok(backend: str, mean: float, **fields: object) -> dict:
        return {"backend": backend, "status": "ok", "mean": mean, "stdev": 0.0, **fields}

    data = {
        "scenarios": {
            "article": [ok(factlab.PURE, 900e-9), ok(factlab.STDLIB, 100e-9), ok("throwaway", 100e-9)],
            "crossing": [ok("throwaway", 60e-9)],
            "sweep": [ok(factlab.STDLIB, 100e-9, n=35), ok("throwaway", 800e-9, n=35)],
        }
    }
    found = {t["target"]: t for t in targets.evaluate(data) if t["backend"] == "throwaway"}
    assert found[f"factorial(25), {X} faster than pure Python"]["required"] == 3.0
    assert found[f"factorial(25), {X} faster than pure Python"]["met"] is True  # 9x
    assert found[f"factorial(35), {X} faster than math.factorial"]["required"] == pytest.approx(1 / 7)
    assert found[f"factorial(35), {X} faster than math.factorial"]["met"] is False  # 8 times math's time
    assert found[f"factorial(25), {X} faster than {factlab.STDLIB}'s"]["required"] == 0.5
    assert f"{X} faster than gmpy2 at every n from 35 to 10**6" in found  # fastest: not measured here
    assert found[f"factorial(25), {X} faster than its bare crossing(25)"]["met"] is True  # its kind's, 0.6x
    conftest.throwaway(monkeypatch, kind="ffi", tool="t", project=None, targets=factlab.Targets())
    names = {t["target"] for t in targets.evaluate(data) if t["backend"] == "throwaway"}
    assert f"factorial(25), {X} faster than pure Python" not in names  # no bound of its own: not judged


def _module(name: str, package: Path) -> str | None:
    """``name`` if it is a module of factlab, else its nearest enclosing one (None: not factlab's)."""
    parts = name.split(".")
    while parts and parts[0] == "factlab":
        module = package.parent.joinpath(*parts)
        if module.with_suffix(".py").is_file() or (module / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return None


def _imports(path: Path, package: Path) -> set[str]:
    """The factlab modules ``path`` imports (anywhere in it: a function's import can close a cycle too).

    ``from factlab.bench import report`` imports the module factlab.bench.report; the package it is in
    is only its parent, which Python imports first whatever the order (not an edge of a cycle).
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {_module(a.name, package) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {_module(f"{node.module}.{a.name}", package) for a in node.names}
    return {m for m in found if m}


def test_no_import_cycle_in_factlab():
    package = ROOT / "python" / "factlab"
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = _imports(path, package) - {name}

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                return [*path, start]
            if nxt not in path and nxt > start:  # each cycle found once, from its smallest module
                found = cycle_from(start, [*path, nxt])
                if found:
                    return found
        return None

    cycles = [c for m in sorted(graph) if (c := cycle_from(m, [m]))]
    assert not cycles, cycles


# The harness's rooms (DEVELOPERS.md, "Small rooms"): none is kept longer today.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_small_rooms_in_factlab():
    """No module of factlab over 400 lines, no function over 60: a long one is split, not grown."""
    too_long = []
    for path in sorted((ROOT / "python" / "factlab").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}(): {lines} lines")
    assert not too_long, too_long


def test_every_module_of_factlab_imports_alone():
    """Each module in a fresh interpreter: an import cycle or a missing import would show here."""
    package = ROOT / "python" / "factlab"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if "__main__" not in parts[-1] and "_probe" not in parts[-1]:
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
    for name in names:  # one interpreter each: nothing imported by another module helps
        done = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: {done.stderr.strip().splitlines()[-1:]}"


def test_a_time_within_its_spread_of_its_neighbour_is_marked():
    points = {"a": (100.0, 1.0), "b": (101.5, 2.0), "c": (200.0, 5.0)}
    assert report.within_spread(points) == {
        "b"
    }  # b's spread (2) exceeds the gap to a (1.5); a's (1) does not
    assert report.within_spread({"a": (1.0, 0.0)}) == set()


def test_terminal_tables_fit_100_columns_without_breaking_a_word(first):
    """Every table the terminal shows, in 100 columns: a cell may wrap at a space, never mid-word."""
    from rich.console import Console

    from factlab._cli import show

    data = bench.load_run(first[1])
    for table in report.terminal_tables(data):
        console = Console(width=100, record=True)
        show(console, table)
        shown = console.export_text()
        assert max(map(len, shown.splitlines())) <= 100
        words = {w for row in table.rows for cell in row for w in cell.split()}
        assert all(w in shown for w in words), (table.title, sorted(w for w in words if w not in shown))


# Issue 21: many values in one call (batch) and decimal digits (digits), end to end over the baselines.
BASELINES = f"{factlab.PURE},{factlab.STDLIB}"


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The results of one quick run of the batch and digits scenarios over the two baselines."""
    out = tmp_path_factory.mktemp("shapes")
    proc = cli("--quick", "--scenario", "batch,digits", "--backends", BASELINES, out=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bench.load_run((out / "latest").resolve())


def test_batch_and_digits_time_every_row_and_check_every_value(shapes):
    quick = scenarios.MODES["quick"]
    rows = {r["name"]: r for s in ("batch", "digits") for r in shapes["scenarios"][s]}
    assert list(rows) == bench.plan(BASELINES.split(","), ["batch", "digits"], mode="quick")
    gmpy2 = scenarios.has_gmpy2()
    for r in rows.values():
        expected = "ok" if gmpy2 or r["backend"] != scenarios.GMPY2 else "skipped"
        assert r["status"] == expected, r
        assert expected == "skipped" or r["exact"] is True
    batch = [r for r in rows.values() if r["scenario"] == "batch"]
    assert {r["n"] for r in batch} == set(quick.batch_sizes) == {1_000}  # quick: the short batch only
    assert {(r["backend"], r["shape"]) for r in batch} >= {
        (factlab.PURE, scenarios.LIST),
        (factlab.STDLIB, scenarios.ARRAY),
        (factlab.STDLIB, scenarios.LOOP),
        (scenarios.FLOOR, scenarios.ARRAY),
    }
    digits = [r for r in rows.values() if r["scenario"] == "digits"]
    assert {r["n"] for r in digits} == set(quick.digits_ns)
    assert {(r["backend"], r["call"], r["shape"]) for r in digits} == {
        (factlab.PURE, "factorial_str", ""),
        (factlab.STDLIB, "factorial_str", ""),
        (factlab.STDLIB, "factorial", scenarios.STR),
        (scenarios.GMPY2, "fac", scenarios.STR),
    }


def test_batch_and_digits_print_their_tables(shapes):
    tables = {t.title: t for t in report.tables(shapes)}
    batch = tables[report.TITLES["batch"]]
    shown = {(row[0], row[1]): row for row in batch.rows}
    for b in (factlab.PURE, factlab.STDLIB):
        row = shown["1,000", b]
        per_value = shapes["scenarios"]["batch"]
        mean = next(r["mean"] for r in per_value if r["backend"] == b and r["shape"] == scenarios.LIST)
        assert row[2] == report.ns(mean / 1_000)  # ns per value, not per call
        assert all(cell != "—" for cell in row[2:])
    assert any("floor" in label for _, label in shown)
    digits = tables[report.TITLES["digits"] + " (seconds per call)"]
    assert [row[0] for row in digits.rows] == [
        factlab.PURE,
        factlab.STDLIB,
        "str(math.factorial(n))",
        "str(gmpy2.fac(n)), GMP",
    ]
    assert digits.headers[1:3] == ["n=1,000", "n=10,000"]
    assert any("set_int_max_str_digits(0)" in note for note in digits.notes)  # the lifted limit is said


def test_a_batch_or_digits_timer_checks_the_list_or_the_string_it_timed(tmp_path):
    stdlib = factlab.spec(factlab.STDLIB).module
    batch = Entry("batch", factlab.STDLIB, stdlib, 500, call="factorials", shape=scenarios.ARRAY)
    right = _suite.fingerprint([math.factorial(k) for k in scenarios.batch_ns(500)])
    assert timer(batch, right, tmp_path)(2) > 0
    wrong = _suite.fingerprint([math.factorial(k) for k in scenarios.batch_ns(499)] + [1])
    with pytest.raises(SystemExit, match="WRONG VALUE"):
        timer(batch, wrong, tmp_path)(2)
    digits = Entry("digits", factlab.STDLIB, stdlib, 2_000, call="factorial_str")  # past the digit limit
    assert timer(digits, _suite.digits_fingerprint(math.factorial(2_000)), tmp_path)(1) > 0
    with pytest.raises(SystemExit, match="WRONG VALUE"):
        timer(digits, _suite.digits_fingerprint(math.factorial(1_999)), tmp_path)(1)


@pytest.mark.parametrize("k", [1, 2, 17, 600, 601, 1_200, 4_000])
def test_a_digit_strings_fingerprint_is_its_numbers_without_str(k):
    for x in (10**k - 1, 10**k, 10**k + 1, 7 * 10**k // 3):
        text = str(x)  # at most 4,001 digits: under the default limit
        assert _suite.fingerprint(text) == _suite.digits_fingerprint(x)
        assert _suite.decimal_hash(text) == hash(x)
    assert _suite.decimal_hash("0" + str(10**k)) is None  # a leading zero is not n!'s string
    assert _suite.decimal_hash("12a") is None
    assert _suite.fingerprint([1, 2]) != _suite.fingerprint([1, True])  # a bool is not an int here


def test_the_pyperf_script_says_which_backend_lacks_the_function(tmp_path):
    entries = [
        Entry("batch", "math", "math", 10, call="factorials", shape=scenarios.LIST),  # the C module: no batch
        Entry("batch", scenarios.FLOOR, scenarios.FLOOR, 10, call="tolist", shape=scenarios.ARRAY),
    ]
    status = run_suite(tmp_path, entries)
    assert status[entries[0].name] == {"status": "failed", "note": "math has no factorials() (math)"}
    assert status[entries[1].name]["status"] == "ok"


def _batch_and_digits(
    means: dict[str, tuple[float, float, float]], digits: dict[str, tuple[float, float]]
) -> dict:
    """Planted results: per backend, (list, array, loop) seconds at 10**6 values, (10**5, 10**6) digits."""

    def ok(backend: str, mean: float, **fields: object) -> dict:
        return {"backend": backend, "status": "ok", "mean": mean, "stdev": 0.0, **fields}

    batch, strings = [], []
    for b, (lst, arr, loop) in means.items():
        batch += [ok(b, lst, n=10**6, call="factorials", shape=scenarios.LIST)]
        batch += [ok(b, arr, n=10**6, call="factorials", shape=scenarios.ARRAY)]
        batch += [ok(b, loop, n=10**6, call="factorial", shape=scenarios.LOOP)]
    for b, times_ in digits.items():
        call, shape = ("fac", scenarios.STR) if b == scenarios.GMPY2 else ("factorial_str", "")
        pairs = zip((10**5, 10**6), times_, strict=True)
        strings += [ok(b, t, n=n, call=call, shape=shape) for n, t in pairs]
    return {"scenarios": {"batch": batch, "digits": strings}}


def test_the_batch_and_digits_targets_pass_and_fail_as_planted(monkeypatch):
    ext, ffi = factlab.backend_names("extension")[0], factlab.backend_names("ffi")[0]
    own = factlab.Targets(
        batch_over_loop=3.0
    )  # a compiled FFI backend: the extension's bound, by the registry
    conftest.throwaway(monkeypatch, kind="ffi", tool="t", project=None, targets=own)
    data = _batch_and_digits(
        {
            ext: (25e-3, 10e-3, 50e-3),  # list 2x its loop: under 3x; array 5x
            ffi: (30e-3, 18e-3, 400e-3),  # 13x and 22x its loop: over 10x
            "throwaway": (40e-3, 30e-3, 160e-3),  # 4x: over its own 3x (an FFI's 10x would fail)
        },
        {ext: (1e-3, 30e-3), ffi: (1e-3, 10e-3), scenarios.GMPY2: (2e-3, 20e-3)},
    )
    found = {(t["target"], t["backend"]): t for t in targets.evaluate(data)}
    loop = f"factorials(10**6 values), {X} faster than its own loop of factorial calls"
    near = f"factorials(10**6 values), {X} faster than the fastest native backend's"
    gmp = f"factorial_str(n), {X} faster than str(gmpy2.fac(n))"
    miss = found[loop, ext]
    assert (miss["met"], miss["required"], miss["where"]) == (False, 3.0, "list")
    assert miss["measured"] == pytest.approx(2.0)
    assert (found[loop, ffi]["met"], found[loop, ffi]["required"]) == (True, 10.0)
    assert (found[loop, "throwaway"]["met"], found[loop, "throwaway"]["required"]) == (True, 3.0)
    assert found[near, ext]["met"] is True  # the fastest with an array('Q'): 1x; list 25 ms vs 25 ms
    assert found[near, ffi]["met"] is True  # 0.83x (list), 0.56x (array('Q')): within 2x
    assert found[near, "throwaway"]["met"] is False  # array 30 ms against 10 ms: 0.33x < 0.5x
    assert found[near, "throwaway"]["measured"] == pytest.approx(1 / 3)
    assert found[gmp, ffi]["met"] is True  # 2x at 10**5, 2x at 10**6
    assert (found[gmp, ext]["met"], found[gmp, ext]["where"]) == (False, "n=1,000,000")
    assert found[gmp, ext]["measured"] == pytest.approx(2 / 3)
    assert found[gmp, "throwaway"]["why"] == report.NOT_MEASURED  # no factorial_str timed: not judged
    table = report.targets_table(list(found.values()))
    row = next(r for r in table.rows if r[:2] == [gmp, ext])
    assert row[2:] == [f"0.667{X} (n=1,000,000)", f"≥ 1{X}", "NOT MET"]  # a miss shows its ratio


# Issue 22: native code calling back into Python, Ctrl-C in a long call, the kernel's hook.
def test_the_callback_scenario_measures_each_part_for_the_backends_it_concerns(first):
    data = bench.load_run(first[1])
    rows = {r["name"]: r for r in data["scenarios"]["callback"] if "name" in r}
    assert list(rows) == bench.plan(BACKENDS, ["callback"], mode="quick")
    runs = scenarios.MODES["quick"].control_runs
    for b in BACKENDS:
        spec = factlab.spec(b)
        mine = [r for r in rows.values() if r["backend"] == b]
        timed = {(r["call"], r["shape"]) for r in mine if r["status"] == "ok" and r.get("mean", 0) > 0}
        assert timed == {
            ("factorial", ""),
            ("factorial_progress", scenarios.HOOK),
        }  # checked, like any timing
        sigints = [r for r in mine if r["shape"] == scenarios.SIGINT]
        assert [r["n"] for r in sigints] == (list(scenarios.SIGINT_NS) if spec.ctrl_c else [])
        for r in sigints:  # every run either got its KeyboardInterrupt or returned before the signal
            assert r["status"] == "ok", r
            assert len(r["latencies_ms"]) + len(r["finished_first_ms"]) == r["runs"] == runs
            assert r["stopped"] <= len(r["latencies_ms"])
        (paired,) = [r for r in mine if r["shape"] == scenarios.PAIRED] or [None]
        assert (paired is not None) == spec.native
        if paired is not None:
            assert paired["status"] == "ok", paired
            assert paired["without"] is None or (paired["pairs"] == runs and paired["without_s"] > 0)
    table = next(t for t in report.tables(data) if t.title == report.TITLES["callback"])
    assert [row[0] for row in table.rows] == BACKENDS
    judged = {(t["target"], t["backend"]) for t in data["targets"]}
    sigint = f"SIGINT to KeyboardInterrupt in factorial(n) (median), {X} faster than 100 ms"
    assert {b for t, b in judged if t == sigint} == {b for b in BACKENDS if factlab.spec(b).ctrl_c}


def test_a_sigint_stops_a_call_that_lets_python_in_and_the_probe_tells_the_hook_from_none():
    from factlab.bench import _control

    stopped = _control.interrupt_once(time.sleep, 5)  # a sleep runs the handler as the signal comes
    assert stopped["stopped"] is True
    assert 0 <= stopped["latency_ms"] < 5_000  # sent 30 ms into the sleep of 5 s it stopped: caught in it
    assert "finished_ms" in _control.interrupt_once(abs, -1)  # returned before any signal: none sent
    assert _control.lets_signals_in(time.sleep, 0.3) == (True, None)  # Python code, or a hook, runs them
    n = 3 * 10**7  # one C loop: handlers only after it; its value comes back with the answer
    assert _control.lets_signals_in(lambda k: sum(range(k)), n) == (False, n * (n - 1) // 2)


def test_the_callback_targets_pass_and_fail_as_planted():
    ext, last = factlab.backend_names("extension")[0], factlab.native_names()[-1]
    ffi, other = factlab.backend_names("ffi")[:2]

    def sigint(b: str, n: int, median: float | None) -> dict:
        r = {"backend": b, "status": "ok", "n": n, "call": "factorial", "shape": scenarios.SIGINT, "runs": 5}
        return r | ({"median_ms": median} if median is not None else {})

    def paired(b: str, cost: float | None, idle: float) -> dict:
        r = {"backend": b, "status": "ok", "n": scenarios.HOOK_N, "call": "factorial"}
        got = {"without": None} if cost is None else {"without": "x", "hook_cost": cost, "idle_cores": idle}
        return r | {"shape": scenarios.PAIRED} | got

    rows = [sigint(ext, 10**6, 12.0), sigint(ext, 10**7, 140.0), sigint(ffi, 10**6, 9.0)]
    rows += [sigint(ffi, 10**7, None)]  # every call returned before its signal: no figure, not a miss
    rows += [paired(ext, 0.05, 2.0), paired(ffi, 0.01, 1.9), paired(other, 0.0, 0.9), paired(last, None, 2.0)]
    found = {(t["target"], t["backend"]): t for t in targets.evaluate({"scenarios": {"callback": rows}})}
    ctrl_c = f"SIGINT to KeyboardInterrupt in factorial(n) (median), {X} faster than 100 ms"
    hook = f"factorial(10**6) through the kernel's hook, {X} faster than without it"
    assert (found[ctrl_c, ext]["met"], found[ctrl_c, ext]["where"]) == (False, "n=10,000,000")  # 140 ms
    assert (found[ctrl_c, ffi]["met"], found[ctrl_c, ffi]["measured"]) == (True, pytest.approx(100 / 9))
    assert (found[hook, ext]["met"], found[hook, ffi]["met"]) == (False, True)  # 5% and 1% against 2%
    assert found[hook, other]["why"] == "not judged: machine busy (0.9 idle cores)"
    assert found[hook, last]["why"].startswith("not judged: every path")


# Issue 23: a native object per call (next(Factorials(5))) and next() per step, in the quick run of `first`.
def test_the_object_scenario_times_every_row_and_skips_a_backend_without_factorials(first):
    data = bench.load_run(first[1])
    rows = {r["name"]: r for r in data["scenarios"]["object"] if "name" in r}
    assert list(rows) == bench.plan(BACKENDS, ["object"], mode="quick")  # quick's sweep lacks 5: timed here
    suite = pyperf.BenchmarkSuite.load(str(first[1] / "pyperf.json"))
    for r in rows.values():
        if not hasattr(factlab.load(r["backend"]), r["call"]):  # none yet: said, not a crash, not a failure
            module = factlab.spec(r["backend"]).module
            assert (r["status"], r["note"]) == ("skipped", f"{r['backend']} has no Factorials() ({module})")
            continue
        assert r["status"] == "ok", r
        assert r["exact"] is True  # every timed loop's last value checked against n!
        if r["shape"] == scenarios.STEP:  # pyperf's figure is one step: the loop's steps are its inner loops
            assert suite.get_benchmark(r["name"]).get_metadata()["inner_loops"] == r["steps"]
    assert {(r["n"], r["steps"]) for r in rows.values() if r["shape"] == scenarios.STEP} == set(
        scenarios.STEPS
    )
    table = next(t for t in report.tables(data) if t.title == report.TITLES["object"])
    assert [row[0] for row in table.rows] == BACKENDS
    target = report_object.TARGET.format(X=X)
    judged = {g["backend"] for g in data["targets"] if g["target"] == target and g["met"] is not None}
    made = {r["backend"] for r in rows.values() if r["shape"] == scenarios.NEW and r["status"] == "ok"}
    assert judged == {b for b in made if factlab.spec(b).native}


def test_an_object_timer_checks_the_last_value_it_timed(tmp_path):
    pure = factlab.spec(factlab.PURE).module
    made = Entry("object", factlab.PURE, pure, 5, call="Factorials", shape=scenarios.NEW)
    steps = Entry("object", factlab.PURE, pure, 30, call="Factorials", shape=scenarios.STEP, steps=4)
    assert steps.last == 33
    for e in (made, steps):
        assert timer(e, _suite.fingerprint(math.factorial(e.last)), tmp_path)(3) > 0
        with pytest.raises(SystemExit, match="WRONG VALUE"):
            timer(e, _suite.fingerprint(math.factorial(e.last - 1)), tmp_path)(3)


def test_the_pyperf_script_skips_a_backend_without_factorials_and_times_steps_per_step(tmp_path):
    pure = factlab.spec(factlab.PURE).module
    entries = [
        Entry("object", "math", "math", 5, call="Factorials", shape=scenarios.NEW),  # the C module: none
        Entry("object", factlab.PURE, pure, 5, call="Factorials", shape=scenarios.STEP, steps=16),
    ]
    status = run_suite(tmp_path, entries)
    assert status[entries[0].name] == {"status": "skipped", "note": "math has no Factorials() (math)"}
    assert status[entries[1].name]["status"] == "ok"
    bench_ = pyperf.BenchmarkSuite.load(str(tmp_path / "pyperf.json")).get_benchmark(entries[1].name)
    assert bench_.get_metadata()["inner_loops"] == 16
    counted = Entry("instructions", "math", "math", 5, call="Factorials", checked=False)
    assert _count.count(counted, 10) == {"status": "skipped", "note": "math has no Factorials() (math)"}


def test_the_object_target_passes_and_fails_as_planted():
    ext, ffi = factlab.backend_names("extension")[0], factlab.backend_names("ffi")[0]
    n = scenarios.OBJECT_N

    def ok(backend: str, mean: float, **fields: object) -> dict:
        return {"backend": backend, "status": "ok", "mean": mean, "stdev": 0.0, "n": n, **fields}

    def counted(backend: str, call: str, value: float) -> dict:
        return {"backend": backend, "status": "ok", "n": n, "call": call, "instructions": value}

    made = {"call": "Factorials", "shape": scenarios.NEW}
    data = {
        "scenarios": {
            "object": [
                ok(ext, 100e-9, call="factorial", shape=""),
                ok(ext, 250e-9, **made),
                ok(ffi, 900e-9, **made),
            ],
            "sweep": [ok(ffi, 200e-9, call="factorial")],  # the ffi's factorial(5): from the sweep
            "instructions": [counted(ffi, "factorial", 1_700.0), counted(ffi, "Factorials", 10_600.0)],
        }
    }
    data["targets"] = targets.evaluate(data)
    found = {g["backend"]: g for g in data["targets"] if g["target"] == report_object.TARGET.format(X=X)}
    assert (found[ext]["met"], found[ext]["measured"]) == (True, pytest.approx(0.4))  # 2.5 times: within 3
    assert (found[ffi]["met"], found[ffi]["measured"]) == (False, pytest.approx(2 / 9))  # 4.5 times
    table = report_object.object_table(Results(data))
    assert [row[0] for row in table.rows] == [ext, ffi]
    assert table.rows[1][1:4] == ["200", "900", f"0.222{X}"]
    assert table.rows[1][-2:] == ["1,700", "10,600"]
    (miss,) = [note for note in table.notes if note.startswith("Missed by")]
    assert miss.startswith(f"Missed by {ffi}: next(Factorials(5)) takes 4.5 times its factorial(5)")
    assert "10,600 instructions against factorial(5)'s 1,700" in miss
