"""The hand-written extension modules: references, leaks, the GIL, panics.

``capi`` counts every reference by hand, ``rust-cpython`` relies on an old,
unmaintained crate and Cython generates the counting from its declarations:
these tests check what the shared contract suite cannot see from the outside.
They are parametrized over ``HANDWRITTEN``; the leak test runs over every
native backend in the registry.
"""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from types import ModuleType

import psutil
import pytest

import factlab
from odd_inputs import EXPENSIVE_N, MAX_N, BadIndex, Index, IndexFails

HANDWRITTEN = ("capi", "rust-cpython", "cython")
# The two Rust modules also export the kernel's constants.
RUST_MODULES = ("capi", "rust-cpython")
# The extension module behind each backend module (they are re-exports).
EXTENSION = {"capi": "factlab_capi", "rust-cpython": "factlab_cpython", "cython": "factlab_cython"}
# The leak test covers every backend that crosses into native code.
NATIVE = tuple(factlab.native_names())


def fresh(value: int) -> int:
    """A new int object equal to ``value`` (small ints are shared singletons)."""
    return int(str(value))


@pytest.fixture(params=HANDWRITTEN)
def backend(request: pytest.FixtureRequest) -> ModuleType:
    return factlab.load(request.param)


# --- reference counts ---------------------------------------------------------

CALLS = 2_000

# (argument, exception or None) for every path through the argument conversion.
GOOD_ARGS = [300, 20, 25, 40, EXPENSIVE_N]
BAD_ARGS: list[tuple[int | float, type[Exception]]] = [
    (-(10**30), ValueError),
    (-5_000, ValueError),
    (2**63, OverflowError),
    (MAX_N + 1, OverflowError),
    (1.5e300, TypeError),
]


@pytest.mark.parametrize("value", GOOD_ARGS)
def test_argument_refcount_unchanged_on_success(backend: ModuleType, value: int) -> None:
    n = fresh(value)
    before = sys.getrefcount(n)
    for _ in range(CALLS if value < EXPENSIVE_N else 200):
        backend.factorial(n)
    assert sys.getrefcount(n) == before


@pytest.mark.parametrize(("value", "error"), BAD_ARGS)
def test_argument_refcount_unchanged_on_error(
    backend: ModuleType, value: float, error: type[Exception]
) -> None:
    n = float(str(value)) if isinstance(value, float) else fresh(value)
    before = sys.getrefcount(n)
    for _ in range(CALLS):
        with pytest.raises(error):
            backend.factorial(n)
    assert sys.getrefcount(n) == before


@pytest.mark.parametrize(
    ("value", "error"),
    [(300, None), (25, None), (-(10**30), ValueError), (2**63, OverflowError), (MAX_N + 1, OverflowError)],
)
def test_index_result_released(backend: ModuleType, value: int, error: type[Exception] | None) -> None:
    """``PyNumber_Index`` returns a new reference: it must be released on every path."""
    inner = fresh(value)
    wrapper = Index(inner)
    before_inner, before_wrapper = sys.getrefcount(inner), sys.getrefcount(wrapper)
    for _ in range(CALLS):
        if error is None:
            backend.factorial(wrapper)
        else:
            with pytest.raises(error):
                backend.factorial(wrapper)
    assert sys.getrefcount(inner) == before_inner
    assert sys.getrefcount(wrapper) == before_wrapper


def test_raising_index_propagates_and_releases(backend: ModuleType) -> None:
    bad = BadIndex()
    before = sys.getrefcount(bad)
    for _ in range(CALLS):
        with pytest.raises(IndexFails, match="__index__ refused"):
            backend.factorial(bad)
    assert sys.getrefcount(bad) == before


@pytest.mark.parametrize("n", [20, 25, 40, EXPENSIVE_N])
def test_result_is_a_single_new_reference(backend: ModuleType, n: int) -> None:
    result = backend.factorial(n)
    # One reference from `result`, one from getrefcount's own argument.
    assert sys.getrefcount(result) == 2


# --- leaks ----------------------------------------------------------------------

LEAK_CALLS = 1_000_000
RSS_MARGIN = 2 * 1024 * 1024  # 2 MiB over 10^6 calls: a leak of 2 bytes per call shows
TRACED_MARGIN = 64 * 1024  # Python-allocator memory (ints, exceptions, tracebacks)

# Every path: table (u64, u128), limbs (Rust allocation), __index__, bool, and
# each error, including those raised inside __index__ conversion.
LEAK_INPUTS: list[tuple[object, type[Exception] | None]] = [
    (20, None),
    (25, None),
    (40, None),
    (300, None),
    (True, None),
    (Index(30), None),
    (Index(-(10**30)), ValueError),
    (-1, ValueError),
    (-(10**30), ValueError),
    (2**63, OverflowError),
    (MAX_N + 1, OverflowError),
    (1.5, TypeError),
    ("7", TypeError),
    (None, TypeError),
    (BadIndex(), IndexFails),
]


def call_mix(factorial: Callable[[object], object], calls: int) -> None:
    """``calls`` calls cycling through ``LEAK_INPUTS``, checking each outcome."""
    inputs = LEAK_INPUTS
    k = len(inputs)
    for i in range(calls):
        arg, error = inputs[i % k]
        if error is None:
            factorial(arg)
        else:
            try:
                factorial(arg)
            except error:
                pass
            else:
                raise AssertionError(f"factorial({arg!r}) did not raise {error.__name__}")


