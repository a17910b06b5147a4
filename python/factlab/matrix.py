"""``python -m factlab matrix``: where each backend runs.

For every interpreter found (each CPython >= 3.10 that pyenv or ``PATH``
offers, PyPy where installed, and any ``--python PATH``), the matrix:

1. makes a virtualenv at ``target/matrix/venvs/<id>/`` (``cpython-3.12``,
   ``pypy-3.9``, ``cpython-3.13t``) with the pinned tools of
   ``requirements-matrix.txt``;
2. builds there, with pip, every backend's PEP 517 project (a failure is a
   cell with the build's own error, and the matrix goes on);
3. runs the contract tests (``tests/test_contract.py``) against it;
4. times ``factorial(25)`` and ``crossing(25)`` per backend (timeit, best of
   several repeats: the load of a shared machine only ever adds time).

Then, on the CPython versions found:

5. **stable ABI**: pyo3, capi, Cython and cffi's API mode built ONCE, as abi3
   wheels, on the oldest CPython; each installed (``pip install --target``)
   beside every CPython's own build, put first on ``sys.path``, and held to
   the contract there; its calls timed beside the version-specific build's;
6. **subinterpreters** (3.12+): each backend imported in an isolated
   subinterpreter (its own GIL) and in a legacy one (the shared GIL), in a
   child process with a timeout, since a module that does not expect one may
   hang as well as fail.

It writes ``target/matrix/results.json`` and ``summary.md``, and compares the
run with the committed results (``docs/src/matrix/results.json``): a cell that
they mark ok and that is not ok now fails the run (exit 1). ``just
docs-matrix`` copies a run into the book.

The probe functions at the end run INSIDE each matrix virtualenv, on every
interpreter, PyPy 3.9 included: this module keeps to Python 3.9's syntax.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["compare", "main", "render_figures", "render_summary"]

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "matrix"
COMMITTED = ROOT / "docs" / "src" / "matrix" / "results.json"
REQUIREMENTS = ROOT / "requirements-matrix.txt"
CLIB = "crates/clib"

# The interpreters the book's matrix is about: one missing is listed as missing.
EXPECTED = ("cpython-3.10", "cpython-3.11", "cpython-3.12", "cpython-3.13", "pypy-3.9")
# The oldest CPython that the stable-ABI artifacts target (their abi3 floor).
ABI3_FLOOR = (3, 10)
# The answer every cell checks first.
F25 = 15511210043330985984000000

Version = tuple[int, int]


# -- what each tool documents (a failed build where a tool says "not here" is
# -- "unsupported"; where it says "yes", "failed"; a success is always "ok")


@dataclass(frozen=True)
class Support:
    """A tool's documented reach: ``covers(implementation, version)`` and where it says so."""

    covers: Callable[[str, Version], bool]
    source: str


SUPPORT: dict[str, Support] = {
    "pyo3": Support(
        lambda impl, v: impl == "cpython" or (impl == "pypy" and v >= (3, 11)),
        "PyO3 0.27 dropped PyPy 3.9 and 3.10 (CHANGELOG 0.27.0); factlab pins 0.30",
    ),
    "pyo3-ffi": Support(
        lambda impl, v: impl == "cpython" or (impl == "pypy" and v >= (3, 11)),
        "pyo3-ffi follows PyO3's interpreter support (CHANGELOG 0.27.0)",
    ),
    "rust-cpython": Support(
        lambda impl, v: impl == "cpython" and v <= (3, 12),
        "rust-cpython 0.7.2, its last release, targets CPython up to 3.12, and no PyPy",
    ),
}


def documented(tool: str, impl: str, version: Version) -> bool:
    """Whether ``tool`` says it supports the interpreter (tools not listed support every one)."""
    entry = SUPPORT.get(tool)
    return entry is None or entry.covers(impl, version)


# -- interpreters ------------------------------------------------------------------------------

ASK = (
    "import json, sys, sysconfig; print(json.dumps([sys.implementation.name, list(sys.version_info[:2]),"
    " bool(sysconfig.get_config_var('Py_GIL_DISABLED')), sys.version.split()[0]]))"
)


@dataclass
class Interpreter:
    id: str
    path: str
    implementation: str
    version: Version
    free_threaded: bool
    full_version: str

    @property
    def venv(self) -> Path:
        return OUT / "venvs" / self.id

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def gil_cpython(self) -> bool:
        return self.implementation == "cpython" and not self.free_threaded


def interpreter_id(implementation: str, version: Version, free_threaded: bool) -> str:
    """``cpython-3.12``, ``pypy-3.9``, ``cpython-3.13t`` (a free-threaded build)."""
    return f"{implementation}-{version[0]}.{version[1]}{'t' if free_threaded else ''}"


def describe(path: str) -> Interpreter | None:
    """Ask an interpreter what it is; None if it does not run."""
    try:
        done = subprocess.run([path, "-c", ASK], capture_output=True, text=True, timeout=30)
        impl, (major, minor), ft, full = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    version = (int(major), int(minor))
    found = Interpreter(interpreter_id(impl, version, ft), path, impl, version, ft, full)
    prefix = Path(path).resolve().parent.parent
    if len(prefix.parts) > 2:  # ~/.pyenv/versions/3.12.1, not /usr
        PREFIXES[str(prefix)] = f"<{found.id}>"
    return found


def candidates() -> list[str]:
    """Every interpreter pyenv or PATH offers that the matrix may want."""
    found: list[str] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        versions = Path(done.stdout.strip()) / "versions"
        if done.returncode == 0 and versions.is_dir():
            found += [
                str(p / "bin" / "python")
                for p in sorted(versions.iterdir())
                if (p / "bin" / "python").exists()
            ]
    minors = range(10, 16)
    names = [f"python3.{m}{t}" for m in minors for t in ("", "t")] + ["python3", "pypy3", "pypy"]
    names += [f"pypy3.{m}" for m in range(9, 13)]
    found += [p for p in (shutil.which(name) for name in names) if p]
    return found


