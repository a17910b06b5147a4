"""The ship scenario (issue 15): its figures match the disk, its builds never touch the tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import factlab
from factlab import bench
from factlab.bench import ship
from factlab.bench.scenarios import DEFAULT_SCENARIOS, MODES, OTHER_ROWS, SCENARIOS, Context, load

ROOT = Path(__file__).resolve().parent.parent


def test_ship_is_named_not_default_and_times_nothing_with_pyperf():
    assert "ship" in SCENARIOS
    assert "ship" in OTHER_ROWS
    assert "ship" not in DEFAULT_SCENARIOS
    assert bench.plan(scenarios=["ship"]) == []
    assert not [n for n in bench.plan() if n.startswith("ship/")]


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
    counts = ship.count_lines(path)
    assert (counts["code"], counts["comment"], counts["blank"]) == expected
    assert sum(counts.values()) == len(text.splitlines())


def test_the_one_line_change_goes_into_the_copy_only(tmp_path):
    before = (ROOT / ship.CORE_SOURCE).read_bytes()
    builder = ship.Builder(ROOT, tmp_path, say=lambda _: None)
    assert (builder.src / ship.CORE_SOURCE).read_bytes() == before
    builder.change()
    copy = (builder.src / ship.CORE_SOURCE).read_text()
    assert copy.splitlines()[:-1] == before.decode().splitlines()
    assert (ROOT / ship.CORE_SOURCE).read_bytes() == before


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The ship rows of every built backend, builds left out (they take minutes: CI runs them)."""
    run = tmp_path_factory.mktemp("run")
    patch = pytest.MonkeyPatch()
    patch.setattr(ship, "measure_builds", lambda *a: {"shared": {}, "cold": {}, "incremental": {}})
    patch.setitem(ship.IMPORT_RUNS, "quick", 1)
    try:
        modules, _ = load(None)
        rows = ship.rows(run, Context(MODES["quick"], modules, False), say=lambda _: None)
    finally:
        patch.undo()
    return rows, json.loads((run / "ship.json").read_text())


def test_ship_json_is_the_rows_and_has_every_backend(shipped):
    rows, doc = shipped
    assert doc["format"] == ship.FORMAT
    assert doc["rows"] == rows
    names = [r["backend"] for r in rows if not r.get("shared")]
    assert names == [n for n in factlab.backend_names() if n in names]
    assert set(factlab.native_names()) <= set(names)


@pytest.mark.parametrize("backend", factlab.backend_names())
def test_sizes_match_the_disk(shipped, backend):
    rows, _ = shipped
    row = next((r for r in rows if r["backend"] == backend), None)
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
    rows, _ = shipped
    for row in rows:
        if row.get("shared") or row["status"] != "ok" or not factlab.spec(row["backend"]).native:
            continue
        spec = factlab.spec(row["backend"])
        assert "Rust (cargo)" in row["needs_build"]  # the kernel is Rust, whatever the binding
        static = spec.clib == "static" or (spec.clib == "none" and spec.extension)
        if static and row["artifact"].endswith(".so"):
            assert not any("factlab_clib" in lib for lib in row["needs_run"])  # linked in, not loaded
