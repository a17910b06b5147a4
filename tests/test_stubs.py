"""Type information: every compiled module ships stubs that match it, and ``load()`` is typed.

mypy's stubtest imports each compiled module and compares what it finds with
its stubs: the stub-only package ``<module>-stubs/`` beside its project's
pyproject.toml (PEP 561), whatever the build back-end; the modules come from
the registry. factlab itself is typed inline (py.typed) and checked by mypy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import factlab

ROOT = Path(__file__).resolve().parents[1]


def stubbed_modules() -> list[str]:
    """The C ABI package and the top-level module of every backend's build."""
    built = [spec.extension.split(".")[0] for spec in factlab.specs() if spec.extension]
    clib = ["factlab_clib"] if any(spec.clib != "none" for spec in factlab.specs()) else []
    return list(dict.fromkeys([*clib, *built]))


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args, "--mypy-config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_one_convention_for_stubs() -> None:
    """Each compiled module's stubs are the package ``<module>-stubs/`` beside its project's pyproject.toml.

    The one place to look, whatever builds the module (maturin, setuptools-rust,
    setuptools): no ``<module>.pyi`` elsewhere in a project.
    """
    for spec in factlab.specs():
        if spec.extension and spec.project:
            module = spec.extension.split(".")[0]
            assert (ROOT / spec.project / f"{module}-stubs" / "__init__.pyi").is_file(), spec.name
    for project in factlab.build_projects():
        strays = [
            p.relative_to(ROOT)
            for p in (ROOT / project).rglob("*.pyi")
            if not p.parent.name.endswith("-stubs") and "build" not in p.parts
        ]
        assert strays == [], f"stubs outside a <module>-stubs package: {strays}"


def test_stubs_match_the_modules() -> None:
    modules = stubbed_modules()
    assert "factlab_pyo3" in modules  # not vacuous
    done = mypy("mypy.stubtest", "--allowlist", "tests/stubtest-allowlist.txt", *modules)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_factlab_type_checks() -> None:
    """factlab's own annotations (inline, with py.typed) hold, stubs of the modules included."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "factlab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:]


def test_load_is_typed_for_editors(tmp_path: Path) -> None:
    """``factlab.load(NAME).factorial`` has a type an editor can complete and check."""
    sample = tmp_path / "sample.py"
    sample.write_text('import factlab\nreveal_type(factlab.load("pyo3").factorial)\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(sample)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "def (typing.SupportsIndex) -> int" in done.stdout, done.stdout
