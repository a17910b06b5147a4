"""The contract, for every backend in the registry: exactly ``math.factorial``.

The same value for every n, the same exception type for every bad input, the
same signature; and every native backend refuses past factlab's bound at once.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import pydoc
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factlab
from odd_inputs import INPUTS, LONG_MAX, MAX_N

HERE = Path(__file__).parent


def test_seed_article_value(backend: factlab.Backend) -> None:
    # The article's loop returned garbage here: 25! overflows a C long.
    assert backend.factorial(25) == 15511210043330985984000000
    # ... and 0 for 0!, which is 1.
    assert backend.factorial(0) == 1


def test_exact_values_0_to_1000(backend: factlab.Backend) -> None:
    for n in range(1001):
        got = backend.factorial(n)
        assert type(got) is int, f"{n}! returned {type(got).__name__}"
        assert got == math.factorial(n), f"{n}! differs"


@given(n=st.integers(min_value=0, max_value=5000))
# The fixture only hands over a module: sharing it between examples is safe.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_property_against_math(backend: factlab.Backend, n: int) -> None:
    assert backend.factorial(n) == math.factorial(n)


@pytest.mark.parametrize("n", [10**4, 3 * 10**4])
def test_big_spot_checks(backend: factlab.Backend, n: int) -> None:
    assert backend.factorial(n) == math.factorial(n)


def test_big_1e5_native(native: factlab.Backend) -> None:
    assert native.factorial(10**5) == math.factorial(10**5)


# Runs in a fresh interpreter per backend, so that a crash is a failed test
# that names its backend instead of a dead test suite.
CHILD = """
import importlib, json, sys
sys.path.insert(0, {tests!r})
from odd_inputs import INPUTS, beyond_bound, expected, outcome
backend = importlib.import_module({module!r})
rows = []
for label, make in INPUTS:
    arg = make()
    if not {native!r} and beyond_bound(arg):
        continue  # the pure loop and math.factorial would work for hours
    rows.append((label, outcome(backend.factorial, make()), expected(arg)))
print(json.dumps(rows))
"""


def test_odd_inputs_outcome_for_outcome(backend_name: str, backend: factlab.Backend) -> None:
    """The one odd-input table (tests/odd_inputs.py): the same value or exception type as math."""
    entry = factlab.spec(backend_name)
    code = CHILD.format(tests=str(HERE), module=entry.module, native=entry.native)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"backend {backend_name!r} died (exit {proc.returncode}) on odd input:\n{proc.stderr[-2000:]}"
    )
    rows = json.loads(proc.stdout)
    assert len(rows) >= len(INPUTS) - 3
    wrong = [f"{label}: got {got}, math.factorial: {want}" for label, got, want in rows if got != want]
    assert not wrong, f"{backend_name}: " + "; ".join(wrong)


def test_bound_refused_before_any_work(native: factlab.Backend) -> None:
    """Past factlab's bound: OverflowError at once, faster than computing a small factorial.

    A ratio within one run, not a threshold: refusing is a comparison, while
    (10**8 + 1)! would take a minute and 300 MB.
    """

    def fastest(n: int) -> float:
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            with contextlib.suppress(OverflowError):
                native.factorial(n)
            best = min(best, time.perf_counter() - start)
        return best

    with pytest.raises(OverflowError, match="factlab's bound"):
        native.factorial(MAX_N + 1)
    with pytest.raises(OverflowError):
        native.factorial(LONG_MAX)
    refused = max(fastest(MAX_N + 1), fastest(LONG_MAX))
    computed = fastest(5_000)
    assert refused < computed, f"refusing took {refused * 1e6:.0f} us, 5000! {computed * 1e6:.0f} us"


def test_crossing_is_the_bare_u64_entry(native: factlab.Backend) -> None:
    crossing = native.crossing  # type: ignore[attr-defined]
    assert crossing(20) == math.factorial(20)
    assert crossing(5) == 120
    assert crossing(21) == 0  # does not fit in 64 bits: the entry says 0


def test_signature_is_math_factorials(backend_name: str, backend: factlab.Backend) -> None:
    """``inspect.signature`` and ``help()`` show ``(n, /)`` and a one-line summary."""
    signature = inspect.signature(backend.factorial)
    # math.factorial itself named its argument x before Python 3.11; every wrapper of ours says n.
    name = "x" if backend.factorial is math.factorial and sys.version_info < (3, 11) else "n"
    assert [(p.name, p.kind) for p in signature.parameters.values()] == [
        (name, inspect.Parameter.POSITIONAL_ONLY)
    ]
    doc = inspect.getdoc(backend.factorial)
    assert doc, f"{backend_name}: factorial has no docstring"
    assert "--" not in doc.splitlines()[0], "the signature header leaked into the docstring"
    rendered = pydoc.render_doc(backend.factorial, renderer=pydoc.plaintext)
    assert "--\n" not in rendered, rendered
    assert [line for line in rendered.splitlines() if line.startswith("factorial(")] == [
        rendered.splitlines()[2]
    ], rendered


def test_n_is_positional_only(backend_name: str, backend: factlab.Backend) -> None:
    # math.factorial(n=5) is a TypeError: n is positional-only.
    if not factlab.spec(backend_name).positional_only:
        pytest.skip("this binding cannot refuse keywords (see its chapter)")
    with pytest.raises(TypeError):
        backend.factorial(n=5)  # type: ignore[call-arg]


def test_eight_threads_agree_with_math(backend: factlab.Backend) -> None:
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(300):
            n = rng.choice([rng.randrange(0, 35), rng.randrange(35, 400), rng.randrange(400, 3000)])
            if backend.factorial(n) != math.factorial(n):
                errors.append(f"{n}! wrong in thread {seed}")

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.slow
def test_concurrent_big_computations_are_exact(native: factlab.Backend) -> None:
    # Large n: the backends release the GIL here, so these truly overlap.
    ns = [60_000, 61_000, 62_000, 63_000]
    results: dict[int, int] = {}

    def work(n: int) -> None:
        results[n] = native.factorial(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in ns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in ns:
        assert results[n] == math.factorial(n), f"{n}! wrong under concurrency"
