"""The tables of the call shapes beyond one int: many values in one call, decimal digits out.

Read like ``report``'s tables: ns or seconds per call, and ratios "A is r x faster than B".
"""

from __future__ import annotations

from typing import Any

from factlab import STDLIB
from factlab._render import Table, X, ns, seconds, times, why
from factlab.bench.results import Results
from factlab.bench.scenarios import ARRAY, FLOOR, GMPY2, LIST, LOOP, STR, TITLES


def batch_table(res: Results) -> Table:
    """factorials per value, by batch size: from a list, from an array('Q'), and the backend's own loop."""
    rows = res.rows("batch")
    own, plain = f"list {X} faster than own loop", f"list {X} faster than {STDLIB}'s loop"
    t = Table(TITLES["batch"], ["values", "backend", "list", "array('Q')", "own loop", own, plain], left=2)
    for size in sorted({r["n"] for r in rows if "n" in r}):
        plain_loop = res.mean("batch", STDLIB, size, shape=LOOP)
        for b in res.backends("batch"):
            mine = {r["shape"]: r for r in rows if r["backend"] == b and r.get("n") == size}
            if not mine:
                continue
            label = "floor (array.tolist)" if b == FLOOR else b
            cells = [_per_value(mine.get(shape), size) for shape in (LIST, ARRAY, LOOP)]
            fast, loop = res.mean("batch", b, size, shape=LIST), res.mean("batch", b, size, shape=LOOP)
            t.rows.append(
                [
                    f"{size:,}",
                    label,
                    *cells,
                    times(res.faster(fast, loop)),
                    times(res.faster(fast, plain_loop)),
                ]
            )
            t.notes += problems(mine.values())
    t.rows += [["", r["backend"], why(r), *[""] * 4] for r in rows if "n" not in r]  # not built
    t.notes.append(
        "ns per value: pyperf's mean time of one call over that many values, divided by their number. The "
        "values: random n in 0..20, seeded, the same for every backend. list, array('Q'): factorials(ns) "
        "from a list and from an array('Q') (read in place); own loop: [f(n) for n in ns], f the backend's "
        f"factorial; {STDLIB}'s loop is the plain-Python way. Every timed call's whole list was checked."
    )
    t.notes.append(
        "The floor: array('Q').tolist() of the n! themselves, a list of as many Python ints made from 64-bit "
        "values (its input, hence its array('Q') column): what every factorials returning a list pays."
    )
    return t


def _per_value(r: dict[str, Any] | None, size: int) -> str:
    if r is None:
        return "—"
    return ns(r["mean"] / size) if r["status"] == "ok" else r["status"]


def problems(rows: Any) -> list[str]:
    """The notes of a row's entries that have no figure (its cells say only skipped or failed)."""
    return [f"{r['name']}: {r.get('note', r['status'])}" for r in rows if r["status"] != "ok"]


def digits_table(res: Results) -> Table:
    """factorial_str(n) per backend, then str() of math.factorial's int and of gmpy2's mpz, in seconds."""
    rows = res.rows("digits")
    ns_list = sorted({r["n"] for r in rows if "n" in r})
    judged = ns_list[-2:]  # the two largest n: the target's 10**5 and 10**6 in a full run
    headers = [
        "backend",
        *[f"n={n:,}" for n in ns_list],
        *[f"{X} faster than gmpy2 at {n:,}" for n in judged],
    ]
    t = Table(TITLES["digits"] + " (seconds per call)", headers)
    labels = {(STDLIB, STR): "str(math.factorial(n))", (GMPY2, STR): "str(gmpy2.fac(n)), GMP"}
    for key in dict.fromkeys((r["backend"], r.get("shape", "")) for r in rows if "n" in r):
        label = labels.get(key, key[0])
        mine = {r["n"]: r for r in rows if (r["backend"], r.get("shape", "")) == key and "n" in r}
        cells = [_cell_seconds(mine.get(n)) for n in ns_list]
        means = {n: res.mean("digits", key[0], n, shape=key[1]) for n in judged}
        gmp = {n: res.mean("digits", GMPY2, n, shape=STR) for n in judged}
        t.rows.append([label, *cells, *[times(res.faster(means[n], gmp[n])) for n in judged]])
        t.notes += problems(mine.values())
    t.rows += [[r["backend"], why(r), *[""] * (len(headers) - 2)] for r in rows if "n" not in r]
    t.notes.append(
        "factorial_str(n) is exactly str(math.factorial(n)) whatever sys.get_int_max_str_digits() says; "
        "every timed string was checked against n! (its length, and its value mod 2**61 - 1 read in linear "
        "time)."
    )
    t.notes.append(
        "str(math.factorial(n)) is what a Python user writes: the process that timed it lifted the "
        "interpreter's digit limit first (sys.set_int_max_str_digits(0)), without which str() refuses n! "
        "from n = 1,559 (4,300 digits). CPython's int-to-str is quadratic before 3.12."
    )
    if any(r["status"] == "skipped" and "n" in r for r in rows):
        t.notes.append(
            "skipped: a call the run estimated slower than its mode allows, from the same row's times at "
            "smaller n (the note says how slow): not waited for."
        )
    return t


def _cell_seconds(r: dict[str, Any] | None) -> str:
    if r is None:
        return "—"
    return seconds(r["mean"]) if r["status"] == "ok" else r["status"]
