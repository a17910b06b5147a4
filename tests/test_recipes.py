"""The justfile's recipes as a hostile user and a newcomer meet them (issue 24).

- Every recipe passes its arguments through exactly as typed: one argument
  stays one argument, and nothing in it is run by the shell (a marker file a
  ``touch`` would create never appears).
- ``python=`` takes a version as well as a command: ``3.X`` finds ``python3.X``
  on PATH or pyenv's ``versions/3.X*``, also when PATH's ``python3.X`` is a
  pyenv shim that answers "command not found"; a missing version is an error
  that says what was tried and never suggests itself.
- ``just setup`` serialises: it takes a lock, and says it waits for another
  setup while the lock is held.

Nothing here builds: the recipes run with ``--no-deps`` (no ``setup`` first)
against a stub virtualenv whose ``python`` records its arguments, and the
setup recipe is run with an interpreter that does not exist, so that it stops
right after the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUST = shutil.which("just")
FIND_PYTHON = ROOT / "python" / "tools" / "find_python.py"
# The interpreter running the tests, outside any virtualenv: what the fake pyenv holds.
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.skipif(JUST is None, reason="`just` is not on PATH (pip install rust-just)")

# Records its arguments (one JSON line each call); `-c CODE` it runs as the
# interpreter it wraps would (a recipe may ask whether the venv's python runs).
RECORDER = """\
import json, os, sys
args = sys.argv[2:]  # [1] is the stub itself
if args[:1] == ["-c"]:
    sys.argv = ["-c", *args[2:]]
    exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
    sys.exit(0)
with open(os.environ["FACTLAB_TEST_RECORD"], "a", encoding="utf-8") as out:
    out.write(json.dumps({"argv": args, "pythonpath": os.environ.get("PYTHONPATH")}) + "\\n")
"""


def just_command(*args: str, binary: str | None = None) -> list[str]:
    """``just --justfile JUSTFILE ARGS``, with BINARY as just (default: the one on PATH)."""
    assert JUST is not None
    return [binary or JUST, "--justfile", str(ROOT / "justfile"), *args]


def just(
    *args: str, env: dict[str, str] | None = None, binary: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        just_command(*args, binary=binary),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


class Stub:
    """A stub virtualenv (``venv=DIR``): its ``bin/python`` records how it was called."""

    def __init__(self, tmp: Path, name: str = "stub-venv") -> None:
        self.venv = tmp / name
        self.python = self.venv / "bin" / "python"
        self.record = tmp / "record.jsonl"
        self.marker = tmp / "pwned"
        recorder = tmp / "recorder.py"
        recorder.write_text(RECORDER, encoding="utf-8")
        self.python.parent.mkdir(parents=True)
        self.python.write_text(
            f'#!/bin/sh\nexec {shlex.quote(BASE_PYTHON)} {shlex.quote(str(recorder))} "$0" "$@"\n',
            encoding="utf-8",
        )
        self.python.chmod(0o755)
        self.env = {**os.environ, "FACTLAB_TEST_RECORD": str(self.record)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``just --no-deps venv=STUB ARGS``: the recipe alone, its setup skipped."""
        return just("--no-deps", f"venv={self.venv}", *args, env=self.env)

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]

    def hostile(self, template: str) -> str:
        """An argument that, if the shell ever read it as code, would create the marker file."""
        return template.format(marker=shlex.quote(str(self.marker)))


@pytest.fixture
def stub(tmp_path: Path) -> Stub:
    return Stub(tmp_path)


def _parameters_outside_quote(node: Any, parameters: set[str], quoted: bool = False) -> Iterator[str]:
    """The parameters a recipe line interpolates ({{NAME}}) without just's quote()."""
    if isinstance(node, list):
        if node[:1] == ["variable"] and len(node) == 2 and node[1] in parameters and not quoted:
            yield node[1]
            return
        inside = quoted or node[:2] == ["call", "quote"]
        for child in node:
            yield from _parameters_outside_quote(child, parameters, inside)


