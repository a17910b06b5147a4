"""Which interpreters the matrix runs: each CPython >= 3.10 and PyPy that pyenv or ``PATH`` offers, the
free-threaded CPython that ``just python-ft`` built into its cache, and any ``--python PATH``; the ones
the book expects but this machine lacks, with the command that installs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from factlab._common import hide_prefix
from factlab._facts import Version
from factlab.matrix.workspace import out

# The interpreters the book's matrix is about: one missing here is reported as missing, with
# the command that installs it, and the run goes on with what it found.
EXPECTED = ("cpython-3.10", "cpython-3.11", "cpython-3.12", "cpython-3.13", "cpython-3.13t", "pypy-3.9")
OLDEST_CPYTHON = (3, 10)
# Where `just python-ft` (python/tools/python_ft.py) builds its free-threaded CPython, under the cache
# (FACTLAB_CACHE, else ~/.cache/factlab): one folder per Debian version it was built from.
FREE_THREADED_BUILDS = "python-ft/*/prefix/bin/python3.*t"

# What a candidate says it is: implementation, (major, minor), free-threaded, full version.
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
        return out() / "venvs" / self.id

    @property
    def python(self) -> Path:
        return self.venv / "bin/python"

    @property
    def gil_cpython(self) -> bool:
        """A CPython with a GIL: where abi3 wheels and subinterpreters apply."""
        return self.implementation == "cpython" and not self.free_threaded


@dataclass(frozen=True)
class Missing:
    """An expected interpreter this machine lacks."""

    id: str

    @property
    def install(self) -> str:
        return install_hint(self.id)

    def __str__(self) -> str:
        return f"{self.id} (install: {self.install})"


def interpreter_id(implementation: str, version: Version, free_threaded: bool) -> str:
    """``cpython-3.12``, ``pypy-3.9``, ``cpython-3.13t`` (a free-threaded build)."""
    return f"{implementation}-{version[0]}.{version[1]}{'t' if free_threaded else ''}"


def install_hint(interpreter: str) -> str:
    """The command that installs an interpreter the matrix looks for, from its id."""
    implementation, _, version = interpreter.partition("-")
    if implementation == "pypy":  # Debian's pypy3, with the headers cpyext builds need
        return "apt-get install pypy3 pypy3-dev"
    if version.endswith("t"):  # free-threaded: built from Debian's source package, once, into the cache
        return "just python-ft"
    return f"pyenv install {version}"


def missing(found: list[str], only: list[str]) -> list[Missing]:
    """The expected interpreters not found (of those ``--only`` asks for, if it is given)."""
    return [Missing(i) for i in EXPECTED if i not in found and (not only or i in only)]


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
    if len(prefix.parts) > 2:  # ~/.pyenv/versions/3.12.1, not /usr: its path never reaches the results
        hide_prefix(str(prefix), f"<{found.id}>")
    return found


def cache() -> Path:
    """factlab's cache outside the clone, where ``just python-ft`` builds (``FACTLAB_CACHE`` moves it)."""
    return Path(os.environ.get("FACTLAB_CACHE") or Path.home() / ".cache" / "factlab").expanduser()


def free_threaded_builds() -> list[str]:
    """The free-threaded interpreters ``just python-ft`` built, whatever their version."""
    return [str(p) for p in sorted(cache().glob(FREE_THREADED_BUILDS)) if p.is_file()]


def candidates() -> list[str]:
    """Every interpreter pyenv, PATH or factlab's cache offers that the matrix may want."""
    found: list[str] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        versions = Path(done.stdout.strip()) / "versions"
        if done.returncode == 0 and versions.is_dir():
            found += [
                str(p / "bin/python") for p in sorted(versions.iterdir()) if (p / "bin/python").exists()
            ]
    minors = range(OLDEST_CPYTHON[1], 16)
    names = [f"python3.{m}{t}" for m in minors for t in ("", "t")] + ["python3", "pypy3", "pypy"]
    names += [f"pypy3.{m}" for m in range(9, 13)]
    found += [p for p in (shutil.which(name) for name in names) if p]
    return found + free_threaded_builds()


def wanted(found: Interpreter) -> bool:
    """A CPython the matrix covers (3.10+), or any PyPy."""
    if found.implementation == "cpython":
        return found.version >= OLDEST_CPYTHON
    return found.implementation == "pypy"


def discover(extra: list[str]) -> tuple[list[Interpreter], list[str]]:
    """The interpreters to run (``--python`` ones first), and what is wrong with a ``--python``."""
    chosen: dict[str, Interpreter] = {}
    problems: list[str] = []
    for path in extra:
        found = describe(path)
        if found is None:
            problems.append(f"--python {path}: does not run as a Python interpreter")
        elif not wanted(found):
            problems.append(
                f"--python {path}: {found.id} ({found.full_version}); the matrix wants 3.10+ or PyPy"
            )
        else:
            chosen.setdefault(found.id, found)
    for path in candidates():
        found = describe(path)
        if found is not None and wanted(found):
            chosen.setdefault(found.id, found)
    order = {"cpython": 0, "pypy": 1}
    ordered = sorted(chosen.values(), key=lambda i: (order[i.implementation], i.version, i.free_threaded))
    return ordered, problems
