"""Ctrl-C and the kernel's hook, measured: ``python -m factlab.bench._control RUN_DIR``.

It reads the entries of the shapes ``sigint`` and ``paired`` from
``RUN_DIR/plan.json`` and measures each backend's in a fresh process of its
own (this module again, ``--one``), ``control_runs`` times each:

- ``sigint``: a ``threading.Timer`` sends SIGINT to the process 30 ms into
  ``factorial(n)``, noting ``time.perf_counter()`` just before ``os.kill``;
  the latency runs from there to the KeyboardInterrupt caught around the call.
  A call that returns first is noted, never counted as a latency;
- ``paired``: ``factorial(10**6)``, which goes through the kernel's hook, and
  the backend's first other path that does not (``factorials([n])``, else an
  allocation strategy; :func:`lets_signals_in` decides), called in turns: the
  median of the pairs' ratios, which load drifting over seconds leaves alone.

Before each run the process waits until it uses no CPU: a kernel stopped by
the hook ends its step in flight on its own thread, which would share the
cores with the next run. It writes ``RUN_DIR/control.json``, ``{name:
{"status": ..., ...}}``, as each backend ends. Started by the bench like
pyperf's suite, in a process group of its own that dies with the bench.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from factlab._children import die_with_group
from factlab._common import quote_error
from factlab.bench.scenarios import CONTROL, MODES, PAIRED, SIGINT, SIGINT_AFTER, Entry

PROBE_AFTER = 0.005  # lets_signals_in's signal, 5 ms into the call
QUIET = 0.02  # a window of this many seconds with under 10% of a core used: the process is idle
TIMEOUT = 600  # seconds for one backend's process: 21 runs of a call at 10**7 that ignores SIGINT
OUTCOMES = "outcomes: "  # the line of a backend's process that carries its results


def interrupt_once(f: Callable[[int], object], n: int, delay: float = SIGINT_AFTER) -> dict[str, Any]:
    """One call of ``f(n)`` with a SIGINT sent ``delay`` into it: how it ended, in ms.

    ``latency_ms``: from the send to the KeyboardInterrupt caught here, and ``stopped``: whether the
    call was stopped (the exception came out of it) or ran to its end first; or ``finished_ms``: the
    call returned before the timer fired (no signal sent).
    """
    lock, sent, returned = threading.Lock(), list[float](), list[float]()

    def fire() -> None:
        with lock:  # never after the call has returned: an unasked-for KeyboardInterrupt
            if not returned:
                sent.append(time.perf_counter())
                os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(delay, fire)
    start = time.perf_counter()
    timer.start()
    try:
        f(n)
        with lock:
            returned.append(time.perf_counter())
        timer.join()
        if sent:  # sent while the call ran to its end: the exception comes at the next check
            time.sleep(5)
    except KeyboardInterrupt:
        caught = time.perf_counter()
        if not sent:
            raise  # not ours: someone is stopping the run
        timer.join()
        return {"latency_ms": (caught - sent[0]) * 1e3, "stopped": not returned}
    return {"finished_ms": (returned[0] - start) * 1e3}


def wait_until_quiet(limit: float = 10.0) -> None:
    """Until this process uses under 10% of a core (a stopped kernel's thread has ended), or ``limit`` s."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        cpu = time.process_time()  # every thread of the process
        time.sleep(QUIET)
        if time.process_time() - cpu < 0.1 * QUIET:
            return


def sigint(m: ModuleType, n: int, runs: int) -> dict[str, Any]:
    """``runs`` SIGINTs into ``m.factorial(n)``: the median latency, and how many calls they stopped."""
    results = []
    for _ in range(runs):
        wait_until_quiet()
        results.append(interrupt_once(m.factorial, n))
    waits = [round(r["latency_ms"], 2) for r in results if "latency_ms" in r]
    out: dict[str, Any] = {"status": "ok", "runs": runs, "latencies_ms": waits}
    out["stopped"] = sum(bool(r.get("stopped")) for r in results)
    out["finished_first_ms"] = [round(r["finished_ms"], 1) for r in results if "finished_ms" in r]
    if waits:
        out["median_ms"] = statistics.median(waits)
    return out


def lets_signals_in(f: Callable[[Any], object], x: object) -> tuple[bool, object]:
    """Whether Python runs a signal handler while ``f(x)`` works (the kernel's hook), or only after it;
    and what ``f(x)`` returned.

    A SIGUSR1 sent 5 ms into the call, its handler noting the time: through the hook it runs within a
    tick (20 ms), long before a call of 10**6! ends; without the hook, when the call has returned.
    """
    ran: list[float] = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: ran.append(time.perf_counter()))
    try:
        timer = threading.Timer(PROBE_AFTER, os.kill, (os.getpid(), signal.SIGUSR1))
        start = time.perf_counter()
        timer.start()
        value = f(x)
        end = time.perf_counter()
        timer.join()
        while not ran and time.perf_counter() < end + 5:
            time.sleep(0.001)  # a pending handler runs here, before the old one is back
    finally:
        signal.signal(signal.SIGUSR1, previous)
    return bool(ran) and ran[0] < start + 0.8 * (end - start), value


