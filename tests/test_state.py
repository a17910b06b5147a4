"""State across the boundary: ``Factorials``, an object that owns native memory, for every backend.

Each property once, parametrized over the registry: the values, step after
step across the kernel's shapes; ``n``, ``repr`` and ``iter``; a bad start
refused as ``factorial`` refuses it; copies and pickles refused; the GIL
released for a big step; eight threads sharing one iterator get every value
once; an iterator dropped while another thread steps it; memory flat over
100,000 iterators; and, slow, the end of the kernel's range.
"""

from __future__ import annotations

import copy
import gc
import itertools
import json
import math
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest
from test_boundary import RSS_MARGIN, spinner_progress

import factlab
from odd_inputs import INPUTS, MAX_N, beyond_bound, expected, outcome

STARTS = [0, 5, 20, 33, 34, 35, 799, 999, 20_000]  # the u64, u128, word-product and malachite shapes


def make(backend: factlab.Backend) -> Callable[..., Any]:
    return backend.Factorials  # type: ignore[no-any-return]


def test_every_backend_says_who_frees_its_state() -> None:
    """The registry's ``state`` fact: the chapter's table and ``which-one`` read it."""
    assert all(spec.state for spec in factlab.specs()), [s.name for s in factlab.specs() if not s.state]


@pytest.mark.parametrize("start", STARTS)
def test_each_step_is_the_next_factorial(backend: factlab.Backend, start: int) -> None:
    it = make(backend)(start)
    for n in range(start, start + 40):
        assert it.n == n
        assert next(it) == math.factorial(n), n
    assert it.n == start + 40


def test_the_iterator_protocol(backend: factlab.Backend) -> None:
    it = make(backend)()
    assert iter(it) is it
    assert (it.n, repr(it)) == (0, "Factorials(0)")
    assert list(itertools.islice(it, 6)) == [1, 1, 2, 6, 24, 120]
    assert (it.n, repr(it)) == (6, "Factorials(6)")
    with pytest.raises(AttributeError):
        it.n = 3


@pytest.mark.parametrize("case", [label for label, _ in INPUTS])
def test_a_bad_start_as_factorial(backend_name: str, backend: factlab.Backend, case: str) -> None:
    arg = dict(INPUTS)[case]()
    if not factlab.spec(backend_name).native and beyond_bound(arg):
        pytest.skip("the pure loop and math.factorial would accept it and work for hours at next()")
    got = outcome(lambda a: next(make(backend)(a)), arg)
    assert got == expected(arg), case


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, pickle.dumps], ids=lambda f: f.__name__)
def test_no_two_objects_share_one_state(backend: factlab.Backend, how: Callable[[object], object]) -> None:
    it = make(backend)(7)
    next(it)
    with pytest.raises(TypeError):
        how(it)
    assert next(it) == math.factorial(8)  # and the original goes on


def test_the_gil_is_released_for_a_big_step(native: factlab.Backend) -> None:
    """While the first step of Factorials(200_000) (a whole factorial) runs, another thread runs."""
    progress, free = spinner_progress(lambda: next(make(native)(200_000)))
    assert progress > 0.2 * free, f"the spinner advanced {progress} times, {free:.0f} when free"


def test_threads_sharing_one_iterator_get_every_value_once(backend: factlab.Backend) -> None:
    start, threads, steps = 20_000, 8, 25  # steps at n >= 10^4: the GIL is released in each
    it = make(backend)(start)
    barrier = threading.Barrier(threads)
    got: list[list[int]] = [[] for _ in range(threads)]

    def step(mine: list[int]) -> None:
        barrier.wait()
        mine.extend(next(it) for _ in range(steps))

    workers = [threading.Thread(target=step, args=(mine,)) for mine in got]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    values, want = sorted(v for mine in got for v in mine), [math.factorial(start)]
    for n in range(start + 1, start + threads * steps):
        want.append(want[-1] * n)
    assert values == want, "a value was skipped, repeated or wrong"
    assert all(mine == sorted(mine) for mine in got), "a thread saw its values out of order"
    assert it.n == start + threads * steps


def test_dropped_while_another_thread_steps_it(native: factlab.Backend) -> None:
    n, got = 1_000_000, []
    it = make(native)(n)
    worker = threading.Thread(target=lambda shared: got.append(next(shared)), args=(it,))
    worker.start()
    time.sleep(0.02)  # the first step (a whole factorial) takes about 0.1 s
    del it  # the running next() holds its own reference: nothing is freed under it
    gc.collect()
    worker.join()
    assert got[0].bit_length() == math.floor(math.lgamma(n + 1) / math.log(2)) + 1


def test_memory_is_flat_over_100_000_iterators(backend: factlab.Backend) -> None:
    cls, process = make(backend), psutil.Process()

    def churn(count: int) -> None:
        for i in range(count):
            it = cls(40 + i % 50)
            if i % 2:
                next(it)
                next(it)
            del it

    churn(20_000)
    gc.collect()
    before = process.memory_info().rss
    churn(100_000)
    gc.collect()
    growth = process.memory_info().rss - before
    assert growth < RSS_MARGIN, f"RSS grew {growth} bytes over 100,000 iterators"


# In a fresh process: the last value the kernel makes, then its refusal, then the end.
THE_END = """
import json, factlab
it = factlab.load({name!r}).Factorials({max_n})
out = [next(it).bit_length(), it.n]
try:
    next(it)
except OverflowError as exc:
    out.append(str(exc))
try:
    next(it)
except StopIteration:
    out.append("stop")
print(json.dumps(out))
"""


# Each run computes 10^8! (30 s to a minute, 5 GB at its peak): one backend per tool, since the
# backends of one tool share the code that turns the kernel's end into exceptions (the three cffi
# modes share _cffi.bind_iterator).
ONE_PER_TOOL = list({factlab.spec(n).tool: n for n in reversed(factlab.native_names())}.values())


@pytest.mark.slow
@pytest.mark.skipif(psutil.virtual_memory().available < 6 << 30, reason="10^8! needs about 5 GB at its peak")
@pytest.mark.parametrize("name", ONE_PER_TOOL)
def test_the_end_of_the_kernels_range(name: str) -> None:
    code = THE_END.format(name=name, max_n=MAX_N)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    bits, n, refusal, end = json.loads(proc.stdout)
    assert (bits, n, end) == (2_513_272_987, MAX_N + 1, "stop")  # log2(10^8!) = lgamma(10^8 + 1) / ln 2
    with pytest.raises(OverflowError) as caught:
        factlab.load(name).factorial(MAX_N + 1)
    assert refusal == str(caught.value)
