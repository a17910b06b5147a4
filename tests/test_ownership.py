"""Who allocates, and nothing lost on any path: every allocation strategy of every FFI backend.

Each FFI backend over the C ABI library brings its big results back one or
more ways (``strategies``: callee-allocates, caller-allocates, by-value; see
the book's "Who allocates?"). For each of them:

- exact results on every shape of n;
- no leak when a signal handler's exception interrupts a big call: CPython
  runs the handler as the foreign call returns, after the library allocated
  and before Python used the result. A free that sits after that point is
  skipped, and each interrupted call loses a whole result.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

import factlab

FFI = factlab.backend_names("ffi")


def _strategies(name: str) -> dict[str, Callable[[int], int]]:
    backend = factlab.load(name)
    return getattr(backend, "strategies", None) or {"factorial": backend.factorial}


# (backend, strategy) for every FFI backend of the registry, read from the modules.
CASES = [(name, strategy) for name in FFI for strategy in _strategies(name)]


def test_every_ffi_backend_is_covered() -> None:
    names = {name for name, _ in CASES}
    assert names == set(FFI)
    assert len(FFI) >= 2
    assert len(CASES) > len(FFI)  # the modules' strategies are really read


@pytest.mark.parametrize(("name", "strategy"), CASES)
def test_strategy_is_exact(name: str, strategy: str) -> None:
    factorial = _strategies(name)[strategy]
    for n in (0, 20, 21, 34, 35, 100, 170, 171, 999, 1000, 12_345):
        assert factorial(n) == math.factorial(n), n
    with pytest.raises(OverflowError):
        factorial(100_000_001)
    with pytest.raises(ValueError, match="negative"):
        factorial(-1)


# glibc gives each thread that allocates a malloc arena of its own (up to 8 per core), and an arena
# keeps what was freed in it for its next allocations: with the kernel's threads (a long call works
# on one), the RSS of a loop of big calls rises over its first calls, then stays flat. A leak check
# wants the leaks only: one arena for every thread.
ONE_ARENA = {**os.environ, "MALLOC_ARENA_MAX": "1"}

# In a fresh process: big calls, each interrupted by SIGALRM whose handler
# raises; the resident memory after the interrupted calls, and how many were
# really interrupted.
INTERRUPTED = """
import gc, json, psutil, signal, time, factlab
backend = factlab.load({name!r})
factorial = (getattr(backend, "strategies", None) or {{"factorial": backend.factorial}})[{strategy!r}]

class Interrupted(Exception):
    pass

def handler(signum, frame):
    raise Interrupted

signal.signal(signal.SIGALRM, handler)
rss = lambda: psutil.Process().memory_info().rss

def run(calls):
    interrupted = 0
    for _ in range(calls):
        # The alarm rings a few ms into the call; the handler runs as it returns.
        signal.setitimer(signal.ITIMER_REAL, 0.005)
        try:
            factorial({n})
            signal.setitimer(signal.ITIMER_REAL, 0)
        except Interrupted:
            interrupted += 1
    return interrupted

run(3)
gc.collect()
before = rss()
interrupted = run({calls})
time.sleep(1)  # a stopped kernel thread frees its state after its step in flight
gc.collect()
print(json.dumps([interrupted, rss() - before]))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs signal.setitimer (POSIX)")
@pytest.mark.parametrize(("name", "strategy"), CASES)
def test_no_leak_when_a_signal_interrupts_a_big_call(name: str, strategy: str) -> None:
    n, calls = 1_000_000, 20
    code = INTERRUPTED.format(name=name, strategy=strategy, n=n, calls=calls)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=ONE_ARENA
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    interrupted, growth = json.loads(proc.stdout)
    assert interrupted >= calls // 2, (
        f"only {interrupted} of {calls} calls were interrupted: the test proves nothing"
    )
    result = math.ceil(n * math.log2(n / math.e) / 8)  # bytes of n! (Stirling, within 0.01 %)
    assert growth < interrupted * result // 4, (
        f"{name} ({strategy}): RSS grew by {growth} bytes over {interrupted} interrupted calls "
        f"({result} bytes each)"
    )
