"""Reliability, for every backend: odd input, threads.

Leaks, panics and drift have their own files per room; the limits are in
test_contract.py (test_bound_refused_at_once).
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from odd_inputs import INPUTS

HERE = Path(__file__).parent

# Runs in a fresh interpreter, so that a crash is a failed test that names
# its backend instead of a dead test suite.
CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
import factlab
from odd_inputs import INPUTS, beyond_bound, expected, outcome
backend = factlab.load({name!r})
rows = []
for label, make in INPUTS:
    arg = make()
    if not {native!r} and beyond_bound(arg):
        continue  # the pure loop and math.factorial would work for hours
    rows.append((label, outcome(backend.factorial, make()), expected(arg)))
print(json.dumps(rows))
"""


def test_odd_inputs_outcome_for_outcome(backend_name: str, backend: ModuleType) -> None:
    # (the `backend` fixture loads it here first: an unbuilt backend fails loudly)
    import factlab

    native = factlab.spec(backend_name).native
    code = CHILD.format(tests=str(HERE), name=backend_name, native=native)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"backend {backend_name!r} died (exit {proc.returncode}) on odd input:\n{proc.stderr[-2000:]}"
    )
    rows = json.loads(proc.stdout)
    assert len(rows) >= len(INPUTS) - 3
    wrong = [f"{label}: got {got}, math.factorial: {want}" for label, got, want in rows if got != want]
    assert not wrong, f"{backend_name}: " + "; ".join(wrong)


def test_eight_threads_agree_with_math(backend: ModuleType) -> None:
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
def test_concurrent_big_computations_are_exact(native: ModuleType) -> None:
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
