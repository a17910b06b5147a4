"""cffi-gc: each Python object must give its native iterator back to the library.

Run with ``just exercise cffi-gc`` (it tests ``start/``, your code).
"""

from __future__ import annotations

import copy
import gc
import math
import pickle
from collections.abc import Callable

import cffi_factorials as wrapper
import psutil
import pytest

# Each iterator takes one step at N: the library then keeps N! (about 2.4 KB
# of limbs) inside it, to multiply by N + 1 at the next step. 20,000 of them
# never freed make the process grow by at least 46 MiB (80 measured here),
# plain to see in its resident memory (RSS); freed, they grow it by nothing:
# each new iterator reuses the memory of the one before.
N = 2_000
ITERATORS = 20_000


@pytest.mark.parametrize("start", [0, 5, 20, 34, 35, 1_000])
def test_values(start: int) -> None:
    it = wrapper.Factorials(start)
    assert [next(it) for _ in range(5)] == [math.factorial(start + i) for i in range(5)]
    assert it.n == start + 5
    assert repr(it) == f"Factorials({start + 5})"
    assert iter(it) is it


@pytest.mark.parametrize(
    ("bad", "exception"),
    [(5.0, TypeError), ("5", TypeError), (-1, ValueError), (10**8 + 1, OverflowError)],
)
def test_bad_starts_as_math_factorial(bad: object, exception: type[Exception]) -> None:
    with pytest.raises(exception):
        wrapper.Factorials(bad)


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, pickle.dumps])
def test_no_copies(how: Callable[[object], object]) -> None:
    with pytest.raises(TypeError):
        how(wrapper.Factorials(3))


def dropped(count: int) -> None:
    """Makes ``count`` iterators, one step each at N, and drops each one."""
    for _ in range(count):
        it = wrapper.Factorials(N)
        next(it)
        del it  # its last reference: whatever frees the native iterator runs now


def test_dropped_iterators_are_freed() -> None:
    kept_bytes = (math.factorial(N).bit_length() + 63) // 64 * 8  # the limbs of N! inside each
    process = psutil.Process()
    dropped(1_000)  # warm up: the allocator's arenas, cffi's caches
    gc.collect()
    before = process.memory_info().rss
    dropped(ITERATORS)
    gc.collect()
    grown = process.memory_info().rss - before
    never_freed = ITERATORS * kept_bytes  # what RSS grows by if no iterator is ever freed
    assert grown < never_freed / 4, (
        f"{ITERATORS} iterators, each dropped after one step at n = {N}, grew the process by "
        f"{grown / 2**20:.1f} MiB, about {grown / ITERATORS / 1024:.1f} KiB each; each keeps {N}! "
        f"({kept_bytes / 1024:.1f} KiB of limbs) inside the library. The Python objects are gone, "
        "the library's iterators are not: see who owns a FactlabFactorials in "
        "crates/clib/include/factlab.h, and what could free it when the Python object goes"
    )
