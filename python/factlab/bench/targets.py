"""The speed targets, judged in every run from the run's own figures.

Each target is a ratio within one run, read one way: "r x faster than ...",
and required to be at least some bound (a bound below 1x allows that much
slowness: 0.77x is "at most 1.3 times the time"). A target over several n is
judged on its worst n. Two sources, no backend named here:

- the targets of a whole kind (every compiled extension, every FFI backend,
  every native backend, every backend whose registry entry says how a long
  call lets Ctrl-C in), below;
- each backend's own, from the registry (:class:`factlab.Targets`): a bound
  over the pure-Python loop, a bound at n = 35 against ``math.factorial``, a
  neighbour it must stay near, "fastest" (ahead of GMP and of
  ``math.factorial`` over the whole range), and how much its ``factorials``
  must gain over its own loop of calls when its kind's bound does not fit it.

The baselines are named by role (:data:`factlab.PURE`, :data:`factlab.STDLIB`).
docs/src/targets.md says where each target comes from and what stops a miss.
"""

from __future__ import annotations

from typing import Any

import factlab
from factlab import PURE, STDLIB
from factlab._render import X
from factlab.bench import report_object
from factlab.bench.report import NOT_MEASURED
from factlab.bench.results import Results
from factlab.bench.scenarios import (
    ARRAY,
    ARTICLE_N,
    GMPY2,
    GMPY2_NS,
    HOOK_N,
    IDLE_CORES,
    LIST,
    LOOP,
    PAIRED,
    SIGINT,
    STR,
)

BIG = 10**6  # the big scenario's n (and the top of the "fastest" range)
Ratios = list[tuple[str, float | None]]  # (where: "n=35" or "", the ratio there)
BATCH = 10**6  # the batch scenario's values per call where its targets are judged
# factorials over its own Python loop of factorial calls, by kind (a backend's Targets.batch_over_loop
# says otherwise): an extension's single call is already cheap, an FFI backend's crossing is the dear part.
BATCH_OVER_LOOP = {"extension": 3.0, "ffi": 10.0}
FORMS = ((LIST, "list"), (ARRAY, "array('Q')"))  # a batch's two inputs: (shape, where)
DIGITS_JUDGED = (10**5, 10**6)  # factorial_str is judged against GMP's str() there
CTRL_C_MS = 100.0  # issue 22: the median wait from a SIGINT to KeyboardInterrupt in a long call, at most
HOOK_COST = 0.02  # issue 22: what the kernel's hook may add to factorial(10**6)


class Judge:
    """Collects the verdicts of one run: ``judge`` one target of one backend at a time."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.res = Results(data)
        self.out: list[dict[str, Any]] = []

    def judge(self, target: str, b: str, ratios: Ratios, need: float, why: str = "") -> None:
        """The worst of ``ratios`` against ``need``; ``why``: a reason not to judge (the row says it)."""
        got = [(where, r) for where, r in ratios if r is not None]
        where, worst = min(got, key=lambda p: p[1]) if got else ("", None)
        met = None if worst is None or why else worst >= need
        self.out.append(
            {"target": target.format(X=X), "backend": b, "measured": worst, "where": where if len(ratios) > 1
             else "", "required": need, "met": met, "why": why or NOT_MEASURED}
        )  # fmt: skip

    def ratio(self, scenario: str, b: str, n: int | None, other: str, other_scenario: str = "") -> Ratios:
        """How many times faster ``b`` is than ``other`` (at ``n``): one ratio, without a "where"."""
        mine, theirs = self.res.mean(scenario, b, n), self.res.mean(other_scenario or scenario, other, n)
        return [("", self.res.faster(mine, theirs))]

    def every(self, b: str, other: str, ns: list[int]) -> Ratios:
        """The ratio at each n (from the big scenario at 10**6, else the sweep), each named by its n."""
        return [(f"n={n:,}", self.ratio("big" if n >= BIG else "sweep", b, n, other)[0][1]) for n in ns]

    def sweep_ns(self, least: int) -> list[int]:
        return sorted({r["n"] for r in self.res.rows("sweep") if "n" in r and r["n"] >= least})

    def backends(self) -> list[factlab.BackendSpec]:
        """The registered backends this run measured, in the registry's order."""
        seen = {b for s in self.res.scenarios for b in self.res.backends(s)}
        return [s for s in factlab.specs() if s.name in seen]


