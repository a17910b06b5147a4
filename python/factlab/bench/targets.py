"""The project's speed targets, checked against the figures of one run.

Each target is a ratio taken within one run, so that it holds on any machine
(docs/src/targets.md explains where each one comes from):

1. compiled extensions: factorial(25) at least 14x faster than the pure-Python
   loop (capi: 18x) and at least 2x faster than math.factorial(25);
   factorial(20) within 1.3x of math.factorial(20);
2. pyo3 within 1.2x of capi on the article's call;
3. foreign-function interfaces: the exact factorial(25) at most 2x the bare
   crossing of the same mechanism;
4. big n: factorial(10**6) at least 50x faster than math.factorial and no
   slower than gmpy2; factorial(10**5) at least 20x faster than math.factorial;
5. the GIL: two threads computing factorial(300_000) take at most 1.2x the
   time of one.

A target whose figures are missing from the run (scenario not run, backend
not built) is reported as not measured, never as met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from factlab.bench.scenarios import GMPY2

COMPILED = ("pyo3", "capi", "rust-cpython", "cython")
FFI = ("cffi-abi-inline", "cffi-abi-outofline", "cffi-api", "ctypes")
NATIVE = COMPILED + FFI


def _rows(data: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    return [r for r in data["scenarios"].get(scenario, {}).get("rows", []) if r.get("status") == "ok"]


def _one(rows: list[dict[str, Any]], backend: str, **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if row["backend"] == backend and all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _check(
    target: str, backend: str, value: float | None, bound: float, ok: Callable[[float], bool], comparison: str
) -> dict[str, Any]:
    met = None if value is None else ok(value)
    return {
        "target": target,
        "backend": backend,
        "measured": value,
        "required": bound,
        "comparison": comparison,
        "met": met,
    }


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target for every backend it concerns, with its measured figure."""
    return list(_evaluate(data))


def _evaluate(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    article = _rows(data, "article")
    sweep = _rows(data, "sweep")
    crossing = _rows(data, "crossing")
    big = _rows(data, "big")
    threads = _rows(data, "threads")

    def get(row: dict[str, Any] | None, key: str) -> float | None:
        return None if row is None else row.get(key)

    for b in COMPILED:
        row = _one(article, b)
        need = 18.0 if b == "capi" else 14.0
        yield _check(
            "factorial(25): speed-up over pure Python",
            b,
            get(row, "speedup_vs_python"),
            need,
            lambda v, need=need: v >= need,
            "≥",
        )
        ratio = get(row, "ratio_to_math")
        yield _check(
            "factorial(25): speed-up over math.factorial",
            b,
            None if not ratio else 1 / ratio,
            2.0,
            lambda v: v >= 2.0,
            "≥",
        )
        mine, math20 = get(_one(sweep, b, n=20), "ns_per_call"), get(_one(sweep, "math", n=20), "ns_per_call")
        yield _check(
            "factorial(20): time / math.factorial(20)'s",
            b,
            None if mine is None or not math20 else mine / math20,
            1.3,
            lambda v: v <= 1.3,
            "≤",
        )

    pyo3, capi = get(_one(article, "pyo3"), "ns_per_call"), get(_one(article, "capi"), "ns_per_call")
    yield _check(
        "factorial(25): pyo3 time / capi time",
        "pyo3",
        None if pyo3 is None or not capi else pyo3 / capi,
        1.2,
        lambda v: v <= 1.2,
        "≤",
    )

    for b in FFI:
        yield _check(
            "factorial(25) / bare crossing(25)",
            b,
            get(_one(crossing, b), "exactness_ratio"),
            2.0,
            lambda v: v <= 2.0,
            "≤",
        )

    gmp = get(_one(big, GMPY2, n=10**6), "seconds")
    for b in NATIVE:
        yield _check(
            "factorial(10**6): speed-up over math.factorial",
            b,
            get(_one(big, b, n=10**6), "speedup_vs_math"),
            50.0,
            lambda v: v >= 50.0,
            "≥",
        )
        mine = get(_one(big, b, n=10**6), "seconds")
        yield _check(
            "factorial(10**6): time / gmpy2's (GMP)",
            b,
            None if mine is None or not gmp else mine / gmp,
            1.0,
            lambda v: v <= 1.0,
            "≤",
        )
        yield _check(
            "factorial(10**5): speed-up over math.factorial",
            b,
            get(_one(big, b, n=10**5), "speedup_vs_math"),
            20.0,
            lambda v: v >= 20.0,
            "≥",
        )
        row = _one(threads, b)
        t1, t2 = get(row, "t1"), get(row, "t2")
        yield _check(
            "two threads' factorial(300_000) / one thread's",
            b,
            None if t1 is None or t2 is None or not t1 else t2 / t1,
            1.2,
            lambda v: v <= 1.2,
            "≤",
        )
