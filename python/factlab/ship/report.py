"""ship's table: all thirteen columns in ``summary.md`` and the book, the deciding few in a terminal.

Imported by ``docs/figures.py`` with the standard library only.
"""

from __future__ import annotations

from typing import Any

from factlab._cli import narrow
from factlab._render import Table, to_markdown

TITLE = "What it costs to build, ship and import"
# The terminal's columns (besides the backend): what the machine needs, the wheel, builds and import.
TERMINAL = ["needs to build", "build: cold", "incremental", "wheel", "import via load"]


def size(n: int | None) -> str:
    """Bytes in the unit a reader takes in at once: 1.31 kB, 2.46 MB (powers of 1000)."""
    if n is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _secs(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} s"


def _artifact(r: dict[str, Any]) -> tuple[str, str]:
    """(as built, stripped): the artifact, what it opens, the static library beside it."""
    art = size(r.get("artifact_bytes")) + (f" (+ opens {size(r['opens_bytes'])})" if r.get("opens") else "")
    stripped = size(r.get("stripped_bytes"))
    if r.get("static_bytes"):
        art += f"; .a {size(r['static_bytes'])}"
    if r.get("static_stripped_bytes"):
        stripped += f"; .a {size(r['static_stripped_bytes'])}"
    return art, stripped


def _cells(r: dict[str, Any]) -> list[str]:
    lines = r.get("binding_lines")
    art, stripped = _artifact(r)
    return [
        r["backend"], ", ".join(r.get("needs_build") or []) or ("—" if r.get("shared") else "nothing"),
        ", ".join(r.get("needs_run") or []) or "—", r.get("wheel_tags") or "—",
        _secs(r.get("build_cold_s")), _secs(r.get("build_incremental_s")), art, stripped,
        size(r.get("wheel_bytes")),
        "—" if r.get("import_module_ms") is None else f"{r['import_module_ms']:.1f} ms",
        "—" if r.get("import_ms") is None else f"{r['import_ms']:.1f} ms",
        "—" if r.get("first_call_us") is None else f"{r['first_call_us']:.1f} µs",
        "—" if not lines else f"{lines['code']} / {lines['comment']} / {lines['blank']}",
    ]  # fmt: skip


def table(rows: list[dict[str, Any]]) -> Table:
    """Build, ship and import costs: one row per backend, the shared dependencies first."""
    t = Table(
        TITLE,
        ["backend", "needs to build", "needs to run", "wheel tags", "build: cold", "incremental",
         "artifact", "stripped", "wheel", "import alone", "import via load", "first call",
         "lines: code / comment / blank"],
        left=4,
    )  # fmt: skip
    for r in rows:
        if r["status"] != "ok":
            t.problem(r["backend"], r)
        else:
            t.rows.append(_cells(r))
    t.notes.append(
        "Builds: `pip wheel --no-deps --no-build-isolation` of each project in a copy of the sources. "
        "Cold: from a state where only the shared rows are built (each reported once); incremental: after "
        "a one-line change to the kernel, the backend's chain (the C ABI library first, for the backends "
        "over it). A backend without a project of its own builds nothing cold (0 s): its artifact is the "
        "shared library."
    )
    t.notes.append(
        "Artifact: the installed file its calls go through, as `just setup` built it; stripped: after "
        "`strip` (`--strip-debug` for the static library). Needs to run: Python distributions its "
        "import loads, then `ldd`. Imports: a fresh interpreter each, median of the runs (module alone: "
        "the compiled module or the backend's module; via load: `factlab.load(name)`); "
        "first call: `factorial(25)`."
    )
    return t


def terminal(rows: list[dict[str, Any]]) -> Table:
    """The table as a terminal shows it: the columns of :data:`TERMINAL`, one note."""
    t = narrow(table(rows), TERMINAL)
    t.notes = [t.notes[-1]]  # the notes of the full table are in summary.md
    return t


def summary_markdown(doc: dict[str, Any]) -> str:
    """summary.md: the run, its machine, the chart and the full table."""
    m = doc.get("machine", {})
    head = [
        "## factlab: what it costs to build, ship and import",
        "",
        f"Measured {doc['created']} in `{doc['mode']}` mode ({doc['seconds']:.0f} s), "
        f"factlab commit {m.get('commit', 'unknown')}; {doc['import_runs']} fresh imports per figure.",
        "",
        *([f"Builds failed: {doc['build_problem']}", ""] if doc.get("build_problem") else []),
        "![build, ship and import costs](chart-ship.png)",
        "",
    ]
    return "\n".join(head) + "\n" + to_markdown(table(doc["rows"]))