def extension(j: Judge, b: str) -> None:
    """Every compiled extension: clearly worth its build against math.factorial."""
    j.judge("factorial(25), {X} faster than math.factorial", b, j.ratio("article", b, None, STDLIB), 2.0)
    j.judge("factorial(20), {X} faster than math.factorial", b, j.ratio("sweep", b, 20, STDLIB), 1 / 1.3)


def ffi(j: Judge, b: str) -> None:
    """Every FFI backend: exactness costs at most the crossing, and math.factorial is beaten from 100 on."""
    j.judge(
        "factorial(25), {X} faster than its bare crossing(25)",
        b,
        j.ratio("article", b, None, b, "crossing"),
        0.5,
    )
    j.judge("{X} faster than math.factorial at every n >= 100", b, j.every(b, STDLIB, j.sweep_ns(100)), 1.0)


def native(j: Judge, b: str) -> None:
    """Every native backend: the kernel worth calling for big work, and the GIL released around it."""
    j.judge("factorial(10**6), {X} faster than math.factorial", b, j.ratio("big", b, BIG, STDLIB), 50.0)
    j.judge("factorial(10**6), {X} faster than gmpy2 (GMP)", b, j.ratio("big", b, BIG, GMPY2), 1.0)
    j.judge("factorial(10**5), {X} faster than math.factorial", b, j.ratio("sweep", b, 10**5, STDLIB), 20.0)
    t1, t2 = j.res.row("threads", b, threads=1), j.res.row("threads", b, threads=2)
    ok = t1 is not None and t2 is not None and t1["status"] == t2["status"] == "ok"
    idle = t2["idle_cores"] if ok else None  # type: ignore[index]
    busy = (
        f"not judged: machine busy ({idle:.1f} idle cores)" if idle is not None and idle < IDLE_CORES else ""
    )
    speedup = 2 * t1["mean"] / t2["mean"] if ok else None  # type: ignore[index]
    j.judge("two threads, {X} faster than in turns", b, [("", speedup)], 2 / 1.2, busy)


def batch(j: Judge, spec: factlab.BackendSpec, fastest: dict[str, float | None]) -> None:
    """Every native backend's factorials: worth more than its own loop, and near the fastest one."""
    b, mean = spec.name, j.res.mean
    need = spec.targets.batch_over_loop or BATCH_OVER_LOOP[spec.kind]
    loop = mean("batch", b, BATCH, shape=LOOP)
    mine = {shape: mean("batch", b, BATCH, shape=shape, call="factorials") for shape, _ in FORMS}
    j.judge(
        "factorials(10**6 values), {X} faster than its own loop of factorial calls",
        b,
        [(where, j.res.faster(mine[shape], loop)) for shape, where in FORMS],
        need,
    )
    j.judge(
        "factorials(10**6 values), {X} faster than the fastest native backend's",
        b,
        [(where, j.res.faster(mine[shape], fastest[shape])) for shape, where in FORMS],
        0.5,
    )


def fastest_batches(j: Judge, names: list[str]) -> dict[str, float | None]:
    """The least time of ``factorials`` over 10**6 values among ``names``, per input (None: none timed)."""
    out: dict[str, float | None] = {}
    for shape, _ in FORMS:
        means = [j.res.mean("batch", b, BATCH, shape=shape, call="factorials") for b in names]
        out[shape] = min((m for m in means if m is not None), default=None)
    return out


def digits(j: Judge, b: str) -> None:
    """Every native backend's factorial_str: the kernel's decimal conversion ahead of GMP's."""
    mine = {n: j.res.mean("digits", b, n, call="factorial_str", shape="") for n in DIGITS_JUDGED}
    gmp = {n: j.res.mean("digits", GMPY2, n, shape=STR) for n in DIGITS_JUDGED}
    ratios = [(f"n={n:,}", j.res.faster(mine[n], gmp[n])) for n in DIGITS_JUDGED]
    j.judge("factorial_str(n), {X} faster than str(gmpy2.fac(n))", b, ratios, 1.0)


