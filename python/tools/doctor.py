"""``just doctor``: is this machine ready for the workshop? One line per prerequisite.

Each line says ``ok``, ``MISSING`` (``just setup`` cannot work without it),
``todo`` (a step still to do, that needs the network: do it before the
workshop) or ``optional``, what was found, and the command that fixes it.
Standard library only: it runs before anything is installed.

    python3 python/tools/doctor.py [--python 3.12] [--venv .venv]

``--python`` takes what ``just python=...`` takes: a version (``3.12``), a
command (``python3.12``) or a path, looked up as ``just setup`` looks it up
(``find_python.py``: PATH, then pyenv's versions).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import find_python  # beside this file: `just setup` finds its interpreter with it too

ROOT = Path(__file__).resolve().parents[2]
# The space a first `just test` and `just bench` take (.venv, target/), as
# measured from a fresh clone (see docs/src/before-the-workshop.md), rounded up.
DISK_GB = 3.0


@dataclass(frozen=True)
class Check:
    status: str  # ok, MISSING, todo, optional
    what: str
    found: str
    fix: str = ""


def _output(cmd: list[str], cwd: Path = ROOT) -> str | None:
    """The command's output, or None when it cannot run or fails."""
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout + done.stderr).strip() if done.returncode == 0 else None


def _version(text: str) -> tuple[int, ...]:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in match.groups(default="0")) if match else ()


def python(interpreter: str) -> list[Check]:
    """The interpreter `just python=INTERPRETER setup` would use, found the same way."""
    try:
        found = find_python.find(interpreter)
    except find_python.NotFound as failed:
        fixes = failed.fixes + [f"just python={spec} doctor" for spec in failed.here[:2]]
        fix = (
            "; or ".join(fixes)
            or "install Python 3.10 or newer (pyenv install 3.12, or your system's packages)"
        )
        return [Check("MISSING", "Python 3.10+", failed.summary, fix)]
    checks = [Check("ok", "Python 3.10+", f"{interpreter}: {found.shown} ({found.path})")]
    if not found.has_venv:
        major_minor = f"{found.version[0]}.{found.version[1]}"
        checks.append(
            Check(
                "MISSING",
                "Python's venv and pip",
                f"{found.path} cannot make a virtualenv with pip",
                f"Debian/Ubuntu: sudo apt-get install python{major_minor}-venv",
            )
        )
    else:
        checks.append(Check("ok", "Python's venv and pip", "venv and ensurepip importable"))
    return checks


def rust() -> list[Check]:
    manifest = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    match = re.search(r'^rust-version\s*=\s*"([^"]+)"', manifest, re.MULTILINE)
    wanted = _version(match[1]) if match else ()
    out = _output(["cargo", "--version"])
    if out is None:
        return [
            Check(
                "MISSING",
                "Rust (cargo)",
                "no cargo on PATH",
                "install rustup (https://rustup.rs), then: rustup default stable",
            )
        ]
    shown = ".".join(map(str, wanted))
    if wanted and _version(out) < wanted:
        return [Check("MISSING", f"Rust {shown}+", out, "rustup update stable")]
    checks = [Check("ok", f"Rust {shown}+", out)]
    # Every crate of Cargo.lock in cargo's cache: the builds then need no network.
    if _output(["cargo", "fetch", "--locked", "--offline"]) is None:
        checks.append(
            Check("todo", "Rust crates downloaded", "not all in cargo's cache", "cargo fetch --locked")
        )
    else:
        checks.append(Check("ok", "Rust crates downloaded", "every crate of Cargo.lock is in cargo's cache"))
    return checks


def c_compiler() -> Check:
    compiler = os.environ.get("CC", "cc")
    out = _output([compiler, "--version"])
    if out is None:
        return Check(
            "MISSING",
            "a C compiler",
            f"no working `{compiler}`",
            "Debian/Ubuntu: sudo apt install build-essential; Fedora: sudo dnf install gcc; "
            "macOS: xcode-select --install",
        )
    return Check("ok", "a C compiler", f"{compiler}: {out.splitlines()[0]}")


def just() -> Check:
    out = _output(["just", "--version"])
    if out is None:
        return Check("MISSING", "just", "no just on PATH", "pip install rust-just (or: cargo install just)")
    return Check("ok", "just", out)


def disk() -> Check:
    free = shutil.disk_usage(ROOT).free / 1e9
    # What is already built counts as space already found.
    used = sum(_size(ROOT / name) for name in ("target", ".venv")) / 1e9
    if free + used < DISK_GB:
        return Check(
            "MISSING",
            f"{DISK_GB:.0f} GB of disk",
            f"{free:.1f} GB free here",
            "free some space (`just clean` in an old checkout frees its target/ and .venv)",
        )
    return Check("ok", f"{DISK_GB:.0f} GB of disk", f"{free:.1f} GB free, {used:.1f} GB already built")


def _size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def built(venv: Path) -> Check:
    python = venv / "bin" / "python"
    out = _output([str(python), "-m", "factlab", "list"]) if python.exists() else None
    if out is None:
        return Check("todo", "factlab built (.venv)", f"no working {venv.name}", "just setup")
    broken = [line.split()[0] for line in out.splitlines() if line.split()[1:2] != ["ok"]]
    if broken:
        return Check("todo", "factlab built (.venv)", f"not loading: {', '.join(broken)}", "just setup")
    return Check("ok", "factlab built (.venv)", f"{len(out.splitlines())} backends load")


def optional() -> list[Check]:
    checks = []
    out = _output(["valgrind", "--version"])
    checks.append(
        Check("ok", "valgrind", out)
        if out
        else Check(
            "optional",
            "valgrind",
            "not found (only `just check-memory` needs it)",
            "sudo apt install valgrind",
        )
    )
    mdbook = ROOT / "target" / "tools" / "bin" / "mdbook"
    checks.append(
        Check("ok", "mdBook", f"{mdbook.relative_to(ROOT)}")
        if mdbook.exists()
        else Check("optional", "mdBook", "not in target/tools (the book, `just docs`)", "just docs")
    )
    wheelhouse = ROOT / "target" / "wheelhouse" / "requirements.txt"
    checks.append(
        Check("ok", "wheelhouse", str(wheelhouse.parent.relative_to(ROOT)))
        if wheelhouse.exists()
        else Check(
            "optional", "wheelhouse", "none (for machines without Rust or a C compiler)", "just wheels"
        )
    )
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", default="python3", help="the interpreter `just setup` will use")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the virtualenv `just setup` makes")
    args = parser.parse_args(argv)
    checks = [*python(args.python), *rust(), c_compiler(), just(), disk(), built(args.venv), *optional()]
    width = max(len(check.what) for check in checks)
    for check in checks:
        print(f"{check.status:9}{check.what:<{width}}  {check.found}")
        if check.fix and check.status != "ok":
            print(f"{'':9}{'':<{width}}  fix: {check.fix}")
    missing = [check.what for check in checks if check.status == "MISSING"]
    todo = [check.fix for check in checks if check.status == "todo"]
    print()
    if missing:
        print(f"doctor: missing {', '.join(missing)}: install them with the commands above.")
        print("   No Rust or no C compiler on this machine? factlab also installs from a wheelhouse that")
        print("   another machine built (`just wheels`): see the book's page 'Before the workshop'.")
        return 1
    if todo:
        print(f"doctor: every prerequisite is here; still to do, with the network: {'; '.join(todo)}")
        return 0
    print("doctor: this machine is ready for the workshop.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
