"""The speed targets, judged in every run from the run's own figures.

Each target is a ratio within one run, read one way: "r× faster than ...",
and required to be at least some bound (a bound below 1× allows that much
slowness: 0.77× is "at most 1.3 times the time"). A target over several n is
judged on its worst n. Which backends a target concerns comes from the
registry (kind "extension" or "ffi"); the few targets about one named backend
are the issues' own (issue 6: capi, pyo3; issue 16: capi and the FFI modes).
docs/src/targets.md says where each target comes from and what stops a miss.
"""

from __future__ import annotations

from typing import Any

import factlab
from factlab.bench.plan import GMPY2, GMPY2_NS
from factlab.bench.report import Results

OVER_PYTHON = {"capi": 18.0}  # the other extensions: 14x, the seed article's ratio
AT_35 = {"cffi-api": 3.0, "cffi-abi-inline": 4.0, "cffi-abi-outofline": 4.0, "ctypes": 5.0}  # issue 16: at most Nx math
IDLE_CORES = 1.8  # two threads can only run at once on two idle cores


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    res = Results(data)
    out: list[dict[str, Any]] = []
    known = set(factlab.backend_names())
    present = [b for s in res.scenarios for b in res.backends(s) if b in known]
    kinds = {b: factlab.spec(b).kind for b in dict.fromkeys(present)}
    ext = [b for b, k in kinds.items() if k == "extension"]
    ffi = [b for b, k in kinds.items() if k == "ffi"]

    def judge(target: str, backend: str, ratios: list[tuple[str, float | None]], required: float, why: str = "") -> None:
        got = [(where, r) for where, r in ratios if r is not None]
        where, worst = min(got, key=lambda p: p[1]) if got else ("", None)
        met = None if worst is None or why else worst >= required
        out.append(
            {"target": target, "backend": backend, "measured": worst, "where": where if len(ratios) > 1 else "",
             "required": required, "met": met, "why": why or "not measured"}
        )  # fmt: skip

    def faster(scenario: str, b: str, n: int | None, other: str, other_scenario: str = "") -> float | None:
        return res.faster(res.mean(scenario, b, n), res.mean(other_scenario or scenario, other, n))

    for b in ext:
        judge("factorial(25), × faster than pure Python", b, [("", faster("article", b, None, "python"))],
              OVER_PYTHON.get(b, 14.0))  # fmt: skip
        judge("factorial(25), × faster than math.factorial", b, [("", faster("article", b, None, "math"))], 2.0)
        judge("factorial(20), × faster than math.factorial", b, [("", faster("sweep", b, 20, "math"))], 1 / 1.3)
    if "pyo3" in ext and "capi" in ext:
        judge("pyo3's factorial(25), × faster than capi's", "pyo3", [("", faster("article", "pyo3", None, "capi"))],
              1 / 1.2)  # fmt: skip
    for b in ffi:
        ratio = res.faster(res.mean("article", b), res.mean("crossing", b))
        judge("factorial(25), × faster than its bare crossing(25)", b, [("", ratio)], 0.5)
    for b in ext + ffi:
        judge("factorial(10**6), × faster than math.factorial", b, [("", faster("big", b, 10**6, "math"))], 50.0)
        judge("factorial(10**6), × faster than gmpy2 (GMP)", b, [("", faster("big", b, 10**6, GMPY2))], 1.0)
        judge("factorial(10**5), × faster than math.factorial", b, [("", faster("sweep", b, 10**5, "math"))], 20.0)
        one, two = res.row("threads", b, threads=1), res.row("threads", b, threads=2)
        ok = one is not None and two is not None and one["status"] == two["status"] == "ok"
        idle = two["idle_cores"] if ok else None  # type: ignore[index]
        busy = f"not judged: machine busy ({idle:.1f} idle cores)" if idle is not None and idle < IDLE_CORES else ""
        speedup = 2 * one["mean"] / two["mean"] if ok else None  # type: ignore[index]
        judge("two threads, × faster than in turns", b, [("", speedup)], 2 / 1.2, busy)
    sweep_ns = sorted({r["n"] for r in res.rows("sweep") if "n" in r})
    if "capi" in ext:
        vs_gmp = [(f"n={n:,}", faster("sweep", "capi", n, GMPY2)) for n in GMPY2_NS]
        vs_gmp.append(("n=1,000,000", faster("big", "capi", 10**6, GMPY2)))
        judge("× faster than gmpy2 at every n from 35 to 10**6", "capi", vs_gmp, 1.0)
        vs_math = [(f"n={n:,}", faster("sweep", "capi", n, "math")) for n in sweep_ns if n >= 21]
        judge("× faster than math.factorial at every n ≥ 21", "capi", vs_math, 1.0)
    for b in ffi:
        if b in AT_35:
            judge("factorial(35), × faster than math.factorial", b, [("", faster("sweep", b, 35, "math"))],
                  1 / AT_35[b])  # fmt: skip
        vs_math = [(f"n={n:,}", faster("sweep", b, n, "math")) for n in sweep_ns if n >= 100]
        judge("× faster than math.factorial at every n ≥ 100", b, vs_math, 1.0)
    return out
