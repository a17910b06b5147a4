"""Find the Python interpreter ``just setup`` (and ``just doctor``) should use, by version or by command.

    python3 python/tools/find_python.py [--min 3.10] [--need-venv] [--for WHO] [--usage TEMPLATE] SPEC

SPEC is what ``just python=SPEC ...`` (or ``FACTLAB_PYTHON``) names:

- a version, ``3.12`` (or ``3.12.1``, ``3.13t``): ``python3.12`` wherever it
  is on PATH and answers with that version, else pyenv's
  ``$(pyenv root)/versions/3.12*/bin/python3.12``, the newest first;
- a command, ``python3.12``: every ``python3.12`` on PATH, then pyenv's
  versions. Under pyenv, ``python3.12`` on PATH is a shim that answers
  "command not found" unless 3.12 is the active version; the lookup then goes
  on down PATH and into pyenv's versions;
- a path, ``/opt/python/bin/python3``: that one only.

It prints the interpreter's path (its own ``sys.executable``, or its base
interpreter's when SPEC is a virtualenv's python) and exits 0. Otherwise it
says what it tried, the command that would install what is missing, and the
interpreters that are here, and exits 1: it never suggests the SPEC that just
failed. Standard library only: it runs on the outer ``python3``, before any
virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# What a candidate says about itself; also runs on a Python 2 that PATH or pyenv may hold.
PROBE = r"""
import json, sys
try:
    import sysconfig
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
except Exception:
    ft = False
try:
    import venv, ensurepip
    has_venv = True
except Exception:
    has_venv = False
base = ""
if getattr(sys, "base_prefix", sys.prefix) != sys.prefix:
    base = getattr(sys, "_base_executable", "") or ""
print(json.dumps({"executable": sys.executable, "base": base, "version": list(sys.version_info[:3]),
                  "implementation": getattr(getattr(sys, "implementation", None), "name", "cpython"),
                  "free_threaded": ft, "venv": has_venv}))
"""
# A version as SPEC: 3, 3.12, 3.12.1, with a trailing t for a free-threaded build.
VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(t?)")
# A command named after a version: python3, python3.12, python3.13t.
VERSIONED_COMMAND = re.compile(r"python(\d+(?:\.\d+)?t?)")


@dataclass(frozen=True)
class Found:
    """An interpreter that answered."""

    path: str
    version: tuple[int, ...]
    implementation: str
    free_threaded: bool
    has_venv: bool

    @property
    def shown(self) -> str:
        name = "PyPy" if self.implementation == "pypy" else "Python"
        return f"{name} {'.'.join(map(str, self.version))}{'t' if self.free_threaded else ''}"


@dataclass
class NotFound(Exception):
    """No interpreter fits SPEC: what was tried (one line each) and what would fix it."""

    spec: str
    tried: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    here: list[str] = field(default_factory=list)  # SPECs that would work instead

    def __str__(self) -> str:
        return self.summary

    @property
    def summary(self) -> str:
        return f"no Python {self.spec!r} that fits: " + "; ".join(self.tried or ["nothing to try"])

    def message(self, who: str = "find_python", usage: str = "python={}") -> str:
        lines = [f"{who}: no Python found for {self.spec!r}. Tried:"]
        lines += [f"  - {line}" for line in self.tried or ["nothing"]]
        lines += [f"  fix: {fix}" for fix in self.fixes]
        if self.here:
            lines.append("  or use one that is here: " + ", ".join(usage.format(spec) for spec in self.here))
        return "\n".join(lines)


def _version_of(text: str) -> tuple[tuple[int, ...], bool] | None:
    """``3.12.1`` -> ((3, 12, 1), False); ``3.13t`` -> ((3, 13), True); anything else None."""
    match = VERSION.fullmatch(text)
    if not match:
        return None
    return tuple(int(part) for part in match.groups()[:3] if part is not None), bool(match[4])


def _on_path(name: str) -> list[str]:
    """Every executable called NAME on PATH, in PATH's order (not only the first, as a shell would)."""
    found, seen = [], set()
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        real = os.path.realpath(candidate)
        if real not in seen and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            seen.add(real)
            found.append(candidate)
    return found


