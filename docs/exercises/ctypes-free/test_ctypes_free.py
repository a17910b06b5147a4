"""ctypes-free: the wrapper must give the library's memory back.

Run with ``just exercise ctypes-free`` (it tests ``start/``, your code).
"""

from __future__ import annotations

import gc
import math

import ctypes_factorial as wrapper
import psutil
import pytest

# 20000! takes about 32 KiB of limbs: big enough for a leak to show in the
# process's resident memory (RSS), small enough to compute in a millisecond.
N = 20_000
CALLS = 1_000


@pytest.mark.parametrize("n", [0, 1, 5, 20, 21, 34, 35, 100, 1_000, N])
def test_values(n: int) -> None:
    assert wrapper.factorial(n) == math.factorial(n)


@pytest.mark.parametrize(
    ("bad", "exception"),
    [
        (5.0, TypeError),
        ("5", TypeError),
        (-1, ValueError),
        (2**63, OverflowError),
        (10**8 + 1, OverflowError),
    ],
)
def test_errors_as_math_factorial(bad: object, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        wrapper.factorial(bad)


def test_frees_what_the_library_allocated() -> None:
    limb_bytes = (math.factorial(N).bit_length() + 63) // 64 * 8
    process = psutil.Process()
    for _ in range(20):  # warm up: the allocator's arenas, ctypes' caches
        wrapper.factorial(N)
    gc.collect()
    before = process.memory_info().rss
    for _ in range(CALLS):
        wrapper.factorial(N)
    gc.collect()
    grown = process.memory_info().rss - before
    never_freed = CALLS * limb_bytes  # what RSS grows by if no limbs are ever freed
    assert grown < never_freed / 4, (
        f"{CALLS} calls of factorial({N}) grew the process by {grown / 2**20:.1f} MiB, about "
        f"{grown / CALLS / 1024:.0f} KiB per call; each result's limbs take "
        f"{limb_bytes / 1024:.0f} KiB. The limbs the library allocated are never given back: "
        "see who owns FactlabBig.limbs in crates/clib/include/factlab.h"
    )
