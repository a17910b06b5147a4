"""pyo3-ctrl-c: a long PyO3 call must answer Ctrl-C.

Run with ``just exercise pyo3-ctrl-c`` (it builds and tests ``start/``, your code).

A Ctrl-C in a terminal sends SIGINT to the process. The tests send it
themselves, from a timer thread, 50 ms into ``factorial(10**7)`` (seconds of
work), each in a fresh Python process: a SIGINT sent to pytest itself could
end the whole run. No fixed time limit: the interrupted call must end before
an uninterrupted call of a three times smaller ``n`` could, in the same
process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any

import long_call
import pytest

BIG, SMALLER = 10**7, 3 * 10**6

# The child's preamble: the module, a timer that sends SIGINT, and the time of
# one whole factorial(SMALLER) to compare with.
PREAMBLE = f"""
import json, os, signal, threading, time
from long_call import factorial

def sigint_in(seconds):
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT)).start()

start = time.perf_counter()
factorial({SMALLER})
full = time.perf_counter() - start
"""


def child(code: str) -> dict[str, Any]:
    """Runs ``PREAMBLE + code`` in a fresh interpreter that finds this variant's build; its JSON line."""
    env = {**os.environ, "PYTHONPATH": os.environ["FACTLAB_EXERCISE_BUILD"]}
    proc = subprocess.run(
        [sys.executable, "-c", PREAMBLE + code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("n", [0, 1, 20, 25, 1_000, 99_999, 100_000, 250_001])
def test_values(n: int) -> None:
    # From 100,000 on the kernel works on a thread of its own and calls the hook.
    assert long_call.factorial(n) == math.factorial(n)


def test_refused_before_any_work() -> None:
    with pytest.raises(OverflowError, match="should not exceed"):
        long_call.factorial(10**8 + 1)


def test_ctrl_c_stops_a_long_call() -> None:
    out = child(f"""
sigint_in(0.05)
start = time.perf_counter()
try:
    factorial({BIG})
    took = None
except KeyboardInterrupt:
    took = time.perf_counter() - start
try:
    time.sleep(0.2)  # a SIGINT still on its way must not end this process
except KeyboardInterrupt:
    pass
print(json.dumps({{"took": took, "full": full, "after": factorial(25)}}))
""")
    took, full = out["took"], out["full"]
    assert took is not None, f"factorial({BIG}) returned a value: the SIGINT was lost"
    assert took < full, (
        f"SIGINT was sent 50 ms into factorial({BIG}); KeyboardInterrupt came {took:.2f} s after the start, "
        f"later than a whole factorial({SMALLER}) takes ({full:.2f} s): Python ran its handler only once "
        "the call had returned. Python's turn in the hook must run it."
    )
    assert out["after"] == math.factorial(25), "the module does not work after an interrupted call"


def test_what_a_handler_raises_comes_out_unchanged() -> None:
    out = child(f"""
marker = LookupError("raised by the handler")

def handler(signum, frame):
    raise marker

signal.signal(signal.SIGINT, handler)
sigint_in(0.05)
start = time.perf_counter()
try:
    factorial({BIG})
    same = None
except LookupError as exc:
    same = exc is marker
print(json.dumps({{"same": same, "took": time.perf_counter() - start, "full": full}}))
""")
    assert out["same"] is True, f"factorial({BIG}) did not raise the handler's own exception: {out['same']}"
    took, full = out["took"], out["full"]
    assert took < full, f"the handler's exception came {took:.2f} s after the start, once the call returned"


def test_a_handler_that_does_not_raise_lets_the_call_finish() -> None:
    out = child(f"""
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
sigint_in(0.05)
value = factorial({SMALLER})
print(json.dumps({{"right": value == factorial({SMALLER}), "seen": seen}}))
""")
    assert out["seen"] == [2], f"the handler did not run exactly once: {out['seen']}"
    assert out["right"], "a handler that returns must let the call finish, with the right value"
