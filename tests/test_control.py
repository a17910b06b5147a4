"""Control across the boundary: ``factorial_progress`` and Ctrl-C, for every backend in the registry.

Each property once, parametrized over the registry: the values and the
callback's reports (``done`` only grows and ends at ``total``); bad ``n`` and
a non-callable callback refused before any work; an exception from the
callback comes out as the same object, nothing printed; a callback may call
``factorial`` itself; a call from another thread. Then, in a fresh process per
native backend: a SIGINT in the middle of ``factorial(10**8)`` (the kernel's
bound) and of ``factorial_progress`` raises KeyboardInterrupt before a
smaller call could even finish; a handler that does not raise lets the call
finish with the right value; interrupted calls leave the memory flat.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ownership import ONE_ARENA

import factlab
from odd_inputs import INPUTS, LONG_MAX, MAX_N, beyond_bound, expected, outcome

INTERRUPTIBLE_N = 100_000  # factlab_core::control::INTERRUPTIBLE_N: from here on a kernel thread works
LONG = 2_000_000  # about 0.2 s in the kernel: several ticks


class Recorder:
    """A callback that keeps every ``(done, total)`` it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def check(self) -> None:
        """The reports of one call: ints, one total, done growing within it, the last one complete."""
        assert self.calls, "the callback was never called"
        assert all(type(d) is int and type(t) is int for d, t in self.calls), self.calls[:3]
        assert len({t for _, t in self.calls}) == 1, "total changed during the call"
        dones = [d for d, _ in self.calls]
        assert dones == sorted(dones), dones
        assert 0 <= dones[0] <= self.calls[0][1], dones  # done within the one total
        assert self.calls[-1][0] == self.calls[-1][1], f"the last call is not complete: {self.calls[-1]}"


def skip_slow_baseline(backend_name: str, n: int = INTERRUPTIBLE_N) -> None:
    """Python's own big-int products are quadratic: keep the baselines to n their loops finish."""
    if backend_name == factlab.PURE or (backend_name == factlab.STDLIB and n > INTERRUPTIBLE_N):
        pytest.skip(f"{backend_name} takes too long at n = {n}: its reports are checked on smaller n")


# --- values and reports ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 3000))
def test_values_and_reports(backend: factlab.Backend, n: int) -> None:
    seen = Recorder()
    assert backend.factorial_progress(n, seen) == math.factorial(n)
    seen.check()


@pytest.mark.parametrize("n", [INTERRUPTIBLE_N - 1, INTERRUPTIBLE_N, 250_001])
def test_values_around_the_kernel_thread(backend_name: str, backend: factlab.Backend, n: int) -> None:
    skip_slow_baseline(backend_name, n)
    seen = Recorder()
    assert backend.factorial_progress(n, seen) == math.factorial(n)
    seen.check()


def test_a_long_call_reports_as_it_goes(backend_name: str, backend: factlab.Backend) -> None:
    skip_slow_baseline(backend_name)
    seen = Recorder()  # math reports after each of its steps (10 at 10^5)
    backend.factorial_progress(INTERRUPTIBLE_N if backend_name == factlab.STDLIB else LONG, seen)
    seen.check()
    assert len(seen.calls) >= 3, f"{len(seen.calls)} reports in a call of several ticks"
    assert seen.calls[0][0] < seen.calls[0][1], "the first report came at the end"


# --- refusals before any work -------------------------------------------------------------------


@pytest.mark.parametrize("case", [label for label, _ in INPUTS])
def test_bad_n_as_factorial_and_no_call(backend_name: str, backend: factlab.Backend, case: str) -> None:
    arg = dict(INPUTS)[case]()
    if not factlab.spec(backend_name).native and beyond_bound(arg):
        pytest.skip("the pure loop and math.factorial would work for hours")
    seen = Recorder()
    got = outcome(lambda a: backend.factorial_progress(a, seen), arg)
    assert got == expected(arg), case
    if got.startswith("raises"):
        assert seen.calls == [], "the callback was called for a refused n"


@pytest.mark.parametrize("callback", [None, 5, "f", object()], ids=repr)
def test_a_callback_that_is_not_callable(backend: factlab.Backend, callback: object) -> None:
    message = f"callback must be callable, not {type(callback).__name__}"
    with pytest.raises(TypeError, match=f"^{message}$"):
        backend.factorial_progress(30, callback)  # type: ignore[arg-type]


def test_bad_n_beats_a_bad_callback(backend: factlab.Backend) -> None:
    with pytest.raises(ValueError, match="negative"):
        backend.factorial_progress(-1, None)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        backend.factorial_progress(LONG_MAX + 1, None)  # type: ignore[arg-type]


def test_the_bound_beats_a_bad_callback(backend_name: str, backend: factlab.Backend) -> None:
    """Past the kernel's bound, n is refused as ``factorial`` refuses it, before the callback is looked at."""
    if not factlab.spec(backend_name).native:
        pytest.skip("the pure loop and math.factorial have no bound: they would work for hours")
    with pytest.raises(OverflowError) as by_factorial:
        backend.factorial(MAX_N + 1)
    with pytest.raises(OverflowError) as by_progress:
        backend.factorial_progress(MAX_N + 1, "not callable")  # type: ignore[arg-type]
    assert str(by_progress.value) == str(by_factorial.value)


# --- what the callback does ---------------------------------------------------------------------


class Stop(Exception):
    pass


