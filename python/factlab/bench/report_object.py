"""The object scenario's table: a native object per call, and next() per step (issue 23).

Per backend: ``factorial(5)`` and ``next(Factorials(5))`` (an object made,
stepped once and dropped), the ratio its target reads, the time of one
``next()`` at n <= 20 and around 10**4 beside the pure-Python generator's, and,
where the run counted them, the instructions of ``factorial(5)`` and of
``Factorials(5)`` made and dropped (:func:`factlab.bench.scenarios.object_`
says what each entry times). The target itself is judged in
:mod:`factlab.bench.targets`; its words and bound live here, where the table
explains its misses.
"""

from __future__ import annotations

from typing import Any

from factlab import PURE
from factlab._render import Table, X, count, ns, times, why
from factlab.bench.report_shapes import problems
from factlab.bench.results import Results
from factlab.bench.scenarios import NEW, OBJECT_N, STEP, STEPS, TITLES

FACTORIAL = f"factorial({OBJECT_N})"
MADE = f"next(Factorials({OBJECT_N}))"
MADE_HEADER = "made, stepped once, dropped, ns"  # MADE in words that wrap in a narrow column
RATIO = f"{X} faster than its {FACTORIAL}"
AT_MOST = 3.0  # the target: an object made, stepped and dropped costs at most 3 of the backend's own calls
TARGET = f"{MADE}, {{X}} faster than its own {FACTORIAL}"
COUNTS = [f"{FACTORIAL} instructions", f"Factorials({OBJECT_N}) instructions"]
MADE_ROW = {"call": "Factorials", "shape": NEW}  # the fields of a row of MADE (Results.row's match)
STEP_ROW = {"call": "Factorials", "shape": STEP}  # ... and of a row of next() per step


def step_header(n: int, steps: int) -> str:
    return f"next() at n={n:,} to {n + steps - 1:,}, ns"


# The columns a terminal shows: all but the instruction counts (summary.md has them).
TERMINAL = [f"{FACTORIAL}, ns", MADE_HEADER, RATIO, *(step_header(n, k) for n, k in STEPS)]


def object_table(res: Results) -> Table:
    """One row per backend: the object per call against a plain call, then next() per step."""
    rows = res.rows("object")
    spans = sorted({(r["n"], r["steps"]) for r in rows if r.get("shape") == STEP})
    counted = any(r["status"] == "ok" and r.get("call") == "Factorials" for r in res.rows("instructions"))
    headers = ["backend", f"{FACTORIAL}, ns", MADE_HEADER, RATIO, *(step_header(*s) for s in spans)]
    t = Table(TITLES["object"], headers + COUNTS * counted)
    pure = {n: res.mean("object", PURE, n, shape=STEP) for n, _ in spans}
    for b in res.backends("object"):
        whole = next((r for r in rows if r["backend"] == b and "n" not in r), None)
        if whole:
            t.problem(b, whole)
            continue
        cells = [_cell(res, b, OBJECT_N, *factorial_5(res, b)), _cell(res, b, OBJECT_N, "object", MADE_ROW)]
        cells.append(times(ratio(res, b)))
        for n, _ in spans:
            faster = None if b == PURE else res.faster(res.mean("object", b, n, **STEP_ROW), pure[n])
            cells.append(
                _cell(res, b, n, "object", STEP_ROW) + ("" if faster is None else f" ({times(faster)})")
            )
        counts = [res.instructions(b, OBJECT_N, call) for call in ("factorial", "Factorials")]
        t.rows.append([b, *cells, *[count(c) for c in counts][: 2 * counted]])
        t.notes += problems(r for r in rows if r["backend"] == b and "name" in r)
    t.notes += _notes(res, spans, counted)
    return t


def factorial_5(res: Results, b: str) -> tuple[str, dict[str, Any]]:
    """Where the backend's factorial(5) is, (scenario, the fields of its row): timed by this scenario,
    or by the sweep when the run has it."""
    here = {"call": "factorial", "shape": ""}
    return ("object", here) if res.row("object", b, OBJECT_N, **here) else ("sweep", {})


def ratio(res: Results, b: str) -> float | None:
    """How many times faster ``next(Factorials(5))`` is than ``factorial(5)`` (below 1x: slower)."""
    scenario, plain = factorial_5(res, b)
    return res.faster(res.mean("object", b, OBJECT_N, **MADE_ROW), res.mean(scenario, b, OBJECT_N, **plain))


def _cell(res: Results, b: str, n: int, scenario: str, match: dict[str, Any]) -> str:
    """ns per call, or why none (the row is fetched only then)."""
    mean = res.mean(scenario, b, n, **match)
    return ns(mean) if mean is not None else why(res.row(scenario, b, n, **match))


def _notes(res: Results, spans: list[tuple[int, int]], counted: bool) -> list[str]:
    notes = [
        f"{MADE_HEADER}: {MADE}, an object made, stepped once ({OBJECT_N}! from the kernel's table: no "
        "arithmetic) and dropped, all in the clock: what a binding's object costs beside its plain call, "
        f"{FACTORIAL} (timed here, or the sweep's when the run has it): the Python object and its native "
        "state allocated, the state locked for the step, the destructor or finalizer when it goes. The "
        f"target: at most {AT_MOST:.0f} times the backend's own {FACTORIAL} ({RATIO} at least "
        f"{1 / AT_MOST:.3g}{X}), every native backend."
    ]
    if spans:
        notes.append(
            "next() per step: iterators made and stepped to (n-1)! before the clock (a fresh one per loop, "
            "so every loop covers the same n), then that many next() calls each; pyperf's time divided by "
            f"them. ({X}): that many times faster than the pure-Python generator, {PURE}'s Factorials. At "
            "n <= 20 a step is a table lookup and a small int: the crossing; around 10**4, one "
            "multiplication of a ~1,800-limb integer by n and the Python int made from its limbs. Every "
            "timed loop's last value was checked against n!."
        )
    if counted:
        notes.append(
            f"Instructions (callgrind): Factorials({OBJECT_N}) is the object made and dropped without its "
            f"step (the counted loop calls f({OBJECT_N}) and nothing else), beside {FACTORIAL}."
        )
    return notes + misses(res)


def misses(res: Results) -> list[str]:
    """Each backend that missed the target: by how much, and what callgrind counted, where it did."""
    out = []
    target = TARGET.format(X=X)
    for g in res.data.get("targets", []):
        if g["target"] != target or g["met"] is not False:
            continue
        b = g["backend"]
        counts = [res.instructions(b, OBJECT_N, call) for call in ("Factorials", "factorial")]
        said = (
            f"Factorials({OBJECT_N}) made and dropped counts {counts[0]:,.0f} instructions against "
            f"{FACTORIAL}'s {counts[1]:,.0f}"
            if None not in counts
            else "no instruction count in this run (add the instructions scenario: it counts both)"
        )
        out.append(f"Missed by {b}: {MADE} takes {1 / g['measured']:.3g} times its {FACTORIAL}; {said}.")
    return out
