"""Many values in, a string out: ``factorials`` and ``factorial_str`` for every backend in the registry.

Each property once, parametrized over the registry (a new backend inherits
them all): the values of every accepted shape of input against math
(hypothesis); the odd-input table applied element by element; the buffers
refused; a buffer resized during a call; ``factorial_str`` under the lowest
digit limit; nothing leaked; the GIL released for big batches.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import json
import math
import operator
import random
import subprocess
import sys
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_boundary import RSS_MARGIN, TRACED_MARGIN, memory_growth, spinner_progress
from test_index_once import Counting

import factlab
from odd_inputs import INPUTS, LONG_MAX, MAX_N, BadIndex, IndexFails

SHARED_FIXTURE = [HealthCheck.function_scoped_fixture]  # the fixtures only hand over modules and makers
BUFFER_REFUSAL = "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one dimension), got "


def skip_baseline(backend_name: str, reason: str) -> None:
    if not factlab.spec(backend_name).native:
        pytest.skip(reason)


# --- the values, from every shape of input ---------------------------------------------------


def interleaved(ns: list[int], poison: int, step: int) -> list[int]:
    """``ns`` with ``step - 1`` poison values after each: its ``[::step]`` is ``ns``, the poison fails."""
    out = [poison] * (len(ns) * step)
    out[::step] = ns
    return out


def numpy_array(ns: list[int], dtype: str, step: int = 1) -> Any:
    np = pytest.importorskip("numpy")
    poison = 2**64 - 1 if dtype == "uint64" else -1  # OverflowError or ValueError if read
    return np.array(interleaved(ns, poison, step), dtype=dtype)[::step]


# Every shape factorials accepts; a buffer's format is in the name.
SHAPES: dict[str, Callable[[list[int]], object]] = {
    "list": list,
    "tuple": tuple,
    "array('q')": lambda ns: array("q", ns),
    "array('Q')": lambda ns: array("Q", ns),
    "memoryview('q')[::2]": lambda ns: memoryview(array("q", interleaved(ns, -1, 2)))[::2],
    "ctypes c_int64 ('<q')": lambda ns: (ctypes.c_int64 * len(ns))(*ns),
    "ctypes c_uint64 ('<Q')": lambda ns: (ctypes.c_uint64 * len(ns))(*ns),
    "numpy int64 ('l')": lambda ns: numpy_array(ns, "int64"),
    "numpy uint64 ('L')": lambda ns: numpy_array(ns, "uint64"),
    "numpy int64[::3]": lambda ns: numpy_array(ns, "int64", 3),
    "numpy uint64[::3]": lambda ns: numpy_array(ns, "uint64", 3),
}
if array("l").itemsize == 8:
    SHAPES["array('l')"] = lambda ns: array("l", ns)

SOME_NS = st.lists(st.integers(0, 20) | st.integers(0, 400), max_size=40)  # small and big results


@pytest.fixture(params=list(SHAPES))
def shape(request: pytest.FixtureRequest) -> Callable[[list[int]], object]:
    if "numpy" in request.param:
        pytest.importorskip("numpy")
    return SHAPES[request.param]


@given(ns=SOME_NS)
@example(ns=[])
@settings(max_examples=40, deadline=None, suppress_health_check=SHARED_FIXTURE)
def test_values_from_every_shape(
    backend: factlab.Backend, shape: Callable[[list[int]], object], ns: list[int]
) -> None:
    got = backend.factorials(shape(ns))  # type: ignore[arg-type]
    assert type(got) is list
    assert all(type(value) is int for value in got)
    assert got == [math.factorial(n) for n in ns]


@given(ns=SOME_NS)
@example(ns=[])
@settings(max_examples=40, deadline=None, suppress_health_check=SHARED_FIXTURE)
def test_a_generator_is_consumed_once(backend: factlab.Backend, ns: list[int]) -> None:
    resumed = 0

    def generate() -> Iterator[int]:
        nonlocal resumed
        for n in ns:
            resumed += 1
            yield n
        resumed += 1  # the last next(): StopIteration

    values = generate()
    assert backend.factorials(values) == [math.factorial(n) for n in ns]
    assert resumed == len(ns) + 1, f"{resumed} calls of next() for {len(ns)} values"


@pytest.mark.parametrize("last", [7, 1.5])
def test_index_called_once_per_element(backend: factlab.Backend, last: float) -> None:
    """Each element's ``__index__`` is asked once, as by factorial, a bad element after them or not."""
    elements = [Counting(n) for n in (0, 5, 25, 1000, 3)]
    if isinstance(last, float):
        with pytest.raises(TypeError, match=r"^ns\[5\]: "):
            backend.factorials([*elements, last])  # type: ignore[list-item]
    else:
        assert backend.factorials([*elements, last]) == [math.factorial(c.value) for c in elements] + [5040]
    assert [c.calls for c in elements] == [1] * len(elements)


