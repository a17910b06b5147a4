"""Run the workshop exercises: ``just exercise NAME``, ``just exercises-check``, ``just exercise-reset NAME``.

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
  ``solution/`` and fails against the start code *as committed* (taken from
  git, so a participant who solved ``start/`` in place does not break the
  check). Exits non-zero on any surprise.
- ``run.py reset NAME``: puts ``start/`` back as committed, after saving the
  participant's copy under ``target/exercises/<name>/saved/``.

Run it with the project's virtualenv (``.venv/bin/python``): builds and tests
go through factlab's helper for commands (``factlab._common.run``, imported
where they start); ``reset`` needs only the standard library.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factlab._common import Ran

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VARIANTS = ("start", "solution")
# Where `check` puts the start code as committed. Four levels below the root,
# like docs/exercises/<name>/start, so that the crates' relative paths to
# crates/core resolve the same from both places.
FROM_GIT = ROOT / "target" / "exercises-from-git"
# A Rust diagnostic as rustc renders it: "error: ..." or "error[E0308]: ...".
# pip's own errors ("error: subprocess-exited-with-error") are kebab-case codes.
_RUSTC_ERROR = re.compile(r"^error(\[E\d{4}\])?: (?![a-z]+(-[a-z]+)+$)")
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


def _run(cmd: list[str], env: dict[str, str], echo: bool = False, log: Path | None = None) -> Ran:
    """Runs ``cmd`` from the root: its output shown as it comes with ``echo``, kept whole in ``log``."""
    from factlab._common import run  # the venv's factlab; `reset`, stdlib only, never gets here

    return run(cmd, cwd=ROOT, env=env, echo=echo, log=log)


def compiler_errors(log: str) -> str:
    """The compiler's own error messages in a build log, without pip's and maturin's lines around them.

    A rendered rustc diagnostic starts with ``error:`` or ``error[E...]:`` and
    ends at the next blank line; ``pip --verbose`` indents the build's output
    by two spaces, which are taken off.
    """
    blocks: list[list[str]] = []
    inside = False
    for line in log.splitlines():
        text = line.removeprefix("  ")
        if _RUSTC_ERROR.match(text):
            blocks.append([text])
            # cargo's last word ("could not compile ...") is a block of its own.
            inside = not text.startswith("error: could not compile")
        elif inside and text.strip():
            blocks[-1].append(text)
        else:
            inside = False
    return "\n\n".join("\n".join(block) for block in blocks)


def _build_crate(crate: Path, installed: Path, log: Path, echo: bool) -> bool:
    """pip builds one crate (maturin) into ``installed``; its whole output goes to ``log``.

    With ``echo``, the build's output is shown as it comes (a first build
    compiles for a minute or more).
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--verbose",  # pip passes the build's output through, line by line
        "--no-deps",
        "--no-build-isolation",
        "--disable-pip-version-check",
        "--target",
        str(installed),
        str(crate),
    ]
    if echo:
        print(f"== building {_shown(crate)} (maturin, through pip; whole log: {_shown(log)})", flush=True)
    return _run(cmd, _environment(), echo, log).ok


def build(name: str, variant: str, source: Path, echo: bool) -> tuple[Path, str | None]:
    """Builds the crates of one variant (its code in ``source``) into their install directory.

    Returns the directory and ``None``, or the directory and what to show of
    the failed build: the compiler's errors first, then where the whole log is.
    """
    installed = TARGET / "exercises" / name / variant
    shutil.rmtree(installed, ignore_errors=True)  # never test a stale module
    for crate in crates(source):
        crate_name = "" if crate == source else "-" + "-".join(crate.relative_to(source).parts)
        log = TARGET / "exercises" / name / f"{variant}{crate_name}.build.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        if not _build_crate(crate, installed, log, echo):
            text = log.read_text(encoding="utf-8")
            errors = compiler_errors(text) or "\n".join(text.splitlines()[-30:])
            return installed, (
                f"building {_shown(crate)} failed (paths below are relative to it):\n\n{errors}\n\n"
                f"(the compiler's errors above; pip's and maturin's whole output: {_shown(log)})"
            )
    return installed, None


def _shown(path: Path) -> str:
    """A path as the participant would type it: relative to the project when it is inside."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)


def changed_files(name: str) -> list[str] | None:
    """The files of ``start/`` that differ from git's HEAD (new ones included); None without git."""
    try:
        done = _git("status", "--porcelain", "--untracked-files=all", "--", f"docs/exercises/{name}/start")
    except FileNotFoundError:
        return None
    if done.returncode != 0:
        return None
    return [line[3:] for line in done.stdout.decode().splitlines()]


def start_from_git(name: str) -> Path | None:
    """Exports ``start/`` as committed (git's HEAD) under target/; None when this is no git checkout."""
    prefix = f"docs/exercises/{name}/"
    try:
        done = _git("archive", "--format=tar", "HEAD", "--", prefix + "start")
    except FileNotFoundError:
        return None
    if done.returncode != 0:
        return None
    destination = FROM_GIT / name
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    # tarfile's "data" filter where this Python has it (3.10.12 and later).
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        for member in archive.getmembers():
            member.name = member.name.removeprefix(prefix)
            archive.extract(member, destination, **safe)
    return destination / "start"


