"""A wide table of odd inputs for ``factorial``, shared by the reliability tests.

Each entry is ``(label, make)``: ``make()`` builds a fresh argument, so that
the same table can be rebuilt inside a subprocess.
"""

from __future__ import annotations

import array
import math
import operator
import random
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from factlab.backends.pure import LONG_MAX

LONG_MIN = -LONG_MAX - 1
MAX_N = 100_000_000  # factlab_core::MAX_N
EXPENSIVE_N = 1_000  # factlab_core::EXPENSIVE_N: from here on the GIL is released


class Index:
    """Not an int, but has __index__."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


class OnlyInt:
    """__int__ but no __index__: refused since Python 3.10."""

    def __int__(self) -> int:
        return 5


class OnlyFloat:
    def __float__(self) -> float:
        return 5.0


class IndexFails(Exception):
    """Raised by BadIndex.__index__; must propagate unchanged."""


class BadIndex:
    def __index__(self) -> int:
        raise IndexFails("__index__ refused")


class IndexReturnsFloat:
    def __index__(self) -> float:  # a broken __index__: TypeError
        return 5.0


class MyInt(int):
    pass


class HugeIndex:
    def __index__(self) -> int:
        return 10**40


class NegativeHugeIndex:
    def __index__(self) -> int:
        return -(10**40)


INPUTS: list[tuple[str, Callable[[], object]]] = [
    # integers and their edges
    ("0", lambda: 0),
    ("1", lambda: 1),
    ("20", lambda: 20),
    ("21", lambda: 21),
    ("34", lambda: 34),
    ("35", lambda: 35),
    ("100", lambda: 100),
    ("-1", lambda: -1),
    ("LONG_MAX", lambda: LONG_MAX),
    ("LONG_MAX+1", lambda: LONG_MAX + 1),
    ("LONG_MIN", lambda: LONG_MIN),
    ("LONG_MIN-1", lambda: LONG_MIN - 1),
    ("2**64", lambda: 2**64),
    ("10**100", lambda: 10**100),
    ("-(10**100)", lambda: -(10**100)),
    # bool and int subclasses, __index__
    ("True", lambda: True),
    ("False", lambda: False),
    ("MyInt(25)", lambda: MyInt(25)),
    ("MyInt(-2)", lambda: MyInt(-2)),
    ("MyInt(7)", lambda: MyInt(7)),
    ("Index(25)", lambda: Index(25)),
    ("Index(-5)", lambda: Index(-5)),
    ("Index(30)", lambda: Index(30)),
    ("HugeIndex", HugeIndex),
    ("NegativeHugeIndex", NegativeHugeIndex),
    ("BadIndex", BadIndex),
    ("IndexReturnsFloat", IndexReturnsFloat),
    ("OnlyInt", OnlyInt),
    ("OnlyFloat", OnlyFloat),
    # floats
    ("5.0", lambda: 5.0),
    ("2.5", lambda: 2.5),
    ("-0.0", lambda: -0.0),
    ("nan", lambda: math.nan),
    ("inf", lambda: math.inf),
    ("-inf", lambda: -math.inf),
    ("1e100", lambda: 1e100),
    # other numbers
    ("Decimal(5)", lambda: Decimal(5)),
    ("Decimal('NaN')", lambda: Decimal("NaN")),
    ("Fraction(10, 2)", lambda: Fraction(10, 2)),
    ("5+0j", lambda: 5 + 0j),
    # not numbers at all
    ("'5'", lambda: "5"),
    ("b'5'", lambda: b"5"),
    ("bytearray", lambda: bytearray(b"5")),
    ("None", lambda: None),
    ("[5]", lambda: [5]),
    ("(5,)", lambda: (5,)),
    ("{5}", lambda: {5}),
    ("{5: 5}", lambda: {5: 5}),
    ("array", lambda: array.array("q", [5])),
    ("object()", object),
    ("int (the type)", lambda: int),
]


def outcome(fn: Callable[[object], object], arg: object) -> str:
    """What a call does, as a comparable string: its value or its exception type."""
    try:
        value = fn(arg)
    except Exception as exc:
        return f"raises {type(exc).__module__}.{type(exc).__qualname__}"
    if type(value) is not int:
        return f"returns a {type(value).__name__}"
    return f"returns {value}"


def beyond_bound(arg: object) -> bool:
    """True for n in (MAX_N, LONG_MAX]: math.factorial would work for hours
    there (and then run out of memory); factlab's native backends refuse at
    once with OverflowError, their documented bound."""
    try:
        k = operator.index(arg)  # type: ignore[arg-type]
    except Exception:
        return False
    return MAX_N < k <= LONG_MAX


def expected(arg: object) -> str:
    """The outcome the contract requires of every backend."""
    if beyond_bound(arg):
        return "raises builtins.OverflowError"
    return outcome(math.factorial, arg)  # type: ignore[arg-type]


# --- the same table, element-wise, for factorials and factorial_str ----------------------

PREFIXED = {"builtins.TypeError", "builtins.ValueError", "builtins.OverflowError", "builtins.MemoryError"}
"""What ``factorials`` raises again with ``ns[i]: `` before the message; any other
exception (``IndexFails``) may pass through as it came, as in the reference."""


def batch_outcome(factorials: Callable[[object], object], ns: list[object]) -> str:
    """What ``factorials(ns)`` does, as a comparable string: its values, or its
    exception type and the ``ns[i]: `` its message starts with."""
    try:
        values = factorials(ns)
    except Exception as exc:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        place = re.match(r"ns\[\d+\]: ", str(exc))
        return f"raises {kind}" + (f" at {place[0]}" if place and kind in PREFIXED else "")
    return f"returns {type(values).__name__} {values!r}"


def batch_expected(ns: list[object], index: int) -> str:
    """What the contract requires of ``factorials(ns)`` when ``ns[index]`` is its one odd element."""
    want = expected(ns[index])
    if want.startswith("raises"):
        return want + (f" at ns[{index}]: " if want.removeprefix("raises ") in PREFIXED else "")
    return f"returns list {[math.factorial(n) for n in ns]!r}"  # type: ignore[call-overload]


def said(fn: Callable[[object], object], arg: object) -> str:
    """Like :func:`outcome`, with the value's repr or the exception's message."""
    try:
        return f"returns {fn(arg)!r}"
    except Exception as exc:
        return f"raises {type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def element_wise_rows(backend: Any, native: bool) -> list[tuple[str, str, str]]:
    """(case, what the backend did, what it must do) for every entry of the table.

    ``factorials``: the odd input at a random place (seeded by its label)
    among good values. ``factorial_str``: what the backend's ``factorial``
    does, its value as a str, or its exception with the same message.
    """

    def str_of_factorial(n: object) -> str:
        return str(backend.factorial(n))

    rows = []
    for label, make in INPUTS:
        if not native and beyond_bound(make()):
            continue  # the pure loop and math.factorial would work for hours
        rng = random.Random(label)
        ns = [rng.randrange(0, 40) for _ in range(rng.randrange(0, 8))]
        index = rng.randrange(len(ns) + 1)
        ns.insert(index, make())
        case = f"factorials: {label} at ns[{index}]"
        rows.append((case, batch_outcome(backend.factorials, ns), batch_expected(ns, index)))
        got, want = said(backend.factorial_str, make()), said(str_of_factorial, make())
        rows.append((f"factorial_str({label})", got, want))
    return rows
