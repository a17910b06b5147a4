"""What the figures were measured on: CPU, Python, compiler, package versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

# The packages whose versions decide the figures (the binding tools) or the harness.
PACKAGES = ("factlab", "pyperf", "cffi", "Cython", "maturin", "gmpy2", "rich", "matplotlib")


def _command(*cmd: str, cwd: Path | None = None) -> str | None:
    """The stripped stdout of a command, or None if it is missing or fails."""
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def cpu_model() -> str:
    """The CPU's marketing name (Linux: /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(root: Path) -> dict[str, Any] | None:
    """The factlab commit the run was made from, and whether the tree had changes."""
    commit = _command("git", "rev-parse", "HEAD", cwd=root)
    if commit is None:
        return None
    status = _command("git", "status", "--porcelain", "--untracked-files=no", cwd=root)
    return {"commit": commit, "dirty": bool(status)}


def describe(root: Path) -> dict[str, Any]:
    """Everything about the machine and the software that a reader needs to weigh the figures."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()),
        "python_compiler": platform.python_compiler(),
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "rustc": _command("rustc", "--version"),
        "packages": package_versions(),
        "git": git_commit(root),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def one_line(machine: dict[str, Any]) -> str:
    """A short description for titles: 'AMD EPYC, 2 cores, CPython 3.11.7, rustc 1.90.0'."""
    parts = [str(machine.get("cpu")), f"{machine.get('cores')} cores"]
    parts.append(f"{machine.get('implementation')} {machine.get('python')}")
    rustc = machine.get("rustc")
    if rustc:
        parts.append(" ".join(rustc.split()[:2]))
    return ", ".join(parts)