@pytest.mark.parametrize("n", [30, LONG])
def test_the_callback_exception_comes_out_unchanged(
    backend_name: str, backend: factlab.Backend, n: int, capfd: pytest.CaptureFixture[str]
) -> None:
    if n == LONG and backend_name == factlab.PURE:
        n = 20_000  # the loop reports every tick too; 2 * 10^6 would take minutes if not stopped
    raised = Stop("from the callback")
    calls: list[int] = []

    def stop(done: int, total: int) -> None:
        calls.append(done)
        raise raised

    with pytest.raises(Stop) as caught:
        backend.factorial_progress(n, stop)
    assert caught.value is raised
    assert len(calls) == 1, "the work went on after the callback raised"
    assert capfd.readouterr() == ("", ""), "something was printed"
    assert backend.factorial(25) == math.factorial(25)  # and the backend still works


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit, MemoryError])
def test_base_exceptions_come_out_too(backend: factlab.Backend, exception: type[BaseException]) -> None:
    raised = exception()

    def stop(done: int, total: int) -> None:
        raise raised

    with pytest.raises(exception) as caught:
        backend.factorial_progress(5, stop)
    assert caught.value is raised


def test_the_callback_may_call_factorial(backend_name: str, backend: factlab.Backend) -> None:
    skip_slow_baseline(backend_name)
    inner: list[int] = []

    def nested(done: int, total: int) -> None:
        if not inner:  # once: a kernel thread inside a kernel thread's wait
            inner.append(backend.factorial(INTERRUPTIBLE_N + 1))
        inner.append(backend.factorial(30))

    assert backend.factorial_progress(INTERRUPTIBLE_N + 7, nested) == math.factorial(INTERRUPTIBLE_N + 7)
    assert inner[0] == math.factorial(INTERRUPTIBLE_N + 1)
    assert set(inner[1:]) == {math.factorial(30)}


def test_a_call_from_another_thread(backend_name: str, backend: factlab.Backend) -> None:
    skip_slow_baseline(backend_name)
    seen, result, n = Recorder(), [], INTERRUPTIBLE_N + 1
    worker = threading.Thread(target=lambda: result.append(backend.factorial_progress(n, seen)))
    worker.start()
    worker.join()
    assert result == [math.factorial(n)]
    seen.check()


# --- Ctrl-C, in a fresh process per backend ------------------------------------------------------

# Times are compared within one run only: an interrupted call of the kernel's
# largest n must end before an uninterrupted call of a 20 times smaller one.
CTRL_C = """
import gc, json, os, signal, threading, time
import psutil, factlab
backend = factlab.load({name!r})
BIG, SMALLER = {big}, {smaller}

def interrupted(call, after=0.05):
    threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        call()
    except KeyboardInterrupt:
        return time.perf_counter() - start
    time.sleep(2 * after)  # the signal may still be on its way: not inside the next call
    return None

start = time.perf_counter()
backend.factorial(SMALLER)
full = time.perf_counter() - start
out = {{"full": full}}
out["factorial"] = interrupted(lambda: backend.factorial(BIG))
out["factorial_progress"] = interrupted(lambda: backend.factorial_progress(BIG, lambda d, t: None))
out["after"] = backend.factorial(25) == 15511210043330985984000000

# A handler that does not raise: the call finishes, with the right value.
expected = backend.factorial(10**6)
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGINT)).start()
out["not raising"] = backend.factorial(10**6) == expected and seen == [signal.SIGINT]
signal.signal(signal.SIGINT, signal.default_int_handler)

# Twenty interrupted calls: the memory comes back once each kernel thread has ended its step
# (one malloc arena, ONE_ARENA: none keeps what a finished thread freed).
rss = lambda: psutil.Process().memory_info().rss
interrupted(lambda: backend.factorial(10**7), 0.03)
time.sleep(1); gc.collect(); before = rss()
out["interrupted"] = sum(interrupted(lambda: backend.factorial(10**7), 0.03) is not None for _ in range(20))
time.sleep(1); gc.collect()
out["growth"] = rss() - before
print(json.dumps(out))
"""


def interruptible() -> list[str]:
    return [s.name for s in factlab.specs() if s.native and s.ctrl_c is not None]


def test_every_native_backend_lets_ctrl_c_in() -> None:
    """The registry says how; a native backend that cannot be interrupted is a bug, not a skip."""
    assert interruptible() == factlab.native_names()
    assert factlab.spec(factlab.STDLIB).ctrl_c is None  # math.factorial cannot be stopped


@pytest.mark.slow
@pytest.mark.parametrize("name", interruptible())
def test_ctrl_c_stops_the_biggest_call(name: str) -> None:
    code = CTRL_C.format(name=name, big=MAX_N, smaller=MAX_N // 20)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=ONE_ARENA
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    for call in ("factorial", "factorial_progress"):
        took = out[call]
        assert took is not None, f"{name}: {call}({MAX_N}) ran to completion despite SIGINT"
        assert took < out["full"], (
            f"{name}: {call}({MAX_N}) took {took:.3f} s to answer SIGINT sent at 0.05 s, longer than "
            f"a whole factorial({MAX_N // 20}) ({out['full']:.3f} s)"
        )
    assert out["after"], "the backend does not work after an interrupted call"
    assert out["not raising"], "a handler that does not raise did not let the call finish"
    assert out["interrupted"] >= 15, f"only {out['interrupted']} of 20 calls were interrupted"
    result = 10**7 * math.log2(10**7 / math.e) / 8  # bytes of 10^7! (Stirling)
    assert out["growth"] < result, f"{name}: RSS grew {out['growth']} bytes over 20 interrupted calls"