# --- bad elements ------------------------------------------------------------------------------

ODD_CHILD = """
import importlib, json, sys
sys.path.insert(0, {tests!r})
from odd_inputs import element_wise_rows
print(json.dumps(element_wise_rows(importlib.import_module({module!r}), {native!r})))
"""


def test_odd_inputs_element_wise(backend_name: str, backend: factlab.Backend) -> None:
    """The odd-input table among good values, and as factorial_str's n; in a child, so a crash names it."""
    entry = factlab.spec(backend_name)
    code = ODD_CHILD.format(tests=str(Path(__file__).parent), module=entry.module, native=entry.native)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{backend_name} died (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    rows = json.loads(proc.stdout)
    assert len(rows) >= 2 * (len(INPUTS) - 3)
    wrong = [f"{case}: got {got}, want {want}" for case, got, want in rows if got != want]
    assert not wrong, f"{backend_name}:\n" + "\n".join(wrong)


# Bad elements of different types: the first one decides the exception.
BAD: dict[str, tuple[Callable[[], object], type[Exception]]] = {
    "-1": (lambda: -1, ValueError),
    "1.5": (lambda: 1.5, TypeError),
    "2**64": (lambda: 2**64, OverflowError),
    "BadIndex": (BadIndex, IndexFails),  # passes through as it came (or prefixed)
}


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(BAD, 2)))
def test_the_first_bad_element_wins(backend: factlab.Backend, first: str, second: str) -> None:
    rng = random.Random(f"{first}, {second}")
    ns: list[object] = [rng.randrange(0, 30) for _ in range(8)]
    i, j = sorted(rng.sample(range(len(ns)), 2))
    ns[i], ns[j] = BAD[first][0](), BAD[second][0]()
    with pytest.raises(BAD[first][1]) as info:
        backend.factorials(ns)  # type: ignore[arg-type]
    if BAD[first][1] is not IndexFails:
        assert str(info.value).startswith(f"ns[{i}]: "), str(info.value)


# --- buffers -----------------------------------------------------------------------------------


SWAPPED_INT64 = ">i8" if sys.byteorder == "little" else "<i8"
REFUSED: dict[str, Callable[[], object]] = {
    "array('d')": lambda: array("d", [1.0, 2.0]),
    "array('i')": lambda: array("i", [1, 2]),
    "bytes": lambda: bytes([1, 2, 3]),
    "bytearray": lambda: bytearray([1, 2, 3]),
    "2-D memoryview('q')": lambda: memoryview(bytes(16)).cast("q", (2, 1)),
    "numpy float64": lambda: numpy_array([1, 2], "float64"),
    "numpy int32": lambda: numpy_array([1, 2], "int32"),
    "numpy int64, byte-swapped": lambda: numpy_array([1, 2], SWAPPED_INT64),
}
if array("l").itemsize != 8:
    REFUSED["array('l')"] = lambda: array("l", [1, 2])