def discover(extra: list[str]) -> tuple[list[Interpreter], list[str]]:
    """The interpreters to run (``--python`` ones first), and the problems met on the way."""
    chosen: dict[str, Interpreter] = {}
    problems: list[str] = []
    for path in extra:
        found = describe(path)
        if found is None:
            problems.append(f"--python {path}: does not run as a Python interpreter")
        elif found.implementation == "cpython" and found.version < (3, 10):
            problems.append(f"--python {path}: CPython {found.full_version} (the matrix wants 3.10+)")
        else:
            chosen.setdefault(found.id, found)
    for path in candidates():
        found = describe(path)
        if found is None or found.implementation not in ("cpython", "pypy"):
            continue
        if found.implementation == "cpython" and found.version < (3, 10):
            continue
        chosen.setdefault(found.id, found)
    order = {"cpython": 0, "pypy": 1}
    ordered = sorted(chosen.values(), key=lambda i: (order[i.implementation], i.version, i.free_threaded))
    return ordered, problems


# -- running things ----------------------------------------------------------------------------


class Progress:
    """One line per step, with the time since the start: the matrix takes minutes."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def __call__(self, where: str, what: str) -> None:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        print(f"matrix {minutes:2d}:{seconds:02d}  {where:<14} {what}", flush=True)


def child_env(interp: Interpreter | None = None, pythonpath: Path | None = None) -> dict[str, str]:
    """The environment of a child: the venv's tools first, nothing of the caller's venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if interp is not None:
        env["PATH"] = f"{interp.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(interp.venv)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def run(
    cmd: Sequence[str | Path],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> tuple[int, str]:
    """Run ``cmd`` in the repository, its output into ``log``; (exit code, output). Never raises."""
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [str(c) for c in cmd],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        code, out = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode(errors="replace")
        code, out = -1, f"{partial}\ntimed out after {timeout:.0f} s: {' '.join(map(str, cmd))}"
    except OSError as exc:
        code, out = -1, f"could not run {cmd[0]}: {exc}"
    log.write_text(f"$ {' '.join(map(str, cmd))}\n{out}", encoding="utf-8")
    return code, out


ANSI = re.compile(r"\x1b\[[0-9;]*m")
# pip's own lines around a failed build: they say that it failed, not why.
PIP_NOISE = re.compile(
    r"subprocess-exited-with-error|metadata-generation-failed|Encountered error while|"
    r"Failed to build|ERROR: Failed building wheel"
)
ERROR_LINE = re.compile(r"(^|\s)(error(\[E\d+\])?:|\w*Error:|💥|✘)", re.IGNORECASE)


# Absolute paths of this machine never reach the results (they are committed):
# the repository becomes ".", an interpreter's prefix "<its id>", the home "~".
PREFIXES: dict[str, str] = {}


def scrub(text: str) -> str:
    text = re.sub(r"<class '(\w+)'>", r"\1", text)  # 3.12's RunFailedError names the class so
    known = {**PREFIXES, str(ROOT): ".", str(Path.home()): "~"}
    for prefix in sorted(known, key=len, reverse=True):
        text = text.replace(prefix, known[prefix])
    return text


def excerpt(output: str, limit: int = 600) -> str:
    """The real error of a failed step, quoted: its error lines, else its last lines."""
    lines = [scrub(ANSI.sub("", line)).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    picked: list[str] = []
    for line in lines:
        if PIP_NOISE.search(line):
            continue
        if ERROR_LINE.search(line) and line not in picked and "warning" not in line.lower()[:10]:
            picked.append(line)
        if len(picked) == 3:
            break
    text = " / ".join(picked or lines[-3:])
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- one interpreter ---------------------------------------------------------------------------


@dataclass
class Build:
    """What happened to one PEP 517 project on one interpreter."""

    ok: bool
    reason: str = ""
    wheel: Path | None = None


@dataclass
class Cell:
    interpreter: str
    backend: str
    status: str  # ok, unsupported, failed
    reason: str = ""
    abi3: bool = False
    ns: dict[str, float | None] = field(default_factory=dict)
    artifact: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "interpreter": self.interpreter,
            "backend": self.backend,
            "status": self.status,
            "reason": self.reason,
            "abi3": self.abi3,
            "ns": self.ns,
            "artifact": self.artifact,
        }


def projects() -> list[str]:
    from factlab import build_projects

    return build_projects()


def prepare_venv(interp: Interpreter, say: Progress) -> str | None:
    """Make (or reuse) the venv and install the pinned tools and factlab; None, or the error."""
    logs = OUT / "logs" / interp.id
    if interp.python.exists():
        code, out = run([interp.python, "-c", ASK], logs / "venv-check.log")
        if code != 0 or interp.full_version not in out:
            shutil.rmtree(interp.venv)
    if not interp.python.exists():
        say(interp.id, f"virtualenv {interp.venv.relative_to(ROOT)}")
        code, out = run([interp.path, "-m", "venv", interp.venv], logs / "venv.log", env=child_env())
        if code != 0:
            return f"`python -m venv` failed: {excerpt(out)}"
    say(interp.id, f"pip install -r {REQUIREMENTS.name} and factlab")
    pip: list[str | Path] = [interp.python, "-m", "pip", "install", "--quiet"]
    code, out = run([*pip, "-r", REQUIREMENTS], logs / "requirements.log", env=child_env(interp))
    if code != 0:
        return f"the pinned tools do not install: {excerpt(out)}"
    code, out = run(
        [*pip, "--no-deps", "--no-build-isolation", "--editable", "python"],
        logs / "factlab.log",
        env=child_env(interp),
    )
    if code != 0:
        return f"the factlab package does not install: {excerpt(out)}"
    return None