def reset(name: str) -> int:
    """``just exercise-reset NAME``: start/ as committed; the participant's copy saved first."""
    changed = changed_files(name)
    start = HERE / name / "start"
    if changed is None:
        print(f"exercise-reset: this is no git checkout; take {_shown(start)} from a fresh copy of factlab.")
        return 1
    if not changed:
        print(f"exercise-reset: {_shown(start)} is already as committed; nothing to do.")
        return 0
    saved = TARGET / "exercises" / name / "saved" / time.strftime("start-%Y%m%d-%H%M%S")
    while saved.exists():  # two resets within a second
        saved = saved.with_name(saved.name + "+")
    shutil.copytree(start, saved, ignore=shutil.ignore_patterns("__pycache__", "target"))
    for args in (("checkout", "HEAD", "--"), ("clean", "--force", "-d", "--quiet", "--")):
        done = _git(*args, f"docs/exercises/{name}/start")
        if done.returncode != 0:
            print(f"exercise-reset: git {args[0]} failed:\n{done.stderr.decode()}", file=sys.stderr)
            return 1
    print(f"exercise-reset: your {_shown(start)} ({len(changed)} changed file(s)) is saved in:")
    print(f"    {_shown(saved)}")
    print(f"exercise-reset: {_shown(start)} is back as committed; `just exercise {name}` fails again.")
    return 0


def try_variant(name: str, variant: str, source: Path, pytest_args: list[str], echo: bool) -> Outcome:
    """Builds, then runs the exercise's test against one variant (its code in ``source``)."""
    t0 = time.perf_counter()
    installed, failure = build(name, variant, source, echo)
    if failure is not None:
        if echo:
            print(failure, flush=True)
        return Outcome(-1, failure.splitlines()[0], failure, time.perf_counter() - t0)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--rootdir={ROOT}",
        *(["--color=yes"] if echo and sys.stdout.isatty() else []),  # its output comes through a pipe
        *pytest_args,
        str(next((HERE / name).glob("test_*.py"))),
    ]
    env = _environment(FACTLAB_EXERCISE_DIR=str(source), FACTLAB_EXERCISE_BUILD=str(installed))
    if echo:
        print(f"$ {' '.join(cmd)}", flush=True)
    result = _run(cmd, env, echo)
    lines = [line.strip("= ") for line in result.out.splitlines() if line.strip()]
    return Outcome(result.code, lines[-1] if lines else "", result.out, time.perf_counter() - t0)


def exercise(name: str, variant: str, pytest_args: list[str]) -> int:
    """``just exercise NAME``: one variant, with pytest's full report."""
    print(f"== exercise {name}: testing docs/exercises/{name}/{variant}/", flush=True)
    outcome = try_variant(name, variant, HERE / name / variant, pytest_args, echo=True)
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
    """``just exercises-check``: each solution passes, each start (as committed) fails."""
    surprises = 0
    t0 = time.perf_counter()
    # This directory's Python, held to the project's ruff settings (`just lint` checks python/ and tests/).
    for cmd in (["check"], ["format", "--check"]):
        result = _run([sys.executable, "-m", "ruff", *cmd, str(HERE)], _environment())
        if not result.ok:
            surprises += 1
            print(f"SURPRISE ruff {' '.join(cmd)} fails for docs/exercises:\n{result.out}")
    if not surprises:
        print(f"{'ok':8} {'(python)':14} {'lint':8} ruff check and ruff format clean", flush=True)
    for name in names:
        # The start code as committed: whatever a participant did in start/,
        # the check is about the exercise, not about their attempt.
        start = start_from_git(name)
        changed = changed_files(name)
        if start is None:
            start = HERE / name / "start"
            print(f"{'note':8} {name:14} {'start':8} no git here: checking {_shown(start)} as it is")
        elif changed:
            print(
                f"{'note':8} {name:14} {'start':8} {len(changed)} file(s) of your start/ differ from git: "
                f"checking the committed start/ (`just exercise-reset {name}` restores yours)"
            )
        sources = {"solution": HERE / name / "solution", "start": start}
        manifests = [c / "Cargo.toml" for variant in VARIANTS for c in crates(sources[variant])]
        lint_failures = 0
        for manifest in manifests:
            for what, cmd in LINTS.items():
                result = _run([*cmd[:2], "--manifest-path", str(manifest), *cmd[2:]], _environment())
                if not result.ok:
                    lint_failures += 1
                    print(f"SURPRISE {what} fails for {_shown(manifest)}:\n{result.out}")
        surprises += lint_failures
        if manifests and not lint_failures:
            print(
                f"{'ok':8} {name:14} {'lint':8} cargo fmt and clippy clean ({len(manifests)} crates)",
                flush=True,
            )
        for variant, expected in (("solution", PASSED), ("start", FAILED)):
            outcome = try_variant(name, variant, sources[variant], ["-q", "--tb=short"], echo=False)
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
    again = commands.add_parser("reset", help="put start/ back as committed (your copy is saved first)")
    again.add_argument("name", help="one of: " + ", ".join(exercises()))
    args, pytest_args = parser.parse_known_args(argv)
    known = exercises()
    chosen = args.names or known if args.command == "check" else [args.name]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"no exercise named {', '.join(unknown)}; there are: {', '.join(known)}")
    if args.command == "exercise":
        return exercise(args.name, args.variant, pytest_args)
    if pytest_args:
        parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
    return reset(args.name) if args.command == "reset" else check(chosen)


if __name__ == "__main__":
    sys.exit(main())
