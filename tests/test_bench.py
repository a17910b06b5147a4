"""The benchmark harness: a --quick run end to end, its files, --compare, and its edge cases.

One real `python -m factlab bench --quick` run (module fixture) over python,
math and two native backends that load (the first and the last of the
registry's order: a compiled extension and an FFI, when both are built); the
other tests read its output or run single jobs. Every backend's values are the
contract suite's business; here the harness is under test, and this keeps the
file well under half a minute.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import factlab
from factlab import bench
from factlab.bench import report, scenarios
from factlab.bench.scenarios import MODES, SCENARIOS, Session, Settings, estimate


def loaded_backends() -> list[str]:
    """python, math, and the first and last native backends that load."""
    natives = []
    for name in factlab.backend_names():
        if name in ("python", "math"):
            continue
        try:
            factlab.load(name)
        except factlab.BackendNotBuilt:
            continue
        natives.append(name)
    return ["python", "math", *sorted(set(natives[:1] + natives[-1:]), key=natives.index)]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[str], str]:
    out = tmp_path_factory.mktemp("bench")
    names = loaded_backends()
    assert {"python", "math"} <= set(names)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "factlab",
            "bench",
            "--quick",
            "--backends",
            ",".join(names),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "results.json").read_text())
    return out, data, names, proc.stdout


def ok_rows(data: dict, scenario: str) -> list[dict]:
    return [r for r in data["scenarios"][scenario]["rows"] if r["status"] == "ok"]


def test_quick_run_has_every_scenario_and_the_machine(quick_run):
    out, data, names, stdout = quick_run
    assert data["format"] == report.FORMAT
    assert data["mode"]["name"] == "quick"
    assert set(data["scenarios"]) == set(SCENARIOS)
    machine = data["machine"]
    assert machine["cores"] >= 1
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["packages"]["pyperf"]
    assert data["backends"] == dict.fromkeys(names, "built")
    for title in scenarios.TITLES.values():
        assert title[:20] in stdout  # every table printed (rich may wrap a long title)
    assert str(out) in stdout  # and where the files went


def test_article_rows_are_sane_and_exact(quick_run):
    _, data, names, _ = quick_run
    result = data["scenarios"]["article"]
    rows = {r["backend"]: r for r in result["rows"]}
    assert set(rows) == set(names)
    for name, row in rows.items():
        assert row["status"] == "ok", row
        assert row["exact"] is True, name
        timing = row["timings"]["factorial"]
        assert 0 < timing["min"] <= timing["mean"] < 1e-3  # 25! takes well under a millisecond
        assert all(v > 0 for v in timing["values"])
        assert row["ns_per_call"] == pytest.approx(timing["mean"] * 1e9)
        assert row["seconds_per_million"] == pytest.approx(timing["mean"] * 1e6)
        assert row["ratio_to_math"] > 0
    assert rows["python"]["speedup_vs_python"] == pytest.approx(1.0)
    assert rows["math"]["ratio_to_math"] == pytest.approx(1.0)
    assert result["article_figures"]["pure_python_seconds"] == 1.91


def test_crossing_rows(quick_run):
    _, data, names, _ = quick_run
    rows = {r["backend"]: r for r in data["scenarios"]["crossing"]["rows"]}
    assert rows["python"]["status"] == "skipped"  # nothing native to cross
    assert rows["math"]["exactness_ns"] == 0  # math's crossing is math.factorial
    for name in names:
        if name == "python":
            continue
        assert rows[name]["crossing_ns"] > 0
        assert rows[name]["factorial_ns"] > 0


def test_sweep_covers_every_backend_and_n(quick_run):
    _, data, names, _ = quick_run
    result = data["scenarios"]["sweep"]
    assert result["ns"] == list(MODES["quick"].sweep_ns)
    cells = {(r["backend"], r["n"]): r for r in ok_rows(data, "sweep")}
    assert set(cells) == {(b, n) for b in names for n in result["ns"]}
    assert all(r["exact"] and r["ns_per_call"] > 0 for r in cells.values())


def test_big_rows_are_checked_values(quick_run):
    _, data, names, _ = quick_run
    rows = ok_rows(data, "big")
    expected = set(names) | ({"gmpy2"} if data["gmpy2"] else set())
    assert {r["backend"] for r in rows} == expected
    for r in rows:
        assert r["exact"] is True
        assert r["seconds"] > 0
    math_row = next(r for r in rows if r["backend"] == "math")
    assert math_row["speedup_vs_math"] == pytest.approx(1.0)


def test_threads_rows(quick_run):
    _, data, names, _ = quick_run
    result = data["scenarios"]["threads"]
    assert result["n"] == MODES["quick"].threads_n
    for r in result["rows"]:
        assert r["status"] in ("ok", "skipped"), r
        if r["status"] == "ok":
            assert r["t1"] > 0
            assert r["t2"] > 0
            assert r["speedup"] == pytest.approx(2 * r["t1"] / r["t2"])
            assert r["releases_gil"] in ("yes", "no", "partly", "unknown (one core)")
    assert {r["backend"] for r in result["rows"]} == set(names)


def test_files_chart_summary_and_raw_pyperf(quick_run):
    out, data, _, _ = quick_run
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text()
    for title in scenarios.TITLES.values():
        assert title in summary
    assert "![" in summary
    assert "chart.png" in summary
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(out / "pyperf" / "article.json"))
    assert len(suite.get_benchmarks()) == len(data["scenarios"]["article"]["rows"])


def test_compare_against_reports_every_shared_figure(quick_run, tmp_path, capsys):
    _out, data, _, _ = quick_run
    old = json.loads(json.dumps(data))
    for scenario in old["scenarios"].values():
        for row in scenario["rows"]:
            for timing in row.get("timings", {}).values():
                timing["mean"] *= 2  # the old run was twice as slow
                timing["stdev"] = 0.0
    for row in data["scenarios"]["article"]["rows"]:
        for timing in row.get("timings", {}).values():
            timing["stdev"] = 0.0
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(json.dumps(old))
    new_path.write_text(json.dumps(data))

    changes = report.compare(old, data)
    assert changes
    assert all(c["speedup"] == pytest.approx(2.0) for c in changes)
    article = [c for c in changes if c["scenario"] == "article"]
    assert len(article) == len(ok_rows(data, "article"))
    assert all(not c["within_noise"] for c in article)

    assert bench.main(["--compare", str(old_path), "--against", str(new_path)]) == 0
    printed = capsys.readouterr().out
    assert "100.0% faster" in printed
    assert "cython" in printed or "math" in printed


def test_compare_after_a_run(quick_run, tmp_path, capsys):
    out, _, _, _ = quick_run
    old = tmp_path / "old.json"
    shutil.copyfile(out / "results.json", old)
    code = bench.main(
        [
            "--quick",
            "--scenario",
            "article",
            "--backends",
            "math",
            "--out",
            str(tmp_path / "new"),
            "--compare",
            str(old),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "Change from" in printed
    assert "faster" in printed or "slower" in printed
    assert (tmp_path / "new" / "results.json").exists()


def test_a_second_run_keeps_the_previous_results(tmp_path):
    args = ["--quick", "--scenario", "article", "--backends", "math", "--out", str(tmp_path)]
    assert bench.main(args) == 0
    first = (tmp_path / "results.json").read_text()
    assert bench.main(args) == 0
    assert (tmp_path / "results.previous.json").read_text() == first


def test_unbuilt_backends_are_skipped_rows_or_errors(monkeypatch, tmp_path, capsys):
    real_load = factlab.load

    def load(name: str):
        if name not in ("python", "math"):
            raise factlab.BackendNotBuilt(f"backend {name!r} is not built (test)")
        return real_load(name)

    monkeypatch.setattr(factlab, "load", load)
    code = bench.main(["--quick", "--scenario", "article,crossing", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "skipped: not built" in printed
    data = json.loads((tmp_path / "results.json").read_text())
    rows = {r["backend"]: r for r in data["scenarios"]["article"]["rows"]}
    assert rows["pyo3"]["status"] == "skipped"
    assert "not built" in rows["pyo3"]["note"]
    assert rows["math"]["status"] == "ok"

    # Named on the command line, an unbuilt backend is an error, not a silent skip.
    assert bench.main(["--quick", "--backends", "python,pyo3", "--out", str(tmp_path)]) == 2
    assert "pyo3" in capsys.readouterr().err


def test_bad_arguments(capsys):
    assert bench.main(["--backends", "nosuch"]) == 2
    assert "unknown backend" in capsys.readouterr().err
    assert bench.main(["--scenario", "nosuch"]) == 2
    assert bench.main(["--against", "x.json"]) == 2
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--rigorous"])


def _session(tmp_path: Path) -> Session:
    class Quiet:
        def start(self, label: str) -> None:
            pass

        def done(self, label: str, outcome: str, advance: bool = True) -> None:
            pass

    return Session(
        mode=MODES["quick"], backends=["math"], modules={"math": math}, out_dir=tmp_path, progress=Quiet()
    )


def test_a_wrong_value_is_reported_not_timed(tmp_path):
    s = _session(tmp_path)
    settings = Settings(processes=1, values=1, warmups=0, min_time=0.001, loops=1)
    outcome = s.job("big", "math", "factorial", 1000, settings, kind="call", expect=(1, 1))
    assert outcome["status"] == "wrong"
    assert "math.factorial(1000) gave a wrong value" in outcome["note"]
    right = s.job("big", "math", "factorial", 1000, settings, kind="call", expect=s.reference(1000)[0])
    assert right["status"] == "ok"
    assert right["timing"]["mean"] > 0


def test_a_crashing_job_is_a_failed_row(tmp_path):
    s = _session(tmp_path)
    settings = Settings(processes=1, values=1, warmups=0, min_time=0.001, loops=1)
    outcome = s.job("article", "math", "no_such_function", 25, settings)
    assert outcome["status"] == "failed"
    assert "no_such_function" in outcome["note"]


def test_estimate_extrapolates_on_a_log_log_line():
    assert estimate([], 10) is None
    assert estimate([(10, 1.0)], 10) == 1.0
    assert estimate([(10, 1.0)], 100) == pytest.approx(100.0)  # one point: n**2
    assert estimate([(10, 1.0), (100, 10.0)], 1000) == pytest.approx(100.0)  # slope 1
    assert estimate([(10, 1.0), (100, 1e4)], 1000) == pytest.approx(1e4 * 10**2.5)  # slope capped at 2.5


def test_repo_root_is_found_from_a_subdirectory():
    root = bench.repo_root(Path(__file__).parent)
    if root is None:  # tests run from an installed copy: nothing to find
        pytest.skip("not inside the factlab repository")
    assert (root / "Cargo.toml").is_file()
    assert bench.repo_root(root / "python" / "factlab") == root


def test_targets_are_judged_from_the_runs_figures() -> None:
    from factlab.bench import targets

    def ok(backend: str, **fields: object) -> dict[str, object]:
        return {"backend": backend, "status": "ok", **fields}

    data = {
        "scenarios": {
            "article": {
                "rows": [
                    ok("capi", speedup_vs_python=30.0, ratio_to_math=0.25, ns_per_call=20.0),
                    ok("pyo3", speedup_vs_python=10.0, ratio_to_math=0.6, ns_per_call=30.0),
                ]
            },
            "crossing": {"rows": [ok("ctypes", exactness_ratio=2.5)]},
        }
    }
    found = {(t["target"], t["backend"]): t["met"] for t in targets.evaluate(data)}
    assert found[("factorial(25): speed-up over pure Python", "capi")] is True
    assert found[("factorial(25): speed-up over pure Python", "pyo3")] is False  # 10x < 14x
    assert found[("factorial(25): speed-up over math.factorial", "pyo3")] is False  # 1.67x < 2x
    assert found[("factorial(25): pyo3 time / capi time", "pyo3")] is False  # 1.5x > 1.2x
    assert found[("factorial(25) / bare crossing(25)", "ctypes")] is False
    # No figure, no verdict: a scenario that did not run is "not measured".
    assert found[("factorial(10**6): speed-up over math.factorial", "capi")] is None
    assert found[("factorial(20): time / math.factorial(20)'s", "capi")] is None