def test_no_recipe_interpolates_its_arguments_into_the_shell() -> None:
    dump = json.loads(just("--dump", "--dump-format", "json").stdout)
    positional = dump["settings"]["positional_arguments"]
    unquoted = {}
    for name, recipe in dump["recipes"].items():
        parameters = {parameter["name"] for parameter in recipe["parameters"]}
        if not parameters:
            continue
        found = sorted(set(_parameters_outside_quote(recipe["body"], parameters)))
        if found:
            unquoted[name] = found
        assert positional or "positional-arguments" in json.dumps(recipe["attributes"]), name
    assert unquoted == {}, 'interpolated as shell code, so split and run: use "$@" or quote()'


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["test-backend", "x || touch {marker}"],
            ["-m", "pytest", "tests", "--backend", "x || touch {marker}"],
        ),
        (
            ["test-backend", "math", "-k", "factorial and large"],
            ["-m", "pytest", "tests", "--backend", "math", "-k", "factorial and large"],
        ),
        (["exercise", "a b"], ["docs/exercises/run.py", "exercise", "a b"]),
        (
            ["exercise", "$(touch {marker})", "solution"],
            ["docs/exercises/run.py", "exercise", "$(touch {marker})", "solution"],
        ),
        (["bench", "--quick", "; touch {marker}"], ["-m", "factlab", "bench", "--quick", "; touch {marker}"]),
        (["ship", "a b", "`touch {marker}`"], ["-m", "factlab", "ship", "a b", "`touch {marker}`"]),
        (
            ["count-instructions", "pyo3 'x", "--n", "25"],
            ["-m", "factlab.instructions", "pyo3 'x", "--n", "25"],
        ),
        (["docs-bench", "$(touch {marker})"], ["-m", "factlab", "bench", "--publish", "$(touch {marker})"]),
        (["docs-bench"], ["-m", "factlab", "bench", "--publish", "latest"]),
    ],
    ids=lambda value: " ".join(value)[:40],
)
def test_recipe_passes_arguments_as_typed(stub: Stub, args: list[str], expected: list[str]) -> None:
    done = stub.run(*(stub.hostile(arg) for arg in args))
    assert done.returncode == 0, done.stderr
    assert [call["argv"] for call in stub.calls()] == [[stub.hostile(arg) for arg in expected]]
    assert not stub.marker.exists(), "the shell ran a command out of an argument"


def test_a_venv_path_with_spaces_and_quotes_works(tmp_path: Path) -> None:
    """A clone (or venv=DIR) whose path has a space, a quote or a $ in it."""
    stub = Stub(tmp_path, "my venv's $(touch pwned)")
    done = stub.run("bench", "--quick")
    assert done.returncode == 0, done.stderr
    assert [call["argv"] for call in stub.calls()] == [["-m", "factlab", "bench", "--quick"]]
    assert not (ROOT / "pwned").exists()


def test_matrix_passes_its_arguments_as_typed(stub: Stub) -> None:
    done = stub.run("matrix", stub.hostile("$(touch {marker})"), "a b")
    assert done.returncode == 0, done.stderr
    (call,) = stub.calls()
    assert call["argv"] == ["-m", "factlab", "matrix", stub.hostile("$(touch {marker})"), "a b"]
    assert call["pythonpath"] == "python"
    assert not stub.marker.exists()


def test_exercise_reset_runs_nothing_out_of_its_argument(stub: Stub) -> None:
    done = stub.run("exercise-reset", stub.hostile("$(touch {marker})"))
    assert done.returncode != 0
    assert "no exercise named $(touch" in done.stderr
    assert not stub.marker.exists()


def test_test_backend_with_a_hostile_name_fails_as_an_unknown_backend(tmp_path: Path) -> None:
    """The real pytest: the whole argument is one backend name, which does not exist."""
    marker = tmp_path / "pwned"
    env = {**os.environ, "PYTEST_ADDOPTS": "-p no:cacheprovider"}
    done = just("--no-deps", f"venv={sys.prefix}", "test-backend", f"x || touch {marker}", env=env)
    assert done.returncode != 0
    assert f"--backend x || touch {marker}: the backends are" in done.stdout + done.stderr
    assert not marker.exists()


def test_test_backend_passes_a_pytest_expression_with_spaces_whole() -> None:
    done = just(
        "--no-deps",
        f"venv={sys.prefix}",
        "test-backend",
        "math",
        "-k",
        "factorial and large",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
    )
    output = done.stdout + done.stderr
    assert "not found: and" not in output
    assert "deselected" in output


def test_hostile_variable_overrides_are_not_run(stub: Stub, tmp_path: Path) -> None:
    """`just python=... setup`: the value is looked up as an interpreter's name, never run."""
    done = stub.run(
        f"setup_lock={tmp_path / 'setup.lock'}", "python=" + stub.hostile("$(touch {marker})"), "setup"
    )
    assert done.returncode != 0
    assert "no Python found for '$(touch" in done.stderr
    assert not stub.marker.exists()


# The interpreter lookup: in a controlled world (PATH and PYENV_ROOT of our own).