def without_hook(m: ModuleType, n: int) -> tuple[str, Callable[[Any], object], object, object] | None:
    """The first path of ``m`` that computes n! without the hook: (its label, f, x, what f(x) returned),
    or None."""
    paths: list[tuple[str, Callable[[Any], object], object]] = []
    if hasattr(m, "factorials"):
        paths.append(("factorials([n])", m.factorials, [n]))
    paths += [(f"[{name}]", f, n) for name, f in getattr(m, "strategies", {}).items()]
    for label, f, x in paths:
        hooked, got = lets_signals_in(f, x)
        if not hooked:
            return label, f, x, got
    return None


def paired(m: ModuleType, n: int, runs: int) -> dict[str, Any]:
    """``m.factorial(n)`` and its path without the hook, in turns: the median times and ratio."""
    import psutil

    hooked, want = lets_signals_in(m.factorial, n)
    if not hooked:
        return {"status": "failed", "note": f"factorial({n}) ran no signal handler: no hook to measure"}
    free = without_hook(m, n)
    if free is None:
        return {"status": "ok", "without": None}  # every path goes through the hook
    label, f, x, got = free
    if (got[0] if isinstance(got, list) else got) != want:
        return {"status": "wrong", "note": f"WRONG VALUE: {label} and factorial({n}) differ"}
    del got, want  # not held through the timing
    cores, me = psutil.cpu_count() or 1, psutil.Process()
    psutil.cpu_percent(None), me.cpu_percent(None)  # from now on
    times: dict[str, list[float]] = {"with": [], "without": []}
    for i in range(runs):
        calls = [("with", m.factorial, n), ("without", f, x)]
        for key, g, arg in calls if i % 2 == 0 else calls[::-1]:  # in turns: neither always goes first
            wait_until_quiet()
            t0 = time.perf_counter()
            g(arg)
            times[key].append(time.perf_counter() - t0)
    others = cores * psutil.cpu_percent(None) / 100 - me.cpu_percent(None) / 100  # cores the rest used
    ratios = [a / b for a, b in zip(times["with"], times["without"], strict=True)]
    return {"status": "ok", "without": label, "pairs": runs, "with_s": statistics.median(times["with"]),
            "without_s": statistics.median(times["without"]), "hook_cost": statistics.median(ratios) - 1,
            "idle_cores": round(cores - max(others, 0.0), 2)}  # fmt: skip


def one(module: str, runs: int, tasks: list[str]) -> dict[str, dict[str, Any]]:
    """In a fresh process: each task (``sigint:N`` or ``paired:N``) of ``module``, ``runs`` times."""
    # Started with SIGINT ignored (a background job of a script, nohup), Python would keep ignoring it,
    # and every call run to its end: the KeyboardInterrupt measured here is Python's own handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    m = importlib.import_module(module)
    m.factorial(30)  # the first call's one-time costs (imports, caches) out of the way
    out = {}
    for task in tasks:
        shape, n = task.split(":")
        out[task] = {SIGINT: sigint, PAIRED: paired}[shape](m, int(n), runs)
    wait_until_quiet()
    return out


def backend(entries: list[Entry], runs: int) -> dict[str, dict[str, Any]]:
    """One backend's entries, measured in a fresh process: each entry's outcome for control.json."""
    tasks = [f"{e.shape}:{e.n}" for e in entries]
    cmd = [sys.executable, "-m", "factlab.bench._control", "--one", entries[0].module, str(runs), *tasks]
    try:  # subprocess.run, not _common.run: on Ctrl-C it kills the process instead of waiting for it
        done = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT
        )
        out, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired:
        out, code = f"timed out after {TIMEOUT} s", -1
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith(OUTCOMES)), None)
    if code != 0 or line is None:
        note = f"its process failed: {quote_error(out) or 'no output'}"
        return {e.name: {"status": "failed", "note": note} for e in entries}
    outcomes = json.loads(line[len(OUTCOMES) :])
    return {e.name: outcomes[task] for e, task in zip(entries, tasks, strict=True)}


def shown(outcome: dict[str, Any]) -> str:
    if "median_ms" in outcome:
        return f"median {outcome['median_ms']:.1f} ms from SIGINT to KeyboardInterrupt"
    if "hook_cost" in outcome:
        return f"hook cost {outcome['hook_cost']:+.1%} against {outcome['without']}"
    return str(outcome.get("note", "no path without the hook" if "without" in outcome else "no signal sent"))


def main(run_dir: Path) -> int:
    die_with_group()  # the bench died or stopped us: the measuring processes go too
    plan = json.loads((run_dir / "plan.json").read_text())
    runs = MODES[plan["mode"]].control_runs
    entries = [e for e in (Entry(**d) for d in plan["entries"]) if e.step == CONTROL]
    by_backend: dict[str, list[Entry]] = {}
    for e in entries:
        by_backend.setdefault(e.backend, []).append(e)
    print(f"Ctrl-C and the hook: {len(entries)} entries, {runs} runs each, a fresh process per backend")
    done: dict[str, dict[str, Any]] = {}
    try:
        for i, mine in enumerate(by_backend.values(), 1):
            done |= backend(mine, runs)
            for e in mine:
                print(f"[{i:>3}/{len(by_backend)}] {e.name}: {shown(done[e.name])}", flush=True)
            (run_dir / "control.json").write_text(json.dumps(done, indent=1))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(OUTCOMES + json.dumps(one(sys.argv[2], int(sys.argv[3]), sys.argv[4:])))
        sys.exit(0)
    sys.exit(main(Path(sys.argv[1])))
