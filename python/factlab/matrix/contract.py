"""The contract in a venv: ``tests/test_contract.py`` run there with pytest, read back per backend."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from factlab._common import quote_error, run, scrub
from factlab.matrix.discovery import Interpreter
from factlab.matrix.venvs import child_env
from factlab.matrix.workspace import root

# Tests whose oracle is the running interpreter's own math.factorial, left out
# where that differs from CPython's (the contract is CPython 3.11+'s function).
ORACLE_DIFFERS: dict[str, tuple[tuple[str, ...], str]] = {
    "pypy": (
        ("test_odd_inputs_outcome_for_outcome", "test_signature_is_math_factorials"),
        "PyPy 3.9's own `math.factorial`, these tests' oracle, is not CPython's: it refuses an object "
        "with `__index__` (`TypeError: '>' not supported between instances of 'Index' and 'int'`) and "
        "its signature is `(x)`, keyword allowed",
    ),
}

# Eight threads calling one backend at once, each result checked against math.factorial: on a
# free-threaded CPython, the test that the backend is safe without a GIL.
THREADS_TEST = "test_eight_threads_agree_with_math"
# The contract tests --quick runs (the others are the long ones).
QUICK_TESTS = (
    THREADS_TEST,
    "test_seed_article_value",
    "test_odd_inputs_outcome_for_outcome",
    "test_bound_refused_before_any_work",
    "test_crossing_is_the_bare_u64_entry",
    "test_signature_is_math_factorials",
    "test_n_is_positional_only",
    "test_big_spot_checks",
)


def describe(quick: bool, interps: list[Interpreter]) -> dict[str, Any]:
    """What results.json says about the contract run: which tests, and what each interpreter left out."""
    return {
        "tests": "tests/test_contract.py, not the slow ones"
        + (f", --quick: only {', '.join(QUICK_TESTS)}" if quick else ""),
        "left_out": {
            i.id: {
                "tests": list(ORACLE_DIFFERS[i.implementation][0]),
                "why": ORACLE_DIFFERS[i.implementation][1],
            }
            for i in interps
            if i.implementation in ORACLE_DIFFERS
        },
    }


def contract(
    interp: Interpreter,
    names: list[str],
    log: Path,
    *,
    quick: bool,
    pythonpath: Path | None = None,
    errors: tuple[str, ...] = (),
) -> dict[str, str]:
    """Run tests/test_contract.py in the venv: backend -> "" (passed) or why it failed.

    ``errors``: warnings the run turns into errors (pytest's ``-W``, e.g. the one CPython raises when
    an import turns the GIL back on: a run that must stay without a GIL fails if it does not).
    """
    junit = log.with_suffix(".xml")
    if junit.exists():
        junit.unlink()
    # --backend (tests/conftest.py): exactly the tests parametrized with these backends; -k would
    # also pick others whose names contain one (a test "..._with_math", a backend named "x-python").
    chosen = [option for name in names for option in ("--backend", name)]
    tests = []
    if quick:
        # The seed value, the odd inputs, the signature, the bound and eight threads; the
        # 0..1000 sweep and hypothesis run in the full matrix.
        tests.append(f"({' or '.join(QUICK_TESTS)})")
    left_out = ORACLE_DIFFERS.get(interp.implementation, ((), ""))[0]
    if left_out:
        tests.append(f"not ({' or '.join(left_out)})")
    cmd: list[str | Path] = [interp.python, "-m", "pytest", "tests/test_contract.py", "-q"]
    cmd += ["-p", "no:cacheprovider", "-m", "not slow", f"--junitxml={junit}", *chosen]
    cmd += ["-k", " and ".join(tests)] if tests else []
    cmd += [option for warning in errors for option in ("-W", f"error:{warning}")]
    env = {**child_env(interp, pythonpath), "FACTLAB_ALLOW_UNBUILT": "1"}
    ran = run(cmd, cwd=root(), env=env, timeout=1800, log=log)
    return junit_outcomes(junit, names, ran.out)


def backend_of(test_id: str, names: list[str]) -> str | None:
    """The backend a parametrized test id names: ``[cffi-abi-inline-10000]`` -> ``cffi-abi-inline``.

    pytest joins parameters with '-', and backend names contain '-' too: the longest that fits wins.
    """
    match = re.search(r"\[(.*)\]$", test_id)
    if not match:
        return None
    params = match.group(1)
    fits = [n for n in names if params == n or params.startswith(n + "-") or params.endswith("-" + n)]
    return max(fits, key=len) if fits else None


def passed(junit: Path, names: list[str], test: str) -> set[str]:
    """The backends for which ``test`` ran and passed in a contract run (read from its JUnit file)."""
    if not junit.exists():
        return set()
    found: set[str] = set()
    for case in ET.parse(junit).iter("testcase"):
        test_id = case.get("name", "")
        name = backend_of(test_id, names)
        spoiled = any(case.find(outcome) is not None for outcome in ("failure", "error", "skipped"))
        if name and test_id.startswith(f"{test}[") and not spoiled:
            found.add(name)
    return found


def junit_outcomes(junit: Path, names: list[str], output: str) -> dict[str, str]:
    """backend -> "" when its tests passed, else the first failure (or why none ran)."""
    if not junit.exists():
        return {name: f"the contract tests did not run: {quote_error(output)}" for name in names}
    passed: dict[str, int] = dict.fromkeys(names, 0)
    failed: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for case in ET.parse(junit).iter("testcase"):
        name = backend_of(case.get("name", ""), names)
        if name is None:
            continue
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        skip = case.find("skipped")
        if bad is not None:
            first = (bad.get("message") or bad.text or "").strip().splitlines()
            failed.setdefault(name, scrub(f"{case.get('name')}: {first[0][:300] if first else 'failed'}"))
        elif skip is not None:
            skipped.setdefault(name, scrub(skip.get("message") or "skipped")[:300])
        else:
            passed[name] += 1
    return {
        name: failed.get(name) or ("" if passed[name] else skipped.get(name, "no contract test ran"))
        for name in names
    }