def pyenv_root() -> Path | None:
    """``pyenv root`` when pyenv is on PATH, else ``$PYENV_ROOT``, else ``~/.pyenv`` if it exists."""
    if shutil.which("pyenv"):
        try:
            done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30, check=False)
            if done.returncode == 0 and done.stdout.strip():
                return Path(done.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    for root in (os.environ.get("PYENV_ROOT"), Path.home() / ".pyenv"):
        if root and (Path(root) / "versions").is_dir():
            return Path(root)
    return None


def _pyenv_versions(root: Path | None, wanted: tuple[int, ...], free_threaded: bool) -> list[tuple[str, str]]:
    """pyenv's versions that start with WANTED, newest first: (version name, interpreter path)."""
    if root is None or not (root / "versions").is_dir():
        return []
    versions = []
    for directory in (root / "versions").iterdir():
        match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", directory.name)
        if not match or directory.name.startswith("pypy"):
            continue
        numbers = tuple(int(part) for part in match.groups() if part is not None)
        rest = directory.name[match.end() :]
        if numbers[: len(wanted)] != wanted or rest.startswith("t") != free_threaded:
            continue
        major_minor = f"{numbers[0]}.{numbers[1]}{'t' if free_threaded else ''}"
        for name in (f"python{major_minor}", "python3", "python"):
            if (directory / "bin" / name).is_file():
                # Releases before -dev builds, the newest first.
                versions.append(
                    ((numbers, rest == "" or rest == "t"), directory.name, str(directory / "bin" / name))
                )
                break
    versions.sort(reverse=True)
    return [(name, path) for _, name, path in versions]


def probe(path: str) -> tuple[Found | None, str]:
    """Ask PATH what it is: (Found, "") or (None, why it did not answer)."""
    try:
        done = subprocess.run(
            [path, "-c", PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"does not run ({error.__class__.__name__}: {error})"
    if done.returncode != 0:
        # Its first line: a pyenv shim's "pyenv: python3.12: command not found", a loader's error.
        said = next((line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()), "")
        return None, f"does not run ({said[:160] or f'exit {done.returncode}'})"
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, "is not a Python (no answer to the probe)"
    executable = facts["base"] if facts["base"] and os.access(facts["base"], os.X_OK) else facts["executable"]
    return Found(
        path=executable or path,
        version=tuple(facts["version"]),
        implementation=facts["implementation"],
        free_threaded=facts["free_threaded"],
        has_venv=facts["venv"],
    ), ""


def _fits(
    found: Found, wanted: tuple[int, ...] | None, free_threaded: bool | None, minimum: tuple[int, ...]
) -> str:
    """Why FOUND does not fit, or "" when it does."""
    if wanted is not None and found.version[: len(wanted)] != wanted:
        return f"is {found.shown}, not {'.'.join(map(str, wanted))}"
    if free_threaded is not None and found.free_threaded != free_threaded:
        return f"is {found.shown}, {'not ' if free_threaded else ''}free-threaded"
    if found.version < minimum:
        return f"is {found.shown}; factlab needs {'.'.join(map(str, minimum))} or newer"
    return ""


def _install_fixes(wanted: tuple[int, ...] | None, free_threaded: bool, root: Path | None) -> list[str]:
    """The commands that would install a Python WANTED on this machine."""
    if wanted is None or len(wanted) < 2:
        return []
    version = ".".join(map(str, wanted)) + ("t" if free_threaded else "")
    major_minor = f"{wanted[0]}.{wanted[1]}"
    fixes = []
    if root is not None:
        fixes.append(f"pyenv install {version}")
    if sys.platform == "darwin":
        fixes.append(f"brew install python@{major_minor}")
    elif Path("/etc/debian_version").exists() and not free_threaded:
        fixes.append(
            f"sudo apt-get install python{major_minor} python{major_minor}-venv (if your release packages it)"
        )
    if root is None:
        fixes.append(f"install pyenv, then: pyenv install {version}")
    return fixes


def here(minimum: tuple[int, ...], need_venv: bool, root: Path | None) -> list[str]:
    """The versions (as SPECs) of the interpreters on this machine that would do, newest first."""
    specs: dict[str, None] = {}
    major, minor_min = (*minimum, 0)[:2]
    paths = [path for minor in range(minor_min, 20) for path in _on_path(f"python{major}.{minor}")]
    paths += [path for _, path in _pyenv_versions(root, minimum[:1], False)]
    for path in paths:
        found, _ = probe(path)
        if found and not _fits(found, None, False, minimum) and (found.has_venv or not need_venv):
            specs[f"{found.version[0]}.{found.version[1]}"] = None
    return sorted(specs, key=lambda spec: tuple(map(int, spec.split("."))), reverse=True)


def find(spec: str, minimum: tuple[int, ...] = (3, 10), need_venv: bool = False) -> Found:
    """The interpreter SPEC names (a version, a command or a path); NotFound says what was tried.

    The first that fits and has venv and ensurepip wins; without any such, the
    first that fits (``need_venv``: none, NotFound names the package to install).
    """
    spec = spec.strip()
    root = pyenv_root()
    failed = NotFound(spec)
    version = _version_of(spec)
    command = VERSIONED_COMMAND.fullmatch(spec)
    wanted: tuple[int, ...] | None = None
    free_threaded: bool | None = None
    candidates: list[tuple[str, str]] = []  # (how it was found, path)
    if not spec:
        failed.tried.append("an empty name")
    elif version is not None:
        wanted, free_threaded = version
        name = "python" + ".".join(map(str, wanted[:2])) + ("t" if free_threaded else "")
        candidates += [(f"{name} on PATH", path) for path in _on_path(name)]
        if not candidates:
            failed.tried.append(f"{name} on PATH: none")
    elif "/" in spec or os.sep in spec:
        path = os.path.expanduser(spec)
        candidates.append((spec, path))
    else:
        candidates += [(f"{spec} on PATH", path) for path in _on_path(spec)]
        if not candidates:
            failed.tried.append(f"{spec} on PATH: none")
        if command is not None:
            wanted, free_threaded = _version_of(command[1]) or ((), False)
    if wanted is not None and "/" not in spec:
        pyenv = _pyenv_versions(root, wanted, bool(free_threaded))
        candidates += [(f"pyenv's {name}", path) for name, path in pyenv]
        shown = ".".join(map(str, wanted)) + ("t" if free_threaded else "")
        if root is None:
            failed.tried.append("pyenv's versions: no pyenv here")
        elif not pyenv:
            failed.tried.append(f"pyenv's versions ({root / 'versions'}): no {shown}")
    fallback = None
    for how, path in candidates:
        found, why = probe(path)
        if found is not None:
            why = _fits(found, wanted, free_threaded, minimum)
        if found is None or why:
            failed.tried.append(f"{how} ({path}) {why}" if how != path else f"{path} {why}")
            continue
        if found.has_venv:
            return found
        failed.tried.append(f"{how} ({path}) is {found.shown} without venv/ensurepip")
        fallback = fallback or found
    if fallback is not None and not need_venv:
        return fallback
    if fallback is not None:
        major_minor = f"{fallback.version[0]}.{fallback.version[1]}"
        if Path("/etc/debian_version").exists():
            failed.fixes.append(f"sudo apt-get install python{major_minor}-venv")
        else:
            failed.fixes.append(f"install Python {major_minor} with its venv and ensurepip modules")
    elif wanted is not None and len(wanted) >= 2 and wanted[:2] < minimum[:2]:
        failed.tried.insert(0, f"{spec}: factlab needs Python {'.'.join(map(str, minimum))} or newer")
    else:
        failed.fixes += _install_fixes(wanted, bool(free_threaded), root)
        if spec and wanted is None and os.sep not in spec:
            failed.fixes.append(f"install {spec}, or name a version (3.12) or a path to an interpreter")
    failed.here = [other for other in here(minimum, need_venv, root) if other != spec]
    raise failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("spec", metavar="SPEC", help="a version (3.12), a command (python3.12) or a path")
    parser.add_argument("--min", default="3.10", help="the oldest version that fits (default: 3.10)")
    parser.add_argument(
        "--need-venv", action="store_true", help="only an interpreter with venv and ensurepip"
    )
    parser.add_argument("--for", dest="who", default="find_python", help="who asks, for the error message")
    parser.add_argument(
        "--usage",
        default="python={}",
        help="how to name another interpreter, {} the version: 'just python={} setup'",
    )
    args = parser.parse_args(argv)
    minimum = _version_of(args.min)
    if minimum is None:
        parser.error(f"--min: not a version: {args.min!r}")
    try:
        found = find(args.spec, minimum[0], args.need_venv)
    except NotFound as failed:
        print(failed.message(args.who, args.usage), file=sys.stderr)
        return 1
    print(found.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
