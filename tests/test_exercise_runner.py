"""The workshop's exercise driver (docs/exercises/run.py): the parts that are not the exercises.

``just exercises-check`` proves the exercises themselves (each solution
passes, each start as committed fails); here, what makes that check survive a
participant's edits and what makes a build error readable.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("exercise_driver", ROOT / "docs" / "exercises" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


run = _driver()


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout


# A failed `pip install --verbose` of a maturin crate, as run.py logs it: pip
# indents the build's output by two spaces and adds its own "error:" lines.
FAILED_BUILD = """\
Processing ./docs/exercises/capi-leak/start
  Running `maturin pep517 build-wheel -i .venv/bin/python --compatibility off`
     Compiling capi-leak-start v0.1.0 (docs/exercises/capi-leak/start)
  error[E0308]: mismatched types
     --> src/lib.rs:127:18
      |
  127 |     let n: u32 = long_to_u64(index);
      |            ---   ^^^^^^^^^^^^^^^^^^ expected `u32`, found `Option<u64>`

  error: could not compile `capi-leak-start` (lib) due to 1 previous error
  \N{COLLISION SYMBOL} maturin failed
    Caused by: Failed to build a native library through cargo
  error: subprocess-exited-with-error

  \N{MULTIPLICATION SIGN} Building wheel for capi-leak (pyproject.toml) did not run successfully.
ERROR: Failed building wheel for capi-leak
"""


def test_a_build_error_is_the_compilers_own_words() -> None:
    errors = run.compiler_errors(FAILED_BUILD)
    assert errors.splitlines()[0] == "error[E0308]: mismatched types"
    assert "   --> src/lib.rs:127:18" in errors.splitlines()
    assert errors.splitlines()[-1].startswith("error: could not compile `capi-leak-start`")
    # Nothing of pip's or maturin's.
    assert "maturin" not in errors
    assert "subprocess-exited-with-error" not in errors


@pytest.mark.parametrize("name", run.exercises())
def test_the_check_tests_the_start_code_as_committed(name: str) -> None:
    exported = run.start_from_git(name)
    if exported is None:
        pytest.skip("not a git checkout")
    prefix = f"docs/exercises/{name}/start/"
    committed = git("ls-tree", "-r", "--name-only", "HEAD", prefix).decode().split()
    assert committed, f"git knows no file of {prefix}"
    got = sorted(str(path.relative_to(exported)) for path in exported.rglob("*") if path.is_file())
    assert got == sorted(path.removeprefix(prefix) for path in committed)
    for path in committed:
        assert (exported / path.removeprefix(prefix)).read_bytes() == git("show", f"HEAD:{path}")
    # Four levels below the root, like docs/exercises/<name>/start: the crates'
    # relative paths to crates/core resolve from the copy too.
    assert (exported / "../../../../crates/core/Cargo.toml").resolve().is_file()
