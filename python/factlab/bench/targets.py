"""The speed targets, judged in every run from the run's own figures.

Each target is a ratio within one run, read one way: "r x faster than ...",
and required to be at least some bound (a bound below 1x allows that much
slowness: 0.77x is "at most 1.3 times the time"). A target over several n is
judged on its worst n. Which backends a target concerns comes from the
registry (kind "extension" or "ffi"); the few targets about one named backend
are the issues' own (issue 6: capi, pyo3; issue 16: capi and the FFI modes).
docs/src/targets.md says where each target comes from and what stops a miss.
"""

from __future__ import annotations

from typing import Any

import factlab
from factlab.bench.report import NOT_MEASURED, Results, X
from factlab.bench.scenarios import GMPY2, GMPY2_NS

OVER_PYTHON = {"capi": 18.0}  # the other extensions: 14x, the seed article's ratio
# Issue 16: factorial(35) through an FFI at most N times math's, by how the
# backend reaches the C ABI (tool, link): cffi's API mode, its ABI modes, ctypes.
AT_35 = {("cffi", "static"): 3.0, ("cffi", "dlopen"): 4.0, ("ctypes", "dlopen"): 5.0}
IDLE_CORES = 1.8  # two threads can only run at once on two idle cores


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target for every backend of the run it concerns; a target is written "{X} faster than ..."."""
    res = Results(data)
    out: list[dict[str, Any]] = []
    known = set(factlab.backend_names())
    kinds = {b: factlab.spec(b).kind for s in res.scenarios for b in res.backends(s) if b in known}
    ext = [b for b, k in kinds.items() if k == "extension"]
    ffi = [b for b, k in kinds.items() if k == "ffi"]

    def judge(
        target: str, b: str, ratios: list[tuple[str, float | None]], need: float, why: str = ""
    ) -> None:
        got = [(where, r) for where, r in ratios if r is not None]
        where, worst = min(got, key=lambda p: p[1]) if got else ("", None)
        met = None if worst is None or why else worst >= need
        where = where if len(ratios) > 1 else ""
        out.append(
            {"target": target.format(X=X), "backend": b, "measured": worst, "where": where, "required": need,
             "met": met, "why": why or NOT_MEASURED}
        )  # fmt: skip

    def one(
        scenario: str, b: str, n: int | None, other: str, other_scenario: str = ""
    ) -> list[tuple[str, float | None]]:
        return [("", res.faster(res.mean(scenario, b, n), res.mean(other_scenario or scenario, other, n)))]

    for b in ext:
        judge(
            "factorial(25), {X} faster than pure Python",
            b,
            one("article", b, None, "python"),
            OVER_PYTHON.get(b, 14.0),
        )
        judge("factorial(25), {X} faster than math.factorial", b, one("article", b, None, "math"), 2.0)
        judge("factorial(20), {X} faster than math.factorial", b, one("sweep", b, 20, "math"), 1 / 1.3)
    if "pyo3" in ext and "capi" in ext:
        judge(
            "pyo3's factorial(25), {X} faster than capi's",
            "pyo3",
            one("article", "pyo3", None, "capi"),
            1 / 1.2,
        )
    for b in ffi:
        judge(
            "factorial(25), {X} faster than its bare crossing(25)",
            b,
            one("article", b, None, b, "crossing"),
            0.5,
        )
    for b in ext + ffi:
        judge("factorial(10**6), {X} faster than math.factorial", b, one("big", b, 10**6, "math"), 50.0)
        judge("factorial(10**6), {X} faster than gmpy2 (GMP)", b, one("big", b, 10**6, GMPY2), 1.0)
        judge("factorial(10**5), {X} faster than math.factorial", b, one("sweep", b, 10**5, "math"), 20.0)
        t1, t2 = res.row("threads", b, threads=1), res.row("threads", b, threads=2)
        ok = t1 is not None and t2 is not None and t1["status"] == t2["status"] == "ok"
        idle = t2["idle_cores"] if ok else None  # type: ignore[index]
        busy = (
            f"not judged: machine busy ({idle:.1f} idle cores)"
            if idle is not None and idle < IDLE_CORES
            else ""
        )
        speedup = 2 * t1["mean"] / t2["mean"] if ok else None  # type: ignore[index]
        judge("two threads, {X} faster than in turns", b, [("", speedup)], 2 / 1.2, busy)
    sweep_ns = sorted({r["n"] for r in res.rows("sweep") if "n" in r})

    def every(b: str, other: str, ns: list[int]) -> list[tuple[str, float | None]]:
        return [(f"n={n:,}", one("big" if n >= 10**6 else "sweep", b, n, other)[0][1]) for n in ns]

    if "capi" in ext:
        judge(
            "{X} faster than gmpy2 at every n from 35 to 10**6",
            "capi",
            every("capi", GMPY2, [*GMPY2_NS, 10**6]),
            1.0,
        )
        judge(
            "{X} faster than math.factorial at every n >= 21",
            "capi",
            every("capi", "math", [n for n in sweep_ns if n >= 21]),
            1.0,
        )
    for b in ffi:
        bound = AT_35.get((factlab.spec(b).tool, factlab.spec(b).clib))
        if bound:
            judge("factorial(35), {X} faster than math.factorial", b, one("sweep", b, 35, "math"), 1 / bound)
        judge(
            "{X} faster than math.factorial at every n >= 100",
            b,
            every(b, "math", [n for n in sweep_ns if n >= 100]),
            1.0,
        )
    return out
