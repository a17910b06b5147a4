"""Out of memory is a MemoryError, never an abort, and the process goes on.

Each probe runs in its own process: it loads one native backend, then lowers
its own address-space (or data) limit to what it has mapped plus 300 MiB, the
way a container or ``ulimit -v`` would. 10^8! and 5*10^7! (results of 299 and
143 MiB, several times that at the kernel's peak) must raise ``MemoryError``
at once, before anything is allocated; a call that fits must still be exact.
Before the kernel checked, the same probe ended in SIGABRT ("memory allocation
of N bytes failed"), exit code 134.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

resource = pytest.importorskip("resource")  # POSIX only

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the limits are read from /proc")

PROBE = textwrap.dedent(
    """
    import json, math, resource, sys
    import factlab

    factorial = factlab.load(sys.argv[1]).factorial
    which = getattr(resource, sys.argv[2])
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    mapped = int(fields["VmSize" if sys.argv[2] == "RLIMIT_AS" else "VmData"].split()[0]) * 1024
    limit = mapped + (300 << 20)
    resource.setrlimit(which, (limit, resource.getrlimit(which)[1]))

    outcome = {}
    for n in (10**8, 5 * 10**7):
        try:
            factorial(n)
            outcome[str(n)] = "returned"
        except MemoryError as exc:
            outcome[str(n)] = "MemoryError: " + str(exc)
    # The process goes on, and a call that fits (10^6!: 2.2 MiB, its peak
    # under 40 MiB) still passes the check; the parent compares its hash.
    outcome["exact"] = factorial(1000) == math.factorial(1000)
    outcome["hash"] = hash(factorial(10**6))
    print(json.dumps(outcome))
    """
)


@pytest.fixture(scope="module")
def hash_of_big() -> int:
    import math

    return hash(math.factorial(10**6))


@pytest.mark.parametrize("limit", ["RLIMIT_AS", "RLIMIT_DATA"])
def test_out_of_memory_is_a_memory_error(native_name: str, limit: str, hash_of_big: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, native_name, limit],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"exit {proc.returncode} (134 is SIGABRT): {proc.stderr[-2000:]}"
    outcome = json.loads(proc.stdout)
    for n in (10**8, 5 * 10**7):
        assert outcome[str(n)].startswith("MemoryError"), f"factorial({n}) under {limit}: {outcome[str(n)]}"
    assert outcome["exact"] is True
    assert outcome["hash"] == hash_of_big