@pytest.fixture
def pyenv_world(tmp_path: Path) -> dict[str, str]:
    """PATH holds only a pyenv shim for python3.X that says "command not found" (3.X not
    active); PYENV_ROOT holds 3.X, the interpreter running these tests."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / f"python{VERSION}"
    shim.write_text(
        f"#!/bin/sh\necho 'pyenv: python{VERSION}: command not found' >&2\nexit 127\n", encoding="utf-8"
    )
    shim.chmod(0o755)
    version_bin = tmp_path / "pyenv" / "versions" / f"{VERSION}.99" / "bin"
    version_bin.mkdir(parents=True)
    (version_bin / f"python{VERSION}").symlink_to(BASE_PYTHON)
    return {**os.environ, "PATH": str(shims), "PYENV_ROOT": str(tmp_path / "pyenv")}


def find_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FIND_PYTHON), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _version_of(interpreter: str) -> str:
    done = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("spec", [VERSION, f"python{VERSION}"])
def test_a_version_or_its_command_is_found_past_a_failing_pyenv_shim(
    spec: str, pyenv_world: dict[str, str], tmp_path: Path
) -> None:
    done = find_python("--need-venv", spec, env=pyenv_world)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    assert Path(path).is_relative_to(tmp_path / "pyenv" / "versions")
    assert _version_of(path) == VERSION


def test_a_version_is_found_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / f"python{VERSION}").symlink_to(BASE_PYTHON)
    env = {**os.environ, "PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    done = find_python(VERSION, env=env)
    assert done.returncode == 0, done.stderr
    assert _version_of(done.stdout.strip()) == VERSION


@pytest.mark.parametrize("spec", ["3.99", "python3.99"])
def test_a_missing_version_says_what_was_tried_and_never_suggests_itself(
    spec: str, pyenv_world: dict[str, str]
) -> None:
    done = find_python("--usage", "just python={} setup", spec, env=pyenv_world)
    assert done.returncode == 1
    assert done.stdout == ""
    error = done.stderr
    assert "python3.99 on PATH: none" in error
    assert "no 3.99" in error  # pyenv's versions were looked at
    assert "pyenv install 3.99" in error  # the command that would fix it
    assert f"just python={VERSION} setup" in error  # one that is here
    assert f"python={spec}" not in error


def test_too_old_a_version_says_so(pyenv_world: dict[str, str]) -> None:
    done = find_python("3.9", env=pyenv_world)
    assert done.returncode == 1
    assert "factlab needs Python 3.10 or newer" in done.stderr
    assert "python=3.9" not in done.stderr


def test_just_setup_with_a_missing_version_fails_before_touching_the_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = just("--no-deps", f"setup_lock={tmp_path / 'lock'}", f"venv={venv}", "python=3.99", "setup")
    assert done.returncode != 0
    assert "just setup: no Python found for '3.99'" in done.stderr
    assert "python=3.99" not in done.stderr
    assert not venv.exists()


# The setup lock.


def test_setup_waits_for_the_lock_and_says_so(tmp_path: Path) -> None:
    """While another setup holds the lock, setup waits and says so; once released, it goes on
    (here to fail at once: the interpreter it asks for does not exist, so nothing is built)."""
    if shutil.which("flock") is None:
        pytest.skip("no flock on PATH: test_setup_without_flock_says_it_takes_no_lock covers this machine")
    assert JUST is not None
    lock = tmp_path / "setup.lock"
    venv = tmp_path / "venv"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        setup = subprocess.Popen(
            just_command("--no-deps", f"setup_lock={lock}", f"venv={venv}", "python=3.99", "setup"),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        # A safety net against a hang, not a time limit: a setup that never says it waits
        # would block this test forever.
        guard = threading.Timer(300, lambda: os.killpg(setup.pid, signal.SIGKILL))
        guard.start()
        try:
            assert setup.stderr is not None
            said = ""
            for line in setup.stderr:  # until it says it waits, or ends without saying so
                said += line
                if "waiting for another just setup" in line:
                    break
            assert "just setup: waiting for another just setup" in said
            assert setup.poll() is None, "it went on while the lock was held"
            assert not venv.exists()
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
        try:
            rest = setup.stderr.read()
            setup.wait()
        finally:
            guard.cancel()
    assert setup.returncode != 0
    assert "no Python found for '3.99'" in rest  # it went on once the lock was free
    assert not venv.exists()


def test_setup_without_flock_says_it_takes_no_lock(tmp_path: Path) -> None:
    """A machine without flock (macOS): setup says so and goes on without the lock."""
    # just's own binary (`just` on PATH may be a pyenv shim, which a bare PATH breaks).
    (tmp_path / "justfile").write_text("binary := just_executable()\n", encoding="utf-8")
    assert JUST is not None
    evaluated = subprocess.run(
        [JUST, "--justfile", str(tmp_path / "justfile"), "--evaluate", "binary"],
        capture_output=True,
        text=True,
        check=True,
    )
    binary = evaluated.stdout.strip()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "mkdir", "dirname"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(BASE_PYTHON)
    env = {**os.environ, "PATH": str(bin_dir)}
    venv = tmp_path / "venv"
    done = just(
        "--no-deps",
        f"setup_lock={tmp_path / 'lock'}",
        f"venv={venv}",
        "python=3.99",
        "setup",
        env=env,
        binary=binary,
    )
    assert done.returncode != 0
    assert "just setup: no flock here" in done.stderr
    assert "no Python found for '3.99'" in done.stderr
    assert not venv.exists()
