"""A broken install is reported, never crashed on.

Each case copies the C ABI library and its declarations to a temporary
directory, breaks one of them, points the location functions
(``library_path``/``cdef_path``) at the copies, and loads a backend in a
fresh process: the outcome must be the registry's ``BackendNotBuilt`` naming
the broken file and the fix. ``python -m factlab list`` must then still
report every backend and exit non-zero.

The fix fits how factlab was installed: in a clone, ``just setup``; from
wheels (no justfile, no toolchain), the wheels to reinstall.
"""

from __future__ import annotations

import _ctypes
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import factlab
from factlab import _facts, _registry
from factlab.backends import _clib

ROOT = Path(__file__).resolve().parents[1]

# Every backend over the C ABI library. Those that open it at run time
# (clib == "dlopen") must report a broken file; those that link it in
# (clib == "static") may not read the shipped files at all, and then load.
FFI = [name for name in factlab.backend_names() if factlab.spec(name).clib != "none"]

# In the child: point the location functions at the broken copies, then load.
CHILD = """
import json, sys
from pathlib import Path
from factlab.backends import _clib
_clib.library_path = lambda: Path({library!r})
_clib.cdef_path = lambda: Path({cdef!r})
import factlab
try:
    factlab.load({name!r}).factorial(25)
    print(json.dumps(["loaded", ""]))
except factlab.BackendNotBuilt as exc:
    print(json.dumps(["not built", str(exc)]))
"""

LIST_CHILD = """
import sys
from pathlib import Path
from factlab.backends import _clib
_clib.library_path = lambda: Path({library!r})
_clib.cdef_path = lambda: Path({cdef!r})
from factlab.__main__ import main
sys.exit(main(["list"]))
"""


def _wrong_architecture(path: Path) -> None:
    # An ELF file of another machine: the shipped library with e_machine
    # changed (x86-64 <-> AArch64); dlopen refuses it like a real one.
    data = bytearray(path.read_bytes())
    machine = int.from_bytes(data[18:20], "little")
    data[18:20] = (183 if machine != 183 else 62).to_bytes(2, "little")
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


BREAKAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "empty library": ("library", lambda p: p.write_bytes(b"")),
    "random library": ("library", lambda p: p.write_bytes(os.urandom(64 * 1024))),
    "truncated library": ("library", _truncated),
    "wrong-architecture library": ("library", _wrong_architecture),
    # A valid shared library of this machine, but not ours: the functions are missing.
    "library without the functions": ("library", lambda p: shutil.copy(_ctypes.__file__, p)),
    "empty header": ("cdef", lambda p: p.write_text("")),
    "garbage header": ("cdef", lambda p: p.write_text("#define FACTLAB_OK 0\nthis is { not C ;\n")),
    "header without its #defines": (
        "cdef",
        lambda p: p.write_text(
            "\n".join(x for x in p.read_text().splitlines() if not x.startswith("#define"))
        ),
    ),
}


def _copies(tmp_path: Path, breakage: str) -> tuple[Path, Path]:
    library = tmp_path / _clib.library_path().name
    cdef = tmp_path / _clib.cdef_path().name
    shutil.copy(_clib.library_path(), library)
    shutil.copy(_clib.cdef_path(), cdef)
    which, breaker = BREAKAGES[breakage]
    breaker(library if which == "library" else cdef)
    return library, cdef


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="breaks ELF files")
@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("name", FFI)
def test_broken_file_is_not_built(tmp_path: Path, name: str, breakage: str) -> None:
    library, cdef = _copies(tmp_path, breakage)
    code = CHILD.format(library=str(library), cdef=str(cdef), name=name)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"{name}, {breakage}: crashed (exit {proc.returncode})\n{proc.stderr[-2000:]}"
    )
    outcome, message = json.loads(proc.stdout)
    broken = library if BREAKAGES[breakage][0] == "library" else cdef
    if outcome == "loaded":
        # Only a backend that links the library in may not read the shipped files.
        assert factlab.spec(name).clib == "static", f"{name} loaded despite a {breakage}"
        return
    assert str(broken) in message, f"{name}, {breakage}: the message does not name {broken}: {message}"
    assert "just setup" in message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="breaks ELF files")
@pytest.mark.parametrize("breakage", ["random library", "garbage header"])
def test_list_reports_every_backend_and_fails(tmp_path: Path, breakage: str) -> None:
    library, cdef = _copies(tmp_path, breakage)
    code = LIST_CHILD.format(library=str(library), cdef=str(cdef))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert list(rows) == factlab.backend_names(), proc.stdout
    assert proc.returncode == 1
    for name in FFI:
        if factlab.spec(name).clib == "dlopen":
            assert "not built" in rows[name], rows[name]
    assert "ok" in rows["math"]


def _not_built(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Backend ``name`` as registered, but its module is not installed."""
    entry = dataclasses.replace(factlab.spec(name), module="factlab_never_built")
    monkeypatch.setitem(_registry._REGISTERED, name, entry)


def _distribution(project: str) -> str:
    """The ``[project] name`` of a project's pyproject.toml."""
    text = (ROOT / project / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[project\]\s*^name = "([^"]+)"', text, re.MULTILINE)
    assert found, project
    return found[1]


def test_not_built_in_a_clone_says_just_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    _not_built(monkeypatch, "pyo3")
    with pytest.raises(factlab.BackendNotBuilt, match=r"factlab_never_built.*`just setup`"):
        factlab.load("pyo3")


@pytest.mark.parametrize("name", factlab.native_names())
def test_not_built_from_wheels_names_the_wheels_to_reinstall(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _not_built(monkeypatch, name)
    monkeypatch.setattr(_facts, "repo_root", lambda: None)  # as from site-packages
    entry = factlab.spec(name)
    projects = [p for p in (entry.project, factlab.CLIB.project if entry.clib != "none" else None) if p]
    with pytest.raises(factlab.BackendNotBuilt) as caught:
        factlab.load(name)
    message = str(caught.value)
    assert f"pip install {' '.join(_distribution(p) for p in projects)} " in message, message
    assert "just" not in message, message