def build_wheel(
    interp: Interpreter,
    project: str,
    dest: Path,
    log: Path,
    *,
    extra: list[str] | tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Build:
    """``pip wheel`` one project with the venv's pinned tools; the wheel or the build's error."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # --ignore-requires-python: the matrix asks the binding tool itself whether
    # it builds for this interpreter; its own error is the cell's reason.
    cmd: list[Any] = [interp.python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    cmd += ["--ignore-requires-python", "-w", dest, *extra, project]
    code, out = run(cmd, log, env={**child_env(interp), **(env or {})})
    wheels = sorted(dest.glob("*.whl"))
    if code != 0 or not wheels:
        return Build(False, excerpt(out))
    return Build(True, wheel=wheels[0])


def install(
    interp: Interpreter, wheels: list[Path], log: Path, target: Path | None = None
) -> tuple[int, str]:
    cmd: list[Any] = [interp.python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "--quiet"]
    cmd += ["--ignore-requires-python"]
    if target is not None:
        if target.exists():
            shutil.rmtree(target)
        cmd += ["--target", target]
    return run([*cmd, *wheels], log, env=child_env(interp))


def build_all(interp: Interpreter, clib_wheel: Path | None, say: Progress) -> dict[str, Build]:
    """Every project built and installed in the interpreter's venv: project -> Build."""
    logs = OUT / "logs" / interp.id
    results: dict[str, Build] = {}
    if clib_wheel is None:
        return {p: Build(False, "the C ABI library (crates/clib) did not build") for p in projects()}
    code, out = install(interp, [clib_wheel], logs / "clib-install.log")
    if code != 0:
        return {p: Build(False, f"the C ABI library does not install: {excerpt(out)}") for p in projects()}
    for project in projects():
        say(interp.id, f"pip wheel {project}")
        name = project.rstrip("/").rsplit("/", 1)[-1]
        built = build_wheel(interp, project, OUT / "wheels" / interp.id / name, logs / f"build-{name}.log")
        if built.ok and built.wheel is not None:
            code, out = install(interp, [built.wheel], logs / f"install-{name}.log")
            if code != 0:
                built = Build(False, f"built, but does not install: {excerpt(out)}")
        if not built.ok:
            say(interp.id, f"  {project}: FAILED ({built.reason[:100]})")
        results[project] = built
    return results


def python_json(
    interp: Interpreter, code: str, log: Path, *, pythonpath: Path | None = None, timeout: float = 900
) -> Any:
    """Run ``code`` in the venv; the JSON it prints last, or a dict with the error."""
    status, out = run([interp.python, "-c", code], log, env=child_env(interp, pythonpath), timeout=timeout)
    lines = out.strip().splitlines()
    if status == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    return {"error": excerpt(out) or f"exit {status}"}


def probe_in(
    interp: Interpreter, names: list[str], quick: bool, log: Path, pythonpath: Path | None = None
) -> dict[str, Any]:
    code = f"from factlab.matrix import probe; probe({names!r}, quick={quick!r})"
    result = python_json(interp, code, log, pythonpath=pythonpath)
    if "error" in result:
        return {name: {"error": result["error"]} for name in names}
    return result  # type: ignore[no-any-return]


def contract(
    interp: Interpreter,
    names: list[str],
    log: Path,
    *,
    quick: bool,
    pythonpath: Path | None = None,
) -> dict[str, str]:
    """Run tests/test_contract.py in the venv: backend -> "" (passed) or why it failed."""
    junit = log.with_suffix(".xml")
    if junit.exists():
        junit.unlink()
    cmd: list[Any] = [interp.python, "-m", "pytest", "tests/test_contract.py", "-p", "no:cacheprovider", "-q"]
    select = " or ".join(names)
    if quick:
        # The seed value, the odd inputs, the signature and the bound; the
        # 0..1000 sweep, hypothesis and the threads run in the full matrix.
        select = f"({select}) and ({' or '.join(QUICK_TESTS)})"
    left_out = ORACLE_DIFFERS.get(interp.implementation, ((), ""))[0]
    if left_out:
        select = f"({select}) and not ({' or '.join(left_out)})"
    cmd += ["-m", "not slow", f"--junitxml={junit}", "-k", select]
    env = {**child_env(interp, pythonpath), "FACTLAB_ALLOW_UNBUILT": "1"}
    _, out = run(cmd, log, env=env, timeout=1800)
    return junit_outcomes(junit, names, out)


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

# The contract tests --quick runs (the others are the long ones).
QUICK_TESTS = (
    "test_seed_article_value",
    "test_odd_inputs_outcome_for_outcome",
    "test_bound_refused_before_any_work",
    "test_crossing_is_the_bare_u64_entry",
    "test_signature_is_math_factorials",
    "test_n_is_positional_only",
    "test_big_spot_checks",
)


def backend_of(test_id: str, names: list[str]) -> str | None:
    """The backend a parametrized test id names: ``[cffi-abi-inline-10000]`` -> ``cffi-abi-inline``."""
    match = re.search(r"\[(.*)\]$", test_id)
    if not match:
        return None
    params = match.group(1)
    fits = [n for n in names if params == n or params.startswith(n + "-") or params.endswith("-" + n)]
    return max(fits, key=len) if fits else None


def junit_outcomes(junit: Path, names: list[str], output: str) -> dict[str, str]:
    """backend -> "" when its tests passed, else the first failure (or why none ran)."""
    import xml.etree.ElementTree as ET

    if not junit.exists():
        return {name: f"the contract tests did not run: {excerpt(output)}" for name in names}
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
    outcome = {}
    for name in names:
        if name in failed:
            outcome[name] = failed[name]
        elif passed[name] == 0:
            outcome[name] = skipped.get(name, "no contract test ran")
        else:
            outcome[name] = ""
    return outcome


def run_interpreter(
    interp: Interpreter, problem: str | None, clib_wheel: Path | None, quick: bool, say: Progress
) -> list[Cell]:
    """Every backend's cell on one interpreter (``problem``: why its venv is not ready)."""
    from factlab import specs

    logs = OUT / "logs" / interp.id
    if problem:
        say(interp.id, f"FAILED: {problem[:120]}")
        return [Cell(interp.id, s.name, "failed", problem) for s in specs()]
    builds = build_all(interp, clib_wheel, say)
    cells: dict[str, Cell] = {}
    for s in specs():
        built = builds.get(s.project) if s.project else Build(True)
        if built is None or not built.ok:
            reason = built.reason if built else "not built"
            supported = documented(s.tool, interp.implementation, interp.version)
            cells[s.name] = Cell(interp.id, s.name, "failed" if supported else "unsupported", reason)
    candidates_ = [s.name for s in specs() if s.name not in cells]
    say(interp.id, f"load and time {len(candidates_)} backends")
    probed = probe_in(interp, candidates_, quick, logs / "probe.log")
    loaded = []
    for name in candidates_:
        row = probed.get(name, {"error": "the probe did not report it"})
        if "error" in row:
            tool = next(s.tool for s in specs() if s.name == name)
            supported = documented(tool, interp.implementation, interp.version)
            cells[name] = Cell(interp.id, name, "failed" if supported else "unsupported", scrub(row["error"]))
        else:
            cells[name] = Cell(
                interp.id, name, "ok", abi3=row["abi3"], ns=row["ns"], artifact=row["artifact"]
            )
            loaded.append(name)
    if loaded:
        say(interp.id, f"contract tests ({'quick subset' if quick else 'tests/test_contract.py'})")
        outcomes = contract(interp, loaded, logs / "contract.log", quick=quick)
        for name, why in outcomes.items():
            if why:
                cells[name].status, cells[name].reason = "failed", f"contract: {why}"
    line = ", ".join(f"{c.backend} {c.status}" for c in cells.values() if c.status != "ok") or "all ok"
    say(interp.id, f"done: {line}")
    return [cells[s.name] for s in specs()]


# -- the stable ABI ----------------------------------------------------------------------------

# How each project is built once as an abi3 wheel: pip options and environment.
# The backends it serves come from the registry (spec.project).
ABI3_BUILDS: dict[str, tuple[tuple[str, ...], dict[str, str], str]] = {
    # maturin reads extra cargo arguments from a PEP 517 config setting.
    "crates/pyo3": (("-C", "maturin.build-args=--features abi3"), {}, "maturin, PyO3 feature abi3-py310"),
    "crates/capi": (
        ("-C", "maturin.build-args=--features abi3"),
        {},
        "maturin, pyo3-ffi feature abi3-py310 (Py_LIMITED_API)",
    ),
    # cffi's API mode compiles with Py_LIMITED_API already: only the wheel's tag is
    # version-specific; bdist_wheel's --py-limited-api tags it cp310-abi3.
    "python/factlab-cffi": (
        ("-C", "--build-option=--py-limited-api=cp310"),
        {},
        "setuptools + cffi (its default Py_LIMITED_API), wheel tagged cp310-abi3",
    ),
    # Cython's Limited API mode: setup.py defines Py_LIMITED_API when asked.
    "python/factlab-cython": (
        (),
        {"FACTLAB_LIMITED_API": "cp310"},
        "setuptools + Cython, Limited API mode (Py_LIMITED_API=0x030A0000)",
    ),
}
NO_STABLE_ABI = {
    "rust-cpython": "rust-cpython has no stable-ABI build: its python3-sys `pep-384` feature is disabled "
    "(the crate does not build with it), and the crate is unmaintained",
}


def stable_abi(
    interps: list[Interpreter], cells: list[Cell], quick: bool, say: Progress
) -> list[dict[str, Any]]:
    """Build each abi3 artifact once, on the oldest CPython, and prove it on every CPython."""
    from factlab import specs

    cpythons = [i for i in interps if i.gil_cpython and i.version >= ABI3_FLOOR and i.python.exists()]
    if not cpythons:
        return []
    builder = cpythons[0]
    say("stable ABI", f"building the abi3 wheels once, with {builder.id}")
    wheels: dict[str, Build] = {}
    for project, (options, env, _how) in ABI3_BUILDS.items():
        name = project.rsplit("/", 1)[-1]
        say("stable ABI", f"pip wheel {project} (abi3)")
        wheels[project] = build_wheel(
            builder,
            project,
            OUT / "wheels" / "abi3" / name,
            OUT / "logs" / "abi3" / f"build-{name}.log",
            extra=options,
            env=env,
        )
    good = [w.wheel for w in wheels.values() if w.ok and w.wheel is not None]
    rows: dict[str, dict[str, Any]] = {}
    # The compiled extensions: the baselines, ctypes and cffi's ABI mode have
    # no binary of their own (the C ABI library is one py3-none wheel for all).
    for s in specs():
        if s.kind == "baseline" or s.clib == "dlopen":
            continue
        if s.name in NO_STABLE_ABI:
            rows[s.name] = {"backend": s.name, "status": "unsupported", "reason": NO_STABLE_ABI[s.name]}
        elif s.project in ABI3_BUILDS:
            built = wheels[s.project]
            rows[s.name] = {
                "backend": s.name,
                "status": "ok" if built.ok else "failed",
                "reason": built.reason,
                "artifact": str(built.wheel.relative_to(ROOT)) if built.wheel else None,
                "built_with": f"{builder.id}: {ABI3_BUILDS[s.project][2]}",
                "passes_on": [],
                "fails_on": {},
                "ns": {},
            }
    names = [n for n, r in rows.items() if r["status"] == "ok"]
    ok_cells = {(c.interpreter, c.backend) for c in cells if c.status == "ok"}
    for interp in cpythons:
        if not names:
            break
        site = OUT / "abi3" / interp.id
        logs = OUT / "logs" / interp.id
        code, out = install(interp, good, logs / "abi3-install.log", target=site)
        if code != 0:
            for n in names:
                rows[n]["fails_on"][interp.id] = f"does not install: {excerpt(out)}"
            continue
        say("stable ABI", f"{interp.id}: load, time and test the abi3 artifacts")
        abi3 = probe_in(interp, names, quick, logs / "abi3-probe.log", pythonpath=site)
        specific = probe_in(interp, names, quick, logs / "abi3-specific-probe.log")
        outcomes = contract(interp, names, logs / "abi3-contract.log", quick=quick, pythonpath=site)
        for n in names:
            got = abi3.get(n, {"error": "not reported"})
            if "error" in got:
                rows[n]["fails_on"][interp.id] = scrub(got["error"])
            elif not got["abi3"]:
                rows[n]["fails_on"][interp.id] = f"imported {got['artifact']}, not the abi3 artifact"
            elif outcomes.get(n):
                rows[n]["fails_on"][interp.id] = f"contract: {outcomes[n]}"
            else:
                rows[n]["passes_on"].append(interp.id)
                mine = specific.get(n, {})
                version_specific = (
                    mine.get("ns") if (interp.id, n) in ok_cells and "error" not in mine else None
                )
                rows[n]["ns"][interp.id] = {"abi3": got["ns"], "version_specific": version_specific}
    return list(rows.values())


# -- subinterpreters ---------------------------------------------------------------------------

SUBINTERPRETER_CODE = """
import math, importlib
module = importlib.import_module({module!r})
assert module.factorial(25) == {f25}, "wrong 25!"
assert module.factorial(1000) == math.factorial(1000), "wrong 1000!"
"""


def subinterpreters(
    interps: list[Interpreter], cells: list[Cell], quick: bool, say: Progress
) -> list[dict[str, Any]]:
    """Each backend in an isolated (own GIL) and a legacy (shared GIL) subinterpreter, 3.12+."""
    from factlab import specs

    rows: list[dict[str, Any]] = []
    status = {(c.interpreter, c.backend): c for c in cells}
    timeout = 20 if quick else 60
    for interp in interps:
        if not (interp.gil_cpython and interp.version >= (3, 12)) or not interp.python.exists():
            continue
        say("subinterp", f"{interp.id}: each backend in an own-GIL and a shared-GIL subinterpreter")
        for s in specs():
            cell = status.get((interp.id, s.name))
            for gil in ("own", "shared"):
                row: dict[str, Any] = {"interpreter": interp.id, "backend": s.name, "gil": gil}
                if cell is None or cell.status != "ok":
                    row.update(status="unsupported", reason=f"not built on {interp.id}")
                else:
                    code = (
                        "from factlab.matrix import subinterpreter_probe; "
                        f"subinterpreter_probe({s.module!r}, {gil!r})"
                    )
                    got = python_json(
                        interp,
                        code,
                        OUT / "logs" / interp.id / f"subinterp-{s.name}-{gil}.log",
                        timeout=timeout,
                    )
                    if got.get("error") and "timed out" in got["error"]:
                        got = {"status": "failed", "reason": f"no answer within {timeout} s (hangs)"}
                    elif "error" in got:
                        got = {"status": "failed", "reason": got["error"]}
                    row.update(got)
                row["reason"] = scrub(row.get("reason", ""))
                rows.append(row)
        bad = [
            f"{r['backend']}/{r['gil']}"
            for r in rows
            if r["interpreter"] == interp.id and r["status"] == "failed"
        ]
        say("subinterp", f"{interp.id}: failed: {', '.join(bad) or 'none'}")
    return rows


# -- results -----------------------------------------------------------------------------------


def fmt_ns(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def code(text: str) -> str:
    """``text`` as inline code that a Markdown table cell can hold."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def anchored(name: str, lines: list[str]) -> list[str]:
    """An mdBook anchor around ``lines``: the book includes ``summary.md:name``.

    mdBook's anchor names are letters, digits, ``_`` and ``-``: the dot of a
    version goes (``pypy-3.9-cffi-api-f25`` is ``pypy-39-cffi-api-f25``).
    """
    name = name.replace(".", "")
    return [f"<!-- ANCHOR: {name} -->", *lines, f"<!-- ANCHOR_END: {name} -->", ""]


def _status(results: dict[str, Any], interps: list[str], backends: list[str]) -> list[str]:
    cells = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    found = ", ".join(f"{i['id']} ({i['version']})" for i in results["interpreters"] if not i.get("missing"))
    missing = ", ".join(i["id"] for i in results["interpreters"] if i.get("missing"))
    out = [f"Interpreters: {found}." + (f" **Missing here**: {missing}." if missing else ""), ""]
    out += ["| backend | " + " | ".join(interps) + " |", "|---|" + "---|" * len(interps)]
    reasons: list[str] = []
    for b in backends:
        row = []
        for i in interps:
            c = cells.get((i, b))
            if c is None:
                row.append("")
                continue
            mark = {"ok": "ok", "unsupported": "unsupported", "failed": "**failed**"}[c["status"]]
            if c["status"] != "ok":
                text = f"**{b}**: {code(c['reason'])}"
                reasons += [text] if text not in reasons else []
                mark += f" [{reasons.index(text) + 1}]"
            row.append(mark + (" (abi3)" if c.get("abi3") and c["status"] == "ok" else ""))
        out.append(f"| {b} | " + " | ".join(row) + " |")
    if reasons:
        out += ["", "Why, in the tools' own words:", ""]
        out += [f"{k}. {text}" for k, text in enumerate(reasons, 1)]
    contract = results.get("contract", {})
    if contract:
        out += ["", f"The contract: {contract['tests']}."]
        for interp, left in contract.get("left_out", {}).items():
            out.append(f"On {interp} it leaves out {', '.join(left['tests'])}: {left['why']}.")
    return out


def _timings(results: dict[str, Any], interps: list[str], backends: list[str], call: str) -> list[str]:
    cells = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    out = ["| backend | " + " | ".join(interps) + " |", "|---|" + "---:|" * len(interps)]
    for b in backends:
        row = []
        for i in interps:
            c = cells.get((i, b))
            row.append(fmt_ns(c["ns"].get(call)) if c and c["status"] == "ok" else "")
        out.append(f"| {b} | " + " | ".join(row) + " |")
    return out


def _stable_abi(results: dict[str, Any]) -> list[str]:
    out = ["| backend | artifact (built once) | built with | imports and passes the contract on | fails on |"]
    out.append("|---|---|---|---|---|")
    for r in results["stable_abi"]:
        if r["status"] != "ok":
            out.append(f"| {r['backend']} | none ({r['status']}) | | | {r['reason']} |")
            continue
        fails = "; ".join(f"{k}: {code(v)}" for k, v in r["fails_on"].items()) or "none"
        artifact = Path(r["artifact"]).name if r["artifact"] else ""
        out.append(
            f"| {r['backend']} | `{artifact}` | {r['built_with']} | {', '.join(r['passes_on'])} | {fails} |"
        )
    return out


def _limited_cost(results: dict[str, Any]) -> list[str]:
    calls = "factorial(25) abi3 | version-specific | crossing(25) abi3 | version-specific"
    out = [f"| backend | interpreter | {calls} |"]
    out.append("|---|---|---:|---:|---:|---:|")
    for r in results["stable_abi"]:
        for i, ns in (r.get("ns") or {}).items():
            mine = ns.get("version_specific") or {}
            out.append(
                f"| {r['backend']} | {i} | {fmt_ns(ns['abi3'].get('factorial(25)'))} | "
                f"{fmt_ns(mine.get('factorial(25)'))} | {fmt_ns(ns['abi3'].get('crossing(25)'))} | "
                f"{fmt_ns(mine.get('crossing(25)'))} |"
            )
    return out


def _subinterpreters(results: dict[str, Any], backends: list[str]) -> list[str]:
    subs = results["subinterpreters"]
    columns = list(dict.fromkeys((r["interpreter"], r["gil"]) for r in subs))
    out = ["| backend | " + " | ".join(f"{i}, {g} GIL" for i, g in columns) + " |"]
    out.append("|---|" + "---|" * len(columns))
    by = {(r["interpreter"], r["backend"], r["gil"]): r for r in subs}
    reasons: list[str] = []
    for b in backends:
        row = []
        for i, g in columns:
            r = by.get((i, b, g))
            if r is None or r["status"] == "ok":
                row.append("ok" if r else "")
                continue
            text = f"**{b}**: {code(r['reason'])}"
            reasons += [text] if text not in reasons else []
            mark = "**failed**" if r["status"] == "failed" else r["status"]
            row.append(f"{mark} [{reasons.index(text) + 1}]")
        out.append(f"| {b} | " + " | ".join(row) + " |")
    if reasons:
        out += [""] + [f"{k}. {text}" for k, text in enumerate(reasons, 1)]
    return out


def render_summary(results: dict[str, Any]) -> str:
    """The Markdown tables of a run, each between mdBook anchors (the book's chapter includes them)."""
    interps = [i["id"] for i in results["interpreters"] if not i.get("missing")]
    backends = list(dict.fromkeys(c["backend"] for c in results["cells"]))
    run_kind = "just matrix --quick" if results.get("quick") else "just matrix"
    repeats = results["timing"]["repeats"]
    out = [
        f"<!-- generated by `{run_kind}` (python -m factlab matrix) on {results['generated'][:10]}, "
        f"in {results['seconds'] // 60} min {results['seconds'] % 60} s: do not edit -->",
        "",
        "### Does it build, load and pass the contract?",
        "",
        *anchored("status", _status(results, interps, backends)),
    ]
    for call, name in (("factorial(25)", "factorial"), ("crossing(25)", "crossing")):
        out += [f"### {call}: ns per call, best of {repeats} timeit repeats", ""]
        out += anchored(name, _timings(results, interps, backends, call))
    if results.get("stable_abi"):
        out += ["### One binary for every CPython (stable ABI, abi3)", ""]
        out += anchored("stable-abi", _stable_abi(results))
        out += [
            "### What the limited API costs: ns per call, the abi3 binary beside the version-specific one",
            "",
        ]
        out += anchored("limited-cost", _limited_cost(results))
    if results.get("subinterpreters"):
        out += ["### Subinterpreters: import, then factorial(25) and factorial(1000) in there", ""]
        out += anchored("subinterpreters", _subinterpreters(results, backends))
    return "\n".join(out)


def render_figures(results: dict[str, Any]) -> str:
    """Single figures for the book's sentences, between anchors: ``figures.md:pypy-3.9-cffi-api-f25``."""
    out = ["<!-- generated by python -m factlab matrix from results.json: do not edit -->", ""]
    by = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    for (interp, backend), c in by.items():
        if c["status"] != "ok":
            continue
        for call, short in (("factorial(25)", "f25"), ("crossing(25)", "x25")):
            ns = c["ns"].get(call)
            if ns is not None:
                out += anchored(f"{interp}-{backend}-{short}", [f"{fmt_ns(ns)} ns"])[:-1]
        # The seed article's unit: a million calls of factorial(25).
        out += anchored(f"{interp}-{backend}-million", [f"{c['ns']['factorial(25)'] / 1000:.2f} s"])[:-1]
    for row in results.get("stable_abi", []):
        for interp, ns in (row.get("ns") or {}).items():
            prefix = f"abi3-{interp}-{row['backend']}"
            out += anchored(f"{prefix}-f25", [f"{fmt_ns(ns['abi3']['factorial(25)'])} ns"])[:-1]
            if ns.get("version_specific"):
                specific = ns["version_specific"]["factorial(25)"]
                out += anchored(f"{prefix}-specific-f25", [f"{fmt_ns(specific)} ns"])[:-1]
    for interp in dict.fromkeys(c["interpreter"] for c in results["cells"]):
        pure, cffi = by.get((interp, "python")), by.get((interp, "cffi-api"))
        if pure and cffi and pure["status"] == cffi["status"] == "ok":
            ratio = pure["ns"]["factorial(25)"] / cffi["ns"]["factorial(25)"]
            out += anchored(f"{interp}-seed-ratio", [f"{ratio:.1f}\N{MULTIPLICATION SIGN}"])[:-1]
    return "\n".join(out) + "\n"


def compare(committed: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What the committed results mark ok and this run does not: one line each (empty: no regression)."""
    lost: list[str] = []
    cells = {(c["interpreter"], c["backend"]): c for c in now["cells"]}
    for c in committed.get("cells", []):
        if c["status"] != "ok":
            continue
        got = cells.get((c["interpreter"], c["backend"]))
        if got is None:
            lost.append(f"{c['interpreter']} / {c['backend']}: ok in the committed results, not run now")
        elif got["status"] != "ok":
            lost.append(
                f"{c['interpreter']} / {c['backend']}: ok in the committed results, "
                f"now {got['status']}: {got['reason']}"
            )
    if now.get("stable_abi"):
        abi = {r["backend"]: r for r in now["stable_abi"]}
        for r in committed.get("stable_abi", []):
            for interp in r.get("passes_on", []):
                if interp not in (abi.get(r["backend"]) or {}).get("passes_on", []):
                    lost.append(
                        f"stable ABI {r['backend']} on {interp}: passed in the committed results, not now"
                    )
    subs = {(r["interpreter"], r["backend"], r["gil"]): r for r in now.get("subinterpreters", [])}
    for r in committed.get("subinterpreters", []):
        key = (r["interpreter"], r["backend"], r["gil"])
        if r["status"] == "ok" and (subs.get(key) or {}).get("status") != "ok":
            lost.append(
                f"subinterpreter {r['backend']} ({r['gil']} GIL) on {r['interpreter']}: ok before, not now"
            )
    return lost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m factlab matrix",
        description="Where each backend runs: every CPython >= 3.10 and PyPy found, a virtualenv each "
        "(target/matrix/venvs/<id>), every backend built there with pip, the contract tests, timings, "
        "the stable-ABI artifacts and subinterpreters. Writes target/matrix/results.json and summary.md.",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PATH",
        help="add an interpreter (repeatable), e.g. a free-threaded python3.13t",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="ID",
        help="run only this interpreter id (repeatable), e.g. cpython-3.12",
    )
    parser.add_argument(
        "--quick", action="store_true", help="CI's run: the contract's quick subset, short timings"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=COMMITTED,
        metavar="JSON",
        help="fail on a cell these results mark ok (default: the committed ones)",
    )
    parser.add_argument("--no-compare", action="store_true", help="do not compare with committed results")
    args = parser.parse_args(argv)

    say = Progress()
    interps, problems = discover(args.python)
    if problems:  # a --python the matrix cannot use: say so before any work
        for problem in problems:
            print(f"matrix: {problem}", file=sys.stderr)
        return 2
    if args.only:
        interps = [i for i in interps if i.id in args.only]
    found_ids = [i.id for i in interps]
    missing = [i for i in EXPECTED if i not in found_ids and (not args.only or i in args.only)]
    say(
        "interpreters",
        ", ".join(f"{i.id} ({i.full_version})" for i in interps)
        + (f"; MISSING: {', '.join(missing)}" if missing else ""),
    )
    if not interps:
        print("matrix: no interpreter found", file=sys.stderr)
        return 1

    # Each interpreter's virtualenv first: the C ABI library (no Python in it:
    # one py3-none wheel for every interpreter) is built with the first that works.
    problems_by_id = {interp.id: prepare_venv(interp, say) for interp in interps}
    clib_wheel = None
    builder = next((i for i in interps if problems_by_id[i.id] is None), None)
    if builder is not None:
        say("C ABI", f"pip wheel {CLIB} with {builder.id} (one wheel for every interpreter)")
        built = build_wheel(builder, CLIB, OUT / "wheels" / "clib", OUT / "logs" / "clib.log")
        clib_wheel = built.wheel if built.ok else None
        if not built.ok:
            say("C ABI", f"FAILED: {built.reason}")

    cells: list[Cell] = []
    for interp in interps:
        cells += run_interpreter(interp, problems_by_id[interp.id], clib_wheel, args.quick, say)
    abi3 = stable_abi(interps, cells, args.quick, say)
    subs = subinterpreters(interps, cells, args.quick, say)

    results = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "timing": {"method": "timeit, ns per call, best of the repeats", "repeats": REPEATS[args.quick]},
        "seconds": round(say.elapsed()),
        "interpreters": [
            {"id": i.id, "version": i.full_version, "implementation": i.implementation} for i in interps
        ]
        + [{"id": m, "missing": True} for m in missing],
        "contract": {
            "tests": "tests/test_contract.py, not the slow ones"
            + (f", --quick: only {', '.join(QUICK_TESTS)}" if args.quick else ""),
            "left_out": {
                i.id: {
                    "tests": list(ORACLE_DIFFERS[i.implementation][0]),
                    "why": ORACLE_DIFFERS[i.implementation][1],
                }
                for i in interps
                if i.implementation in ORACLE_DIFFERS
            },
        },
        "cells": [c.as_dict() for c in cells],
        "stable_abi": abi3,
        "subinterpreters": subs,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (OUT / "summary.md").write_text(render_summary(results), encoding="utf-8")
    (OUT / "figures.md").write_text(render_figures(results), encoding="utf-8")
    counts = {s: sum(c.status == s for c in cells) for s in ("ok", "unsupported", "failed")}
    say("done", f"{counts} -> target/matrix/results.json, summary.md ({say.elapsed():.0f} s)")

    if args.no_compare or not args.compare.exists():
        return 0
    committed = json.loads(args.compare.read_text(encoding="utf-8"))
    if args.only:
        committed["cells"] = [c for c in committed["cells"] if c["interpreter"] in args.only]
        committed["subinterpreters"] = [
            r for r in committed.get("subinterpreters", []) if r["interpreter"] in args.only
        ]
        committed["stable_abi"] = []
    lost = compare(committed, results)
    for line in lost:
        print(f"matrix: REGRESSION {line}", file=sys.stderr)
    return 1 if lost else 0


# -- the probes: these run inside the matrix venvs (Python 3.9+, PyPy included) ----------------

# (repeats, seconds per repeat), by --quick.
REPEATS = {False: 7, True: 3}
SECONDS = {False: 0.1, True: 0.02}


def best_ns(function: Any, arg: int, quick: bool) -> float:
    """ns per call of ``function(arg)``: timeit, calibrated loops, best of the repeats."""
    import timeit

    timer = timeit.Timer("f(n)", globals={"f": function, "n": arg})
    number = 1
    while True:  # calibrate (and warm up a JIT): as many calls as fit in SECONDS
        if timer.timeit(number) >= SECONDS[quick]:
            break
        number *= 4
    return min(timer.repeat(REPEATS[quick], number)) / number * 1e9


def probe(names: list[str], quick: bool = False) -> None:
    """Print, as JSON: for each backend, its load error or its artifact, abi3 flag and timings."""
    import importlib
    from importlib import machinery

    import factlab

    out: dict[str, Any] = {}
    for name in names:
        entry = factlab.spec(name)
        try:
            module = importlib.import_module(entry.module)
            value = module.factorial(25)
            if value != F25:
                raise AssertionError(f"factorial(25) returned {value!r}")
        except Exception as exc:  # the probe reports any failure, it does not stop
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        artifact = ""
        if entry.extension:
            # The compiled file: the extension module itself, or the one inside
            # its package (maturin wraps factlab_capi in a package with its stubs).
            importlib.import_module(entry.extension)
            files = [
                getattr(m, "__file__", None) or ""
                for n, m in sorted(sys.modules.items())
                if n == entry.extension or n.startswith(entry.extension + ".")
            ]
            compiled = [f for f in files if f.endswith(tuple(machinery.EXTENSION_SUFFIXES))]
            artifact = os.path.basename(compiled[0]) if compiled else ""
        ns: dict[str, float | None] = {"factorial(25)": best_ns(module.factorial, 25, quick)}
        crossing = getattr(module, "crossing", None)
        ns["crossing(25)"] = best_ns(crossing, 25, quick) if crossing is not None else None
        out[name] = {"artifact": artifact, "abi3": ".abi3." in artifact, "ns": ns}
    print(json.dumps(out))


def subinterpreter_probe(module: str, gil: str) -> None:
    """Import ``module`` in a new subinterpreter (``own`` or ``shared`` GIL) and compute there.

    3.12: ``_xxsubinterpreters`` (``test.support.interpreters.create(isolated=...).run()``);
    3.13: ``_interpreters`` (``test.support.interpreters.create().exec()``, "legacy" config
    for a shared GIL). The private modules are the only ones that make both kinds.
    """
    code = SUBINTERPRETER_CODE.format(module=module, f25=F25)
    reason = ""
    if sys.version_info >= (3, 13):
        import _interpreters  # type: ignore[import-not-found]

        interp = _interpreters.create("isolated" if gil == "own" else "legacy")
        try:
            failure = _interpreters.exec(interp, code)
            if failure is not None:  # a snapshot of the exception raised in there
                reason = getattr(failure, "formatted", None) or str(failure)
        finally:
            _interpreters.destroy(interp)
    else:
        import _xxsubinterpreters as _interpreters  # type: ignore[import-not-found]

        interp = _interpreters.create(isolated=gil == "own")
        try:
            _interpreters.run_string(interp, code)
        except _interpreters.RunFailedError as exc:
            reason = str(exc)
        finally:
            _interpreters.destroy(interp)
    print(json.dumps({"status": "failed" if reason else "ok", "reason": reason}))


if __name__ == "__main__":
    sys.exit(main())
