"""The binding's boundary: panics, the GIL, references and memory.

What the contract cannot see from the outside, each property tested once and
parametrized over the registry: a panic becomes the exception the registry
names; large computations let other threads run; the wrappers that count
references by hand release every one; nothing the kernel allocates is kept.
"""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import psutil
import pytest
from conftest import load, names

import factlab
from factlab.backends._cffi import bind
from odd_inputs import EXPENSIVE_N, MAX_N, BadIndex, Index, IndexFails

HANDWRITTEN = names(lambda spec: spec.refcounts_by_hand)
FFI = names(lambda spec: spec.kind == "ffi")


def fresh(value: int) -> int:
    """A new int object equal to ``value`` (small ints are shared singletons)."""
    return int(str(value))


# --- panics -----------------------------------------------------------------------


def test_panic_becomes_the_registrys_exception(
    native_name: str, native: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    expected = factlab.spec(native_name).panic
    for _ in range(3):
        with pytest.raises(BaseException, match=r"(?i)panic") as info:
            native.raise_panic()
        assert type(info.value).__name__ == expected
    assert "deliberate panic" in capfd.readouterr().err  # Rust's panic hook, on fd 2
    # The GIL was taken back and the module still works, big and small.
    assert native.factorial(5) == 120
    assert native.factorial(EXPENSIVE_N) == math.factorial(EXPENSIVE_N)


PANIC_LOOP = """
import gc, sys, psutil, factlab
backend = factlab.load(sys.argv[1])
def run(k):
    for _ in range(k):
        try:
            backend.raise_panic()
        except BaseException as exc:  # PyO3's PanicException is a BaseException
            assert "anic" in str(exc) or "anic" in type(exc).__name__
run(2_000)
gc.collect()
before = psutil.Process().memory_info().rss
run(int(sys.argv[2]))
gc.collect()
print(psutil.Process().memory_info().rss - before)
"""


@pytest.mark.slow
def test_no_leak_through_panics(native_name: str) -> None:
    """A caught panic frees its payload and leaves the GIL state intact.

    In a child process: every panic prints a message on stderr (Rust's panic
    hook), which we discard, and RUST_BACKTRACE=0 keeps each one cheap.
    """
    child = subprocess.run(
        [sys.executable, "-c", PANIC_LOOP, native_name, "50000"],
        env={**os.environ, "RUST_BACKTRACE": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
        timeout=300,
    )
    assert int(child.stdout) < RSS_MARGIN


# --- the GIL ------------------------------------------------------------------------


class Spinner(threading.Thread):
    """A Python thread that counts as fast as it can: it advances only while it holds the GIL."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            self.count += 1


def spinner_progress(work: Callable[[], object], calls: int = 3) -> tuple[int, float]:
    """(the Spinner's progress during ``calls`` runs of ``work``, its free pace in that time)."""
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # holding the GIL, a call lets the spinner in at its edges only
    spinner = Spinner()
    spinner.start()
    try:
        while spinner.count == 0:
            time.sleep(0.001)
        c0, t0 = spinner.count, time.perf_counter()
        time.sleep(0.05)
        rate = (spinner.count - c0) / (time.perf_counter() - t0)
        progress, busy = 0, 0.0
        for _ in range(calls):
            c0, t0 = spinner.count, time.perf_counter()
            work()
            busy += time.perf_counter() - t0
            progress += spinner.count - c0
    finally:
        spinner.stop = True
        spinner.join()
        sys.setswitchinterval(old_interval)
    return progress, rate * busy


def test_gil_released_for_large_n(native: Any) -> None:
    """While factorial(200_000) runs, another Python thread keeps running.

    The spinner's rate is measured while this thread sleeps (time.sleep
    releases the GIL). If the backend held the GIL during the computation the
    spinner would be frozen for the whole call, whatever its duration; with a
    short switch interval the only progress it could make then is at the
    call's edges. A ratio within one run: no wall-clock threshold.
    """
    progress, expected = spinner_progress(lambda: native.factorial(200_000))
    assert progress > 0.2 * expected, (
        f"the spinner advanced {progress} times during 3 calls of factorial(200_000); "
        f"free, it advances {expected:.0f} times in that time: the GIL was not released"
    )


# --- references, where the wrapper's author counts them -------------------------------

CALLS = 2_000
GOOD_ARGS = [300, 20, 25, 40, EXPENSIVE_N]
BAD_ARGS: list[tuple[int | float, type[Exception]]] = [
    (-(10**30), ValueError),
    (-5_000, ValueError),
    (2**63, OverflowError),
    (MAX_N + 1, OverflowError),
    (1.5e300, TypeError),
]


@pytest.fixture(params=HANDWRITTEN)
def handwritten(request: pytest.FixtureRequest) -> Any:
    return load(request.param)


@pytest.mark.parametrize(("value", "error"), [(v, None) for v in GOOD_ARGS] + BAD_ARGS)
def test_argument_references_are_released(
    handwritten: Any, value: float, error: type[Exception] | None
) -> None:
    """Before/after deltas: the argument, and what ``__index__`` returned, on every path."""
    n = float(str(value)) if isinstance(value, float) else fresh(value)
    inner = fresh(int(value)) if isinstance(value, int) else n
    wrapper = Index(inner) if isinstance(value, int) else n
    before = sys.getrefcount(n), sys.getrefcount(inner), sys.getrefcount(wrapper)
    calls = CALLS if value != EXPENSIVE_N else 200
    for _ in range(calls):
        call(handwritten.factorial, n, error)
        call(handwritten.factorial, wrapper, error)
    assert (sys.getrefcount(n), sys.getrefcount(inner), sys.getrefcount(wrapper)) == before


def call(factorial: Callable[[object], object], arg: object, error: type[Exception] | None) -> None:
    if error is None:
        factorial(arg)
    else:
        with pytest.raises(error):
            factorial(arg)


def test_raising_index_propagates_and_releases(handwritten: Any) -> None:
    bad = BadIndex()
    before = sys.getrefcount(bad)
    for _ in range(CALLS):
        with pytest.raises(IndexFails, match="__index__ refused"):
            handwritten.factorial(bad)
    assert sys.getrefcount(bad) == before


@pytest.mark.parametrize("n", [20, 25, 40, EXPENSIVE_N])
def test_result_has_no_extra_reference(handwritten: Any, n: int) -> None:
    """The result holds as many references as math.factorial's: none kept inside."""
    assert sys.getrefcount(handwritten.factorial(n)) == sys.getrefcount(math.factorial(n))


# --- memory: nothing the kernel allocates is kept ----------------------------------------

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
    factorial = load("math").factorial
    # math.factorial has no bound: give it a refusal of its own for MAX_N + 1.

    def leaky(n: object) -> object:
        kept.append(fresh(12345))
        if n == MAX_N + 1:
            raise OverflowError
        return factorial(n)  # type: ignore[arg-type]

    rss, traced = memory_growth(leaky, 200_000)
    assert traced > TRACED_MARGIN
    assert rss > RSS_MARGIN


@pytest.mark.slow
def test_no_leak_over_a_million_calls(native_name: str, native: Any) -> None:
    rss, traced = memory_growth(native.factorial, LEAK_CALLS)
    assert traced < TRACED_MARGIN, f"{native_name}: Python-allocator memory grew by {traced} bytes"
    assert rss < RSS_MARGIN, f"{native_name}: RSS grew by {rss} bytes over {LEAK_CALLS} calls"


# In a fresh interpreter: the resident memory after warming up, then after
# many more big results; a leak of the limbs would grow it by ~40 MB.
BIG_RESULTS_CHILD = """
import gc, math, psutil, factlab
backend = factlab.load({name!r})
rss = lambda: psutil.Process().memory_info().rss
n, expected = 100_000, math.factorial(100_000)
for _ in range(20):
    assert backend.factorial(n) == expected
gc.collect()
before = rss()
for _ in range(200):
    backend.factorial(n)
gc.collect()
print(rss() - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", FFI)
def test_big_results_are_given_back(name: str) -> None:
    """The FFI wrappers own a result the library allocated: each one goes back."""
    result = subprocess.run(
        [sys.executable, "-c", BIG_RESULTS_CHILD.format(name=name)],
        capture_output=True,
        text=True,
        check=True,
    )
    growth = int(result.stdout)
    limbs = 200 * math.factorial(100_000).bit_length() // 8  # what a leak of every result would cost
    assert growth < limbs // 4, f"{name}: RSS grew by {growth} bytes over 200 results of {limbs // 200} bytes"


class CountingLib:
    """Stands in for a cffi ``lib``: forwards everything, counts allocations and frees."""

    def __init__(self, lib: Any, null: Any) -> None:
        self._lib = lib
        self._null = null
        self.allocated = 0
        self.freed = 0  # calls that really gave limbs back: {NULL, 0} afterwards

    def factlab_factorial(self, n: int, out: Any) -> int:
        status = self._lib.factlab_factorial(n, out)
        self.allocated += status == self._lib.FACTLAB_OK
        return status

    def factlab_big_free(self, big: Any) -> None:
        had_limbs = big.limbs != self._null
        self._lib.factlab_big_free(big)
        self.freed += had_limbs and big.limbs == self._null and big.len == 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)


@pytest.mark.parametrize("name", names(lambda spec: spec.tool == "cffi"))
def test_cffi_frees_every_big_result_even_on_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared cffi wrapper, bound to a counting lib: each allocation freed once, errors included.

    (tests/test_ownership.py interrupts big calls of every strategy with signals.)
    """
    from factlab.backends import _cffi

    backend: Any = load(name)
    lib = CountingLib(backend.lib, backend.ffi.NULL)
    # The strategy in which the library allocates and Python must free.
    factorial = bind(backend.ffi, lib)[3]["callee-allocates"]
    for n in (35, 100, 999, 1000, 12_345):
        assert factorial(n) == math.factorial(n)
    factorial(20)  # small results and refusals allocate nothing
    with pytest.raises(OverflowError):
        factorial(MAX_N + 1)
    assert lib.allocated == lib.freed == 5

    class Boom(int):
        @classmethod
        def from_bytes(cls, *args: Any, **kwargs: Any) -> int:
            raise MemoryError("simulated: the int could not be built")

    monkeypatch.setattr(_cffi, "int", Boom, raising=False)  # shadows the builtin in the module
    with pytest.raises(MemoryError, match="simulated"):
        factorial(1000)
    assert lib.allocated == lib.freed == 6
