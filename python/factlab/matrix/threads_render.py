"""The free-threading tables of ``summary.md`` and their figures: the GIL after each import on a
free-threaded CPython, and threads measured there and on the GIL build beside it."""

from __future__ import annotations

from typing import Any

from factlab._render import Table, X, code
from factlab.matrix.markdown import MARKS, figure, refer

GIL_WORDS = {"on": "**on**", "off": "off"}


def free_threaded(results: dict[str, Any]) -> list[str]:
    """The free-threaded interpreters of the run (the id ends in ``t``: ``cpython-3.13t``)."""
    return [i["id"] for i in results["interpreters"] if not i.get("missing") and i["id"].endswith("t")]


def free_threading_table(results: dict[str, Any], interp: str) -> Table:
    headers = ["backend", "status", "GIL after import", "CPython said", "the module declares", "8 threads"]
    table = Table(f"{interp}: the GIL after each import", headers, left=len(headers))
    table.notes.append(
        "Each backend imported alone, in a child of its own: `sys._is_gil_enabled()` right after the "
        "import, and the RuntimeWarning CPython raised; '8 threads': tests/test_contract.py's "
        "test_eight_threads_agree_with_math, with CPython's GIL warning an error where the GIL stayed off. "
        "A backend not ok: the status table gives its tool's words, and where the tool documents its reach."
    )
    for cell in (c for c in results["cells"] if c["interpreter"] == interp):
        gil = cell.get("gil") or {}
        after = gil.get("after_import", "")
        said = "nothing"
        if gil.get("warning"):
            said = "RuntimeWarning" + refer(table.notes, code(gil["warning"]))
        row = [cell["backend"], MARKS[cell["status"]], GIL_WORDS.get(after, after)]
        row += [said if after else "", gil.get("declares", ""), gil.get("eight_threads", "")]
        table.rows.append(row)
    return table


def free_threading_tables(results: dict[str, Any]) -> list[Table]:
    return [free_threading_table(results, interp) for interp in free_threaded(results)]


def ratios(row: dict[str, Any], idle_needed: float) -> dict[str, Any]:
    """A row's two ratios (2 threads' calls/s over 1's; two big calls' time over one's), or why they are
    not judged: a machine with fewer idle cores than two threads need."""
    if row.get("status") != "ok":
        return {"calls": None, "big": None, "why_not": ""}
    idle = row.get("idle_cores")
    if idle is None or idle < idle_needed:
        busy = "unknown (no psutil)" if idle is None else f"{idle:.1f}"
        return {"calls": None, "big": None, "why_not": f"not judged: machine busy ({busy} idle cores)"}
    calls, big = row["calls_per_s"], row["big_s"]
    return {"calls": calls["2"] / calls["1"], "big": big["2"] / big["1"], "why_not": ""}


def rate(calls_per_s: float) -> str:
    if calls_per_s >= 1e6:
        return f"{calls_per_s / 1e6:.2f} M/s"
    return f"{calls_per_s / 1e3:.0f} k/s"


def ratio_text(table: Table | None, value: float | None, why_not: str) -> str:
    """A ratio, or "not judged" with why: a numbered note in a table, the words in a figure."""
    if value is not None:
        return f"{value:.2f}{X}"
    if not why_not:
        return ""
    return "not judged" + refer(table.notes, why_not) if table is not None else why_not


def threads_table(results: dict[str, Any]) -> Table:
    """Per backend, per interpreter: calls/s from 1 thread and 2, their ratio, and the big call's ratio."""
    threads = results.get("threads") or {}
    rows = threads.get("rows", [])
    interps = list(dict.fromkeys(r["interpreter"] for r in rows))
    headers = ["backend"]
    for i in interps:
        headers += [f"{i}: 1 thread", "2 threads", "2 / 1", "two 100,000! / one"]
    title = (
        "Threads: factorial(25) calls per second from 1 thread and from 2; factorial(100_000) twice at once"
    )
    table = Table(title, headers)
    table.notes += [
        f"{threads.get('describe', '')}.",
        f"2 / 1: 2.00{X} is two threads doing twice the calls, 1.00{X} no more than one. Two 100,000! / one: "
        f"the time of two in parallel over one's, 1.00{X} when they overlap entirely, 2.00{X} when they run "
        "one after the other.",
        f"A ratio needs {threads.get('idle_needed', 0):g} cores left idle by the rest of the machine while "
        "it is measured (all cores, less the CPU time spent by all but the measuring process: psutil, "
        "getrusage): on a busier machine it is not judged.",
    ]
    by = {(r["interpreter"], r["backend"]): r for r in rows}
    for backend in dict.fromkeys(r["backend"] for r in rows):
        line = [backend]
        for i in interps:
            line += threads_cells(table, by.get((i, backend)), threads.get("idle_needed", 0))
        table.rows.append(line)
    return table


def threads_cells(table: Table, row: dict[str, Any] | None, idle_needed: float) -> list[str]:
    """The four cells of one backend on one interpreter."""
    if row is None:
        return ["", "", "", ""]
    if row["status"] != "ok":
        return [
            MARKS["failed"] + refer(table.notes, f"**{row['backend']}**: {code(row['reason'])}"),
            "",
            "",
            "",
        ]
    calls = row["calls_per_s"]
    gil = (
        refer(table.notes, "the GIL was on: the backend's import turned it on")
        if row.get("gil_enabled")
        else ""
    )
    judged = ratios(row, idle_needed)
    return [
        rate(calls["1"]) + gil,
        rate(calls["2"]),
        ratio_text(table, judged["calls"], judged["why_not"]),
        ratio_text(table, judged["big"], judged["why_not"]),
    ]


def threads_figures(results: dict[str, Any]) -> list[str]:
    """Single figures: the GIL after each import on a free-threaded CPython, and each threads ratio."""
    out: list[str] = []
    for cell in results["cells"]:
        if cell["interpreter"] in free_threaded(results):
            prefix = f"{cell['interpreter']}-{cell['backend']}"
            after = (cell.get("gil") or {}).get("after_import")
            out += figure(f"{prefix}-gil", after or cell["status"])
            if cell["status"] != "ok":  # the tool's own words, for the book's sentences
                out += figure(f"{prefix}-why", code(cell["reason"]))
    threads = results.get("threads") or {}
    for row in threads.get("rows", []):
        prefix = f"{row['interpreter']}-{row['backend']}-threads"
        judged = ratios(row, threads.get("idle_needed", 0))
        if row["status"] == "ok":
            out += figure(f"{prefix}-calls", ratio_text(None, judged["calls"], judged["why_not"]))
            out += figure(f"{prefix}-big", ratio_text(None, judged["big"], judged["why_not"]))
    return out