@pytest.mark.parametrize("label", list(REFUSED))
def test_other_buffers_are_refused(backend: factlab.Backend, label: str) -> None:
    buffer = REFUSED[label]()
    with pytest.raises(TypeError) as info:
        backend.factorials(buffer)  # type: ignore[arg-type]
    assert str(info.value).startswith(BUFFER_REFUSAL), str(info.value)


# (buffer, exception, index of the first bad element); the bound is native backends' own.
BAD_BUFFERS: dict[str, tuple[Callable[[], object], type[Exception], int]] = {
    "array('q') negative": (lambda: array("q", [3, 1, -2, 5, -1]), ValueError, 2),
    "array('q') negative, then past the bound": (lambda: array("q", [5, -1, LONG_MAX]), ValueError, 1),
    "memoryview('q')[::2] negative": (lambda: memoryview(array("q", [0, 9, -1, 9, 4]))[::2], ValueError, 1),
    "numpy int64 negative": (lambda: numpy_array([5, -7], "int64"), ValueError, 1),
    "array('Q') past a C long": (lambda: array("Q", [1, 2, LONG_MAX + 1]), OverflowError, 2),
    "array('Q') 2**64-1": (lambda: array("Q", [2**64 - 1]), OverflowError, 0),
    "array('Q') past factlab's bound": (lambda: array("Q", [0, MAX_N + 1]), OverflowError, 1),
}


@pytest.mark.parametrize("label", list(BAD_BUFFERS))
def test_bad_value_in_a_buffer(backend_name: str, backend: factlab.Backend, label: str) -> None:
    make, error, index = BAD_BUFFERS[label]
    if "factlab's bound" in label:
        skip_baseline(backend_name, "no bound of its own: math.factorial would work for hours")
    with pytest.raises(error) as info:
        backend.factorials(make())  # type: ignore[arg-type]
    assert str(info.value).startswith(f"ns[{index}]: "), str(info.value)


def test_the_export_is_given_back_on_every_path(backend: factlab.Backend) -> None:
    """After a call, good, bad or refused, the buffer is no longer exported: it can grow again."""
    for values in (array("q", [3, 25]), array("q", [3, -1]), array("Q", [2**64 - 1]), array("d", [1.0])):
        strided = memoryview(values)[::2]
        for ns in (values, strided):
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                backend.factorials(ns)  # type: ignore[arg-type]
        strided.release()  # BufferError if the backend still holds it
        values.append(0)  # BufferError if an export leaked


RESIZE_CHILD = """
import array, json, math, sys, threading
import factlab
backend = factlab.load(sys.argv[1])
values = array.array("Q", [20] * 100_000)
stop, tries, refused = threading.Event(), [0], [0]

def resize():
    while not stop.is_set():
        tries[0] += 1
        try:
            values.append(20)
            del values[-1]
        except BufferError:  # the call holds the export: the array cannot move
            refused[0] += 1

sys.setswitchinterval(1e-5)
thread = threading.Thread(target=resize)
thread.start()
lengths = []
try:
    for _ in range(5):
        got = backend.factorials(values)
        assert got == [math.factorial(20)] * len(got), "values that were never in the array"
        lengths.append(len(got))
finally:
    stop.set()
    thread.join()
print(json.dumps([lengths, tries[0], refused[0]]))
"""


