"""Run the workshop exercises: ``just exercise NAME`` and ``just exercises-check``.

An exercise is a directory next to this file holding ``README.md`` (the task),
``test_<name>.py`` (pytest), ``start/`` (the code a participant edits) and
``solution/`` (the reference). Every directory under ``start/`` or
``solution/`` that has a ``pyproject.toml`` is a Rust crate: it is built with
maturin (through pip, like ``just setup`` builds the backends) and installed
into ``target/exercises/<name>/<variant>/``, never into the virtualenv, so the
start and solution builds of a module can live side by side.

- ``run.py exercise NAME [start|solution] [PYTEST ARGS...]``: builds and
  tests one variant (``start``, the participant's code, by default).
- ``run.py check [NAME...]``: proves every exercise: its test passes against
  ``solution/`` and fails against ``start/``. Exits non-zero on any surprise.

Run it with the project's virtualenv (``.venv/bin/python``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VARIANTS = ("start", "solution")
# pytest's exit codes: 0 all passed, 1 some tests failed; anything else (usage
# error, nothing collected, interrupted) means the exercise itself is broken.
PASSED, FAILED = 0, 1
# What `just lint` asks of factlab's crates, asked of each exercise crate.
LINTS = {
    "cargo fmt": ["cargo", "fmt", "--check"],
    "cargo clippy": ["cargo", "clippy", "--locked", "--all-targets", "--quiet", "--", "-D", "warnings"],
}


@dataclass(frozen=True)
class Outcome:
    """What became of one variant of one exercise."""

    code: int  # pytest's exit code, or -1 when the build failed
    summary: str  # pytest's last line, or the build's error
    output: str  # everything, shown when the outcome is a surprise
    seconds: float


def exercises() -> list[str]:
    """The exercise names: the directories here that hold a ``test_*.py``."""
    return sorted(p.name for p in HERE.iterdir() if p.is_dir() and any(p.glob("test_*.py")))


def crates(variant_dir: Path) -> list[Path]:
    """The maturin projects under a variant directory (a ``target/`` is skipped)."""
    return sorted(
        p.parent
        for p in variant_dir.rglob("pyproject.toml")
        if "target" not in p.relative_to(variant_dir).parts
    )


def _environment(**extra: str) -> dict[str, str]:
    # The venv's bin first, for maturin; one shared cargo target directory,
    # so that the exercise crates reuse the dependencies `just setup` built.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, "CARGO_TARGET_DIR": str(TARGET), **extra}


def _run(cmd: list[str], env: dict[str, str], echo: bool) -> subprocess.CompletedProcess[str]:
    if echo:
        print(f"$ {' '.join(cmd)}", flush=True)
        return subprocess.run(cmd, cwd=ROOT, env=env, text=True, check=False)
    return subprocess.run(
        cmd, cwd=ROOT, env=env, text=True, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def build(name: str, variant: str, echo: bool) -> tuple[Path, str | None]:
    """Builds the variant's crates into their install directory.

    Returns the directory and ``None``, or the directory and the failed
    build's output.
    """
    installed = TARGET / "exercises" / name / variant
    shutil.rmtree(installed, ignore_errors=True)  # never test a stale module
    for crate in crates(HERE / name / variant):
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(installed),
            str(crate),
        ]
        result = _run(cmd, _environment(), echo)
        if result.returncode != 0:
            return installed, f"building {crate.relative_to(ROOT)} failed:\n{result.stdout or ''}"
    return installed, None


def test(name: str, variant: str, pytest_args: list[str], echo: bool) -> Outcome:
    """Builds, then runs the exercise's test against one variant."""
    t0 = time.perf_counter()
    installed, failure = build(name, variant, echo)
    if failure is not None:
        if echo:
            print(failure, file=sys.stderr)
        return Outcome(-1, failure.splitlines()[0], failure, time.perf_counter() - t0)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--rootdir={ROOT}",
        *pytest_args,
        str(next((HERE / name).glob("test_*.py"))),
    ]
    env = _environment(FACTLAB_EXERCISE_DIR=str(HERE / name / variant), FACTLAB_EXERCISE_BUILD=str(installed))
    result = _run(cmd, env, echo)
    output = result.stdout or ""
    lines = [line.strip("= ") for line in output.splitlines() if line.strip()]
    return Outcome(result.returncode, lines[-1] if lines else "", output, time.perf_counter() - t0)


