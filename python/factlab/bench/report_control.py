"""The callback scenario's table: native code calling back into Python, and Ctrl-C in a long call.

Per backend: what one Python callback from native code costs, how soon a
SIGINT stops ``factorial(n)``, and what the kernel's hook costs a long call
(:func:`factlab.bench.scenarios.callback` says what each entry times).
"""

from __future__ import annotations

from typing import Any

from factlab import PURE, STDLIB
from factlab._render import Table, ns, seconds, why
from factlab.bench.results import Results
from factlab.bench.scenarios import (
    CALLBACK_N,
    HOOK,
    HOOK_N,
    IDLE_CORES,
    PAIRED,
    SIGINT,
    SIGINT_AFTER,
    SIGINT_NS,
    TITLES,
)

PER_CALLBACK = "ns per callback"
HOOK_COST = "hook cost"
WITHOUT = "without the hook"


def sigint_header(n: int) -> str:
    return f"Ctrl-C at n={n:,}, ms"


TERMINAL = [PER_CALLBACK, *map(sigint_header, SIGINT_NS), HOOK_COST]  # the columns a terminal shows


def callback_table(res: Results) -> Table:
    """One row per backend: one callback's cost, the SIGINT latencies, the hook's cost at 10**6."""
    rows = res.rows("callback")
    sigint_ns = sorted({r["n"] for r in rows if r.get("shape") == SIGINT})
    headers = ["backend", f"factorial({CALLBACK_N})", f"factorial_progress({CALLBACK_N}, noop)", PER_CALLBACK]
    headers += [*map(sigint_header, sigint_ns), f"factorial({HOOK_N:,})", WITHOUT, HOOK_COST, "idle cores"]
    t = Table(TITLES["callback"], headers)
    for b in res.backends("callback"):
        whole = next((r for r in rows if r["backend"] == b and "n" not in r), None)
        if whole:
            t.problem(b, whole)
            continue
        cells = _callback(res, b)
        cells += [_sigint(res.row("callback", b, n, shape=SIGINT)) for n in sigint_ns]
        t.rows.append([b, *cells, *_hook(res.row("callback", b, HOOK_N, shape=PAIRED))])
    t.notes += _notes(res, sigint_ns)
    return t


def _callback(res: Results, b: str) -> list[str]:
    """factorial(20), factorial_progress(20, noop), and their difference: one callback."""
    calls = [{"call": "factorial", "shape": ""}, {"call": "factorial_progress", "shape": HOOK}]
    means = [res.mean("callback", b, CALLBACK_N, **c) for c in calls]
    cells = [
        ns(m) if m is not None else why(res.row("callback", b, CALLBACK_N, **c))
        for m, c in zip(means, calls, strict=True)
    ]
    if None in means:
        return [*cells, "—"]
    extra = means[1] - means[0]  # type: ignore[operator]
    noise = extra <= 0 and b not in (PURE, STDLIB)  # the baselines' two functions are two Python codes
    return [*cells, f"{ns(extra)} (noise)" if noise else ns(extra)]


def _sigint(r: dict[str, Any] | None) -> str:
    """The median wait from SIGINT to KeyboardInterrupt, and how many calls it stopped."""
    if r is None:
        return "—"
    if r["status"] != "ok":
        return why(r)
    if "median_ms" not in r:
        return f"returned first ({max(r['finished_first_ms']):.0f} ms)"
    signalled = len(r["latencies_ms"])
    stopped = "" if r["stopped"] == signalled else f" ({r['stopped']} of {signalled} stopped the call)"
    return f"{r['median_ms']:.1f}{stopped}"


def _hook(r: dict[str, Any] | None) -> list[str]:
    """factorial(10**6) with the hook, the path without it, the difference, the idle cores meanwhile."""
    if r is None:
        return ["—"] * 4
    if r["status"] != "ok":
        return [why(r), "", "", ""]
    if r["without"] is None:
        return ["—", "—", "no path without it", "—"]
    return [seconds(r["with_s"]), f"{seconds(r['without_s'])} {r['without']}", f"{r['hook_cost']:+.1%}",
            f"{r['idle_cores']:.1f}"]  # fmt: skip


def _notes(res: Results, sigint_ns: list[int]) -> list[str]:
    runs = next((r["runs"] for r in res.rows("callback") if r.get("shape") == SIGINT and "runs" in r), 0)
    pairs = next((r["pairs"] for r in res.rows("callback") if r.get("shape") == PAIRED and "pairs" in r), 0)
    notes = [
        f"{PER_CALLBACK}: factorial_progress({CALLBACK_N}, noop) minus factorial({CALLBACK_N}), both "
        "timed by pyperf in this run. Below 100,000 the kernel calls the hook once, at the end: the "
        "difference is one crossing back into Python, the call of noop(done, total) with its two ints, and "
        "what the binding does around it (the GIL taken back and released again, the signal check; where "
        "a binding runs the C call on a helper thread, that thread). The baselines' rows are Python code "
        "calling noop (the pure loop's is another loop, too): no crossing."
    ]
    if sigint_ns:
        notes.append(
            f"Ctrl-C: the median of {runs} runs in a fresh process per backend and n: a threading.Timer "
            f"sends SIGINT to the process {SIGINT_AFTER * 1e3:.0f} ms into factorial(n) (the time taken just "
            "before os.kill), until the KeyboardInterrupt is caught around the call. Only the backends "
            "whose registry entry says how a long call lets Ctrl-C in (ctrl_c); '—': none, the call cannot "
            "be interrupted. '(k of m stopped the call)': the others ran to their end first."
        )
    notes.append(
        f"{HOOK_COST}: factorial({HOOK_N:,}), which goes through the kernel's hook (the work on a thread "
        "of its own, a tick every 20 ms: the GIL taken back, the signal check), against the same backend's "
        "first path that does not: factorials([n]), else an allocation strategy [name] (a probe decides: a "
        "signal handler that runs during the call means the hook is there). The two called in turns in a "
        f"fresh process, {pairs} pairs: the median of each, and the median of the pairs' ratios, which load "
        "drifting over seconds leaves alone. 'no path without it': every path of that backend goes through "
        "the hook, and the kernel alone, with and without it, is not reachable from Python: no figure. "
        "'idle cores': what the rest of the machine left free meanwhile; the target is not judged below "
        f"{IDLE_CORES}."
    )
    return notes
