"""ctypes-gil: a long foreign call must let the other Python threads run.

Run with ``just exercise ctypes-gil`` (it tests ``start/``, your code).

The test starts a "heartbeat" thread that records the time every
millisecond, then computes a large factorial in the main thread. A Python
thread runs only while it holds the GIL: if the foreign call keeps the GIL,
the heartbeat stops for the whole call.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable

import ctypes_gil as wrapper
import pytest

# Takes a few hundred milliseconds: long enough to tell a pause of the
# heartbeat from the scheduler's noise.
BIG_N = 3_000_000


@pytest.mark.parametrize("n", [0, 1, 20, 21, 34, 35, 999, 1_000, 20_000])
def test_values(n: int) -> None:
    assert wrapper.factorial(n) == math.factorial(n)


@pytest.mark.parametrize(
    ("bad", "exception"), [(5.0, TypeError), (-1, ValueError), (10**8 + 1, OverflowError)]
)
def test_errors_as_math_factorial(bad: object, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        wrapper.factorial(bad)


def longest_pause(work: Callable[[], object]) -> tuple[float, float]:
    """Runs ``work`` while another thread beats: (work's duration, longest gap between beats)."""
    beats: list[float] = []
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            beats.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=heartbeat)
    thread.start()
    time.sleep(0.05)  # the heartbeat is going
    start = time.perf_counter()
    work()
    end = time.perf_counter()
    stop.set()
    thread.join()
    inside = [start, *(t for t in beats if start < t < end), end]
    return end - start, max(b - a for a, b in itertools.pairwise(inside))


def test_other_threads_run_during_a_long_call() -> None:
    duration, pause = longest_pause(lambda: wrapper.factorial(BIG_N))
    assert pause < duration / 2, (
        f"factorial({BIG_N}) took {duration * 1000:.0f} ms, and for {pause * 1000:.0f} ms of it no "
        "other Python thread ran: the foreign call kept the GIL. Which ctypes handle releases it?"
    )
