"""The registry is the one list of backends: everything else derives from it.

Registering a backend is all it takes to have it tested: a throwaway backend,
registered by a pytest plugin in a child run, goes through the contract tests.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import factlab

ROOT = Path(__file__).resolve().parents[1]


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known backends: python, math"):
        factlab.load("fortran")


def test_developers_tables_are_the_registry() -> None:
    """DEVELOPERS.md's tables of backends (what each is, its files) name the registry's, in its order."""
    text = (ROOT / "DEVELOPERS.md").read_text(encoding="utf-8")
    section = text.split("## The ten backends", 1)[1].split("\n## ", 1)[0]
    tables = section.split("\n### ")
    assert len(tables) == 2, "the backends' table, then their files' table"
    for table in tables:
        assert re.findall(r"^\| `([\w-]+)` \|", table, re.MULTILINE) == factlab.backend_names()


def test_every_fact_points_at_something_real(backend_name: str) -> None:
    entry = factlab.spec(backend_name)
    assert (ROOT / "docs/src" / entry.chapter).is_file(), f"no book chapter {entry.chapter}"
    for source in entry.sources:
        assert (ROOT / source).is_file(), f"{backend_name}: source {source} does not exist"
    if entry.project:
        assert (ROOT / entry.project / "pyproject.toml").is_file()
        assert entry.extension, "a built project produces a module"
    assert entry.native == (entry.panic is not None), "every native backend says what a panic becomes"
    assert (entry.clib != "none") == (entry.kind == "ffi"), "the FFI backends, and only they, reach the C ABI"


def test_build_projects_come_from_the_registry() -> None:
    projects = factlab.build_projects()
    assert projects == list(dict.fromkeys(e.project for e in factlab.specs() if e.project))
    out = subprocess.run(
        [sys.executable, "-m", "factlab", "projects"], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == projects


def test_registering_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        factlab.register(factlab.spec("math"))


# A backend that exists only in a child pytest run: a module and a plugin that
# registers it. `wrong` makes it return n! + 1 for n = 7, to prove the tests
# it joins can fail.
THROWAWAY = """
import math

def factorial(n, /):
    'A test factorial.'
    value = math.factorial(n)
    return value + 1 if {wrong} and n == 7 else value
"""
PLUGIN = """
import factlab

factlab.register(
    factlab.BackendSpec("throwaway", "throwaway_backend", "a test's backend", kind="baseline", tool="python")
)
"""


@pytest.mark.parametrize("wrong", [False, True])
def test_a_registered_backend_is_tested(tmp_path: Path, wrong: bool) -> None:
    (tmp_path / "throwaway_backend.py").write_text(textwrap.dedent(THROWAWAY.format(wrong=wrong)))
    (tmp_path / "register_throwaway.py").write_text(PLUGIN)
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "register_throwaway",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_contract.py",
            "-k",
            "throwaway",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = child.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), child.stdout[-3000:]
    if wrong:
        assert child.returncode == 1, child.stdout[-3000:]
        assert "failed" in summary, child.stdout[-3000:]
    else:
        assert child.returncode == 0, child.stdout[-3000:]


def test_no_module_but_the_registry_names_a_backend() -> None:
    """Which backends a table, a target, a build or a cell concerns comes from the registry, never from code.

    Every string literal of factlab's modules, of the book's figure renderer and of the tools is held
    against the backend names; the registry itself and the backends' own modules are the exceptions.
    """
    files = [
        *(ROOT / "python/factlab").rglob("*.py"),
        ROOT / "docs/figures.py",
        *(ROOT / "python/tools").glob("*.py"),
    ]
    own = {ROOT / "python/factlab/_registry.py", *(ROOT / "python/factlab/backends").glob("*.py")}
    # The interpreter finders run before any venv and know no backend: their "python" is a command.
    own |= {ROOT / "python/tools/find_python.py", ROOT / "python/tools/python_ft.py"}
    for path in sorted(set(files) - own):
        named = _string_literals(path) & set(factlab.backend_names())
        assert not named, f"{path.relative_to(ROOT)} names {sorted(named)}"


def _string_literals(path: Path) -> set[str]:
    """The strings a module writes, less the parts of paths (``root / "python"`` is a folder)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_paths = {
        id(side)
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
        for side in (node.left, node.right)
    }
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in in_paths
    }