def memory_growth(factorial: Callable[[object], object], calls: int) -> tuple[int, int]:
    """(RSS growth, traced Python-allocator growth) in bytes over ``calls`` calls.

    A warm-up first fills CPython's free lists and pymalloc's arenas, so that
    what grows afterwards grows with the number of calls.
    """
    process = psutil.Process()
    call_mix(factorial, 50_000)
    gc.collect()
    tracemalloc.start()
    try:
        call_mix(factorial, 10_000)
        gc.collect()
        traced_before = tracemalloc.get_traced_memory()[0]
        rss_before = process.memory_info().rss
        call_mix(factorial, calls)
        gc.collect()
        rss_after = process.memory_info().rss
        traced_after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return rss_after - rss_before, traced_after - traced_before


def test_leak_detector_catches_a_leak() -> None:
    """The detector below must fail on a real leak (an int kept per call)."""
    kept: list[object] = []
    # (Not the pure-Python backend: it has no MAX_N bound, and would compute
    # (10**8)! for one of the inputs.)
    factorial = factlab.load(HANDWRITTEN[0]).factorial

    def leaky(n: object) -> object:
        kept.append(fresh(12345))
        return factorial(n)

    rss, traced = memory_growth(leaky, 200_000)
    assert traced > TRACED_MARGIN
    assert rss > RSS_MARGIN


@pytest.mark.slow
@pytest.mark.parametrize("name", NATIVE)
def test_no_leak_over_a_million_calls(name: str) -> None:
    factorial = factlab.load(name).factorial
    rss, traced = memory_growth(factorial, LEAK_CALLS)
    assert traced < TRACED_MARGIN, f"{name}: Python-allocator memory grew by {traced} bytes"
    assert rss < RSS_MARGIN, f"{name}: RSS grew by {rss} bytes over {LEAK_CALLS} calls"


PANIC_LOOP = """
import gc, sys, psutil, importlib
module = importlib.import_module(sys.argv[1])
def run(k):
    for _ in range(k):
        try:
            module.raise_panic()
        except RuntimeError:
            pass
run(2_000)
gc.collect()
before = psutil.Process().memory_info().rss
run(int(sys.argv[2]))
gc.collect()
print(psutil.Process().memory_info().rss - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", HANDWRITTEN)
def test_no_leak_through_panics(name: str) -> None:
    """A caught panic frees its payload and leaves the GIL state intact.

    In a child process: every panic prints a message on stderr (Rust's panic
    hook), which we discard, and RUST_BACKTRACE=0 keeps each one cheap.
    """
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    child = subprocess.run(
        [sys.executable, "-c", PANIC_LOOP, EXTENSION[name], "50000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
        timeout=300,
    )
    assert int(child.stdout) < RSS_MARGIN


# --- the GIL --------------------------------------------------------------------


class Spinner(threading.Thread):
    """A Python thread that counts as fast as it can: it advances only while it holds the GIL."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            self.count += 1


def test_gil_released_for_large_n(backend: ModuleType) -> None:
    """While factorial(200_000) runs, another Python thread keeps running.

    The spinner's rate is measured while this thread sleeps (time.sleep
    releases the GIL). If the backend held the GIL during the computation the
    spinner would be frozen for the whole call, whatever its duration; with a
    short switch interval the only progress it could make then is at the
    call's edges.
    """
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    spinner = Spinner()
    spinner.start()
    try:
        while spinner.count == 0:
            time.sleep(0.001)
        c0 = spinner.count
        t0 = time.perf_counter()
        time.sleep(0.05)
        rate = (spinner.count - c0) / (time.perf_counter() - t0)

        progress, busy = 0, 0.0
        for _ in range(3):
            c0, t0 = spinner.count, time.perf_counter()
            backend.factorial(200_000)
            busy += time.perf_counter() - t0
            progress += spinner.count - c0
    finally:
        spinner.stop = True
        spinner.join()
        sys.setswitchinterval(old_interval)
    expected = rate * busy
    assert progress > 0.2 * expected, (
        f"the spinner advanced {progress} times in {busy * 1e3:.1f} ms of factorial(200_000); "
        f"free, it advances {expected:.0f} times in that time: the GIL was not released"
    )


# --- panics and the module itself -------------------------------------------------


def test_panic_is_a_runtime_error_and_the_module_survives(backend: ModuleType) -> None:
    for _ in range(3):
        with pytest.raises(RuntimeError, match="panic"):
            backend.raise_panic()
    # The GIL was taken back and the module still works, big and small.
    assert backend.factorial(5) == 120
    assert backend.factorial(EXPENSIVE_N).bit_length() == 8530


@pytest.mark.parametrize("name", RUST_MODULES)
def test_extension_module_constants(name: str) -> None:
    """The module initialisation ran to the end (capi: the Py_mod_exec slot)."""
    module = importlib.import_module(EXTENSION[name])
    assert module.MAX_N == MAX_N
    assert module.EXPENSIVE_N == EXPENSIVE_N