def exercise(name: str, variant: str, pytest_args: list[str]) -> int:
    """``just exercise NAME``: one variant, with pytest's full report."""
    print(f"== exercise {name}: testing docs/exercises/{name}/{variant}/", flush=True)
    outcome = test(name, variant, pytest_args, echo=True)
    where = f"docs/exercises/{name}"
    print()
    if outcome.code == PASSED:
        print(f"== {name}: every test passes against {variant}/.")
        if variant == "start":
            print(f"   Solved! Compare your code with {where}/solution/.")
    elif outcome.code == FAILED and variant == "start":
        print(f"== {name}: the test FAILS against start/, as expected until you solve the exercise.")
        print(f"   Read {where}/README.md, edit {where}/start/, then run `just exercise {name}` again.")
    elif outcome.code == FAILED:
        print(f"== {name}: the test FAILS against {variant}/, which should pass: a bug of the exercise.")
    elif outcome.code == -1:
        print(f"== {name}: the build of {variant}/ failed (the compiler's messages are above).")
    else:
        print(f"== {name}: pytest could not run the test (exit code {outcome.code}).")
    return outcome.code if outcome.code >= 0 else 2


def check(names: list[str]) -> int:
    """``just exercises-check``: each solution passes, each start fails."""
    surprises = 0
    t0 = time.perf_counter()
    # This directory's Python, held to the project's ruff settings (`just lint` checks python/ and tests/).
    for cmd in (["check"], ["format", "--check"]):
        result = _run([sys.executable, "-m", "ruff", *cmd, str(HERE)], _environment(), False)
        if result.returncode != 0:
            surprises += 1
            print(f"SURPRISE ruff {' '.join(cmd)} fails for docs/exercises:\n{result.stdout}")
    if not surprises:
        print(f"{'ok':8} {'(python)':14} {'lint':8} ruff check and ruff format clean", flush=True)
    for name in names:
        manifests = [c / "Cargo.toml" for variant in VARIANTS for c in crates(HERE / name / variant)]
        lint_failures = 0
        for manifest in manifests:
            for what, cmd in LINTS.items():
                result = _run([*cmd[:2], "--manifest-path", str(manifest), *cmd[2:]], _environment(), False)
                if result.returncode != 0:
                    lint_failures += 1
                    print(f"SURPRISE {what} fails for {manifest.relative_to(ROOT)}:\n{result.stdout}")
        surprises += lint_failures
        if manifests and not lint_failures:
            print(
                f"{'ok':8} {name:14} {'lint':8} cargo fmt and clippy clean ({len(manifests)} crates)",
                flush=True,
            )
        for variant, expected in (("solution", PASSED), ("start", FAILED)):
            outcome = test(name, variant, ["-q", "--tb=short"], echo=False)
            ok = outcome.code == expected
            verdict = {PASSED: "passes", FAILED: "fails"}.get(outcome.code, "broken")
            print(
                f"{'ok' if ok else 'SURPRISE':8} {name:14} {variant:8} {verdict} as "
                f"{'expected' if ok else 'NOT expected'}: {outcome.summary} ({outcome.seconds:.1f} s)",
                flush=True,
            )
            if not ok:
                surprises += 1
                print(outcome.output)
    elapsed = time.perf_counter() - t0
    if surprises:
        print(f"exercises-check: {surprises} surprise(s) in {len(names)} exercises ({elapsed:.0f} s)")
        return 1
    print(
        f"exercises-check: all {len(names)} exercises good: every solution passes its test, "
        f"every start fails it ({elapsed:.0f} s)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("exercise", help="build and test one exercise (start/ by default)")
    one.add_argument("name", help="one of: " + ", ".join(exercises()))
    one.add_argument(
        "variant", nargs="?", choices=VARIANTS, default="start", help="start (default) or solution"
    )
    every = commands.add_parser("check", help="prove every exercise: solution passes, start fails")
    every.add_argument("names", nargs="*", metavar="NAME", help="only these exercises")
    args, pytest_args = parser.parse_known_args(argv)
    known = exercises()
    chosen = [args.name] if args.command == "exercise" else args.names or known
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"no exercise named {', '.join(unknown)}; there are: {', '.join(known)}")
    if args.command == "exercise":
        return exercise(args.name, args.variant, pytest_args)
    if pytest_args:
        parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
    return check(chosen)


if __name__ == "__main__":
    sys.exit(main())