def test_a_buffer_resized_during_the_call(backend_name: str, backend: factlab.Backend) -> None:
    """Another thread resizes the array during each call: exact results or BufferError (in a child)."""
    proc = subprocess.run(
        [sys.executable, "-c", RESIZE_CHILD, backend_name], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{backend_name} (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    lengths, tries, refused = json.loads(proc.stdout)
    assert tries > 0, "the resizing thread never ran: the test proves nothing"
    # Each append is undone at most once: no call can see fewer values.
    assert min(lengths) >= 100_000, f"lengths {lengths}, {refused} of {tries} resizes refused"


# --- factorial_str -------------------------------------------------------------------------------


@pytest.fixture
def lowest_digit_limit() -> Iterator[None]:
    """``sys.set_int_max_str_digits(640)``, the lowest a user may set, for the test; restored after."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    yield
    sys.set_int_max_str_digits(old)


def lifted_str(n: int) -> str:
    """``str(math.factorial(n))`` with the digit limit lifted for the call."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(math.factorial(n))
    finally:
        sys.set_int_max_str_digits(old)


big_reference = functools.cache(lifted_str)  # once per session: str() of 10**5! takes seconds


@given(n=st.integers(0, 3000))
@settings(max_examples=100, deadline=None, suppress_health_check=SHARED_FIXTURE)
def test_factorial_str_against_math(backend: factlab.Backend, lowest_digit_limit: None, n: int) -> None:
    got = backend.factorial_str(n)
    assert type(got) is str
    assert got == lifted_str(n)
    assert sys.get_int_max_str_digits() == 640, "the call changed the interpreter-wide digit limit"


@pytest.mark.parametrize(
    ("n", "digits"), [(10**4, 35_660), pytest.param(10**5, 456_574, marks=pytest.mark.slow)]
)
def test_factorial_str_spot_checks(
    backend_name: str, backend: factlab.Backend, lowest_digit_limit: None, n: int, digits: int
) -> None:
    if n > 10**4:
        skip_baseline(backend_name, "str() of 10**5! takes seconds in Python (the bench times it)")
    got = backend.factorial_str(n)
    assert len(got) == digits
    same = got == big_reference(n)  # not in the assert: pytest would diff 456,574 characters
    assert same, f"{n}!: {len(got)} digits, the same number of digits as math, but not the same ones"


# --- leaks --------------------------------------------------------------------------------------

SHAPE_CALLS = 100_000  # 2 MiB over 10^5 calls: a leak of 21 bytes per call shows (tracemalloc: 1)


def from_buffer(native: Any) -> Callable[[object], object]:
    """``factorials`` over a buffer that fails as ``n`` does (test_boundary's LEAK_INPUTS)."""

    def call(n: object) -> object:
        try:
            k = operator.index(n)  # type: ignore[arg-type]  # IndexFails goes through, as expected
        except TypeError:
            return native.factorials(array("d", [5.0]))  # a refused buffer
        if k < 0:
            return native.factorials(array("q", [5, -1, 30]))
        return native.factorials(array("Q", [5, min(k, 2**64 - 1), 30]))  # good, or OverflowError

    return call


LEAK_PATHS: dict[str, Callable[[Any], Callable[[object], object]]] = {
    "factorials, list": lambda native: lambda n: native.factorials([5, n, 30]),
    "factorials, buffer": from_buffer,
    "factorial_str": lambda native: native.factorial_str,
}


@pytest.mark.slow
@pytest.mark.parametrize("path", list(LEAK_PATHS))
def test_no_leak_over_many_calls(native_name: str, native: Any, path: str) -> None:
    """test_boundary's detector (and its own test that it catches a leak), over the new functions."""
    rss, traced = memory_growth(LEAK_PATHS[path](native), SHAPE_CALLS)
    assert traced < TRACED_MARGIN, f"{native_name} {path}: Python-allocator memory grew by {traced} bytes"
    assert rss < RSS_MARGIN, f"{native_name} {path}: RSS grew by {rss} bytes over {SHAPE_CALLS} calls"


# --- the GIL --------------------------------------------------------------------------------------


def test_gil_released_for_big_batches(backend_name: str, backend: factlab.Backend) -> None:
    skip_baseline(backend_name, "a baseline calls Python per element: the interpreter switches anyway")
    ns = [3_000] * 300  # batch_is_expensive: an n >= 1000
    progress, free = spinner_progress(lambda: backend.factorials(ns))
    assert progress > 0.2 * free, (
        f"the spinner advanced {progress} times during factorials([3000] * 300); free, it advances "
        f"{free:.0f} times in that time: the GIL was not released"
    )
