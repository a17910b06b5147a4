"""Type information: every compiled module ships stubs that match it, and ``load()`` is typed.

mypy's stubtest imports each module and compares what it finds with the
``.pyi`` stubs (PEP 561: maturin's ``<module>.pyi``, the ``*-stubs`` packages
of the setuptools projects) and with factlab's own annotations. The modules
come from the registry.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import factlab

ROOT = Path(__file__).resolve().parents[1]


def typed_modules() -> list[str]:
    """factlab, the C ABI package, and the top-level module of every backend's build."""
    built = [spec.extension.split(".")[0] for spec in factlab.specs() if spec.extension]
    cabi = ["factlab_cabi"] if any(spec.cabi != "none" for spec in factlab.specs()) else []
    return list(dict.fromkeys(["factlab", *cabi, *built]))


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args, "--mypy-config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_stubs_match_the_modules() -> None:
    modules = typed_modules()
    assert "factlab_pyo3" in modules  # not vacuous
    done = mypy("mypy.stubtest", "--allowlist", "tests/stubtest-allowlist.txt", *modules)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


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