def ctrl_c(j: Judge, b: str) -> None:
    """Every backend that lets Ctrl-C in (the registry's ctrl_c): a long call stopped within 100 ms."""
    ratios: Ratios = []
    for r in j.res.rows("callback"):
        if r["backend"] == b and r.get("shape") == SIGINT and r["status"] == "ok":
            median = r.get("median_ms")  # none: every call returned before its signal
            ratios.append((f"n={r['n']:,}", None if median is None else CTRL_C_MS / max(median, 1e-3)))
    target = f"SIGINT to KeyboardInterrupt in factorial(n) (median), {{X}} faster than {CTRL_C_MS:.0f} ms"
    j.judge(target, b, ratios, 1.0)


def hook(j: Judge, b: str) -> None:
    """Every native backend: the kernel's hook costs factorial(10**6) at most 2% (its path without it)."""
    r = j.res.row("callback", b, HOOK_N, shape=PAIRED)
    got = r if r is not None and r["status"] == "ok" else {}
    cost, cores = got.get("hook_cost"), got.get("idle_cores")
    why = "not judged: every path of it goes through the hook" if got and got["without"] is None else ""
    if cores is not None and cores < IDLE_CORES:  # the kernel's thread and the one that waits
        why = f"not judged: machine busy ({cores:.1f} idle cores)"
    ratio = None if cost is None else 1 / (1 + cost)
    target = "factorial(10**6) through the kernel's hook, {X} faster than without it"
    j.judge(target, b, [("", ratio)], 1 / (1 + HOOK_COST), why)


def object_(j: Judge, b: str) -> None:
    """Every native backend: an object made, stepped once and dropped, at most 3 of its own factorial(5)."""
    j.judge(report_object.TARGET, b, [("", report_object.ratio(j.res, b))], 1 / report_object.AT_MOST)


def own(j: Judge, spec: factlab.BackendSpec, measured: set[str]) -> None:
    """The registry's targets of this one backend (issues 6 and 16)."""
    b, t = spec.name, spec.targets
    if t.over_pure is not None:
        j.judge(
            "factorial(25), {X} faster than pure Python", b, j.ratio("article", b, None, PURE), t.over_pure
        )
    if t.at_35_of_math is not None:
        j.judge(
            "factorial(35), {X} faster than math.factorial",
            b,
            j.ratio("sweep", b, 35, STDLIB),
            1 / t.at_35_of_math,
        )
    if t.near is not None and t.near[0] in measured:
        other, r = t.near
        j.judge(
            f"factorial({ARTICLE_N}), {{X}} faster than {other}'s",
            b,
            j.ratio("article", b, None, other),
            1 / r,
        )
    if t.fastest:
        j.judge(
            "{X} faster than gmpy2 at every n from 35 to 10**6", b, j.every(b, GMPY2, [*GMPY2_NS, BIG]), 1.0
        )
        j.judge("{X} faster than math.factorial at every n >= 21", b, j.every(b, STDLIB, j.sweep_ns(21)), 1.0)


def evaluate(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target for every backend of the run it concerns; a target is written "{X} faster than ..."."""
    j = Judge(data)
    specs = j.backends()
    measured = {s.name for s in specs}
    fastest = fastest_batches(j, [s.name for s in specs if s.native])
    for s in specs:
        own(j, s, measured)
        if s.ctrl_c is not None:
            ctrl_c(j, s.name)
        if s.kind == "extension":
            extension(j, s.name)
        if s.kind == "ffi":
            ffi(j, s.name)
        if s.native:
            native(j, s.name)
            batch(j, s, fastest)
            digits(j, s.name)
            hook(j, s.name)
            object_(j, s.name)
    order = list(dict.fromkeys(g["target"] for g in j.out))  # one target's backends together
    return sorted(j.out, key=lambda g: order.index(g["target"]))
