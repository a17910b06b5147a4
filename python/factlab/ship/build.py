"""The builds ship measures: each backend's PEP 517 project, in a copy of the sources.

A :class:`Builder` copies the files git knows into a work directory and runs
every build there, with target directories of its own, so that the working
tree and its ``target/`` are never touched. The shared dependencies are built
once: the kernel with malachite (every native backend), then the C ABI library
(the backends over it). A backend's *chain* is what its own build runs: its
project, or, for a backend with none (ctypes, cffi's in-line mode), the C ABI
library it opens.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import parse_wheel_filename

from factlab import CLIB, BackendSpec
from factlab._common import CommandError, run

CORE_CRATE = "factlab-core"  # the kernel: every native backend depends on it (with malachite)
CORE_SOURCE = Path("crates/core/src/lib.rs")  # where the one-line change goes, in the copy
SHARED_CORE = "shared: malachite + factlab-core"
SHARED_CLIB = "shared: the C ABI library"

Say = Callable[[str], None]


@dataclass
class Wheel:
    name: str
    bytes: int

    @property
    def tags(self) -> str:
        """The wheel's tags as its name writes them: python-abi-platform (several: space-separated)."""
        return " ".join(sorted(str(tag) for tag in parse_wheel_filename(self.name)[3]))


@dataclass
class Build:
    seconds: float
    wheel: Wheel | None = None


@dataclass
class Builds:
    """Build times and wheels: the shared rows', then each chain's, cold and after a one-line change."""

    shared: dict[str, Build] = field(default_factory=dict)
    cold: dict[str, Build] = field(default_factory=dict)
    incremental: dict[str, Build] = field(default_factory=dict)


def chain(s: BackendSpec) -> str:
    """What a backend's own build is: its project, or for a backend with none, the C ABI library."""
    return s.project or (CLIB.project if s.clib != "none" else "")


def chains(specs: list[BackendSpec]) -> list[str]:
    """Every chain of ``specs``, each once, in the registry's order."""
    return list(dict.fromkeys(chain(s) for s in specs if chain(s)))


def over_clib(key: str, specs: list[BackendSpec]) -> bool:
    """Whether building ``key`` needs the C ABI library first."""
    return key == CLIB.project or any(s.clib != "none" for s in specs if chain(s) == key)


@dataclass
class Builder:
    """Builds in a copy of the sources; a failed build is a CommandError quoting its own error."""

    root: Path
    work: Path
    say: Say
    changes: int = 0
    src: Path = field(init=False)

    def __post_init__(self) -> None:
        self.src = self.work / "src"
        listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=self.root)
        for name in filter(None, listed.check("git ls-files").out.split("\0")):
            source = self.root / name
            if source.is_file():  # a file deleted but not yet committed is skipped
                (self.src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.src / name)

    def run(self, what: str, cmd: list[str], target: Path, env: dict[str, str] | None = None) -> float:
        """Seconds that ``cmd`` took in the copy, with ``target`` as cargo's target directory."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the venv's maturin
        full = os.environ | {"CARGO_TARGET_DIR": str(target), "PATH": path} | (env or {})
        t0 = time.perf_counter()
        run(cmd, cwd=self.src, env=full).check(what)
        seconds = time.perf_counter() - t0
        self.say(f"  {what}: {seconds:.1f} s")
        return seconds

    def core(self, target: Path) -> Build:
        cmd = ["cargo", "build", "--release", "--locked", "-p", CORE_CRATE]
        return Build(self.run(f"cargo build -p {CORE_CRATE}", cmd, target))

    def wheel(self, project: str, target: Path, out: Path, site: Path | None = None) -> Build:
        """``pip wheel`` of one project; ``site``: where the C ABI library it links is importable from."""
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.whl"):
            old.unlink()
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
               "--disable-pip-version-check", "-w", str(out), str(self.src / project)]  # fmt: skip
        seconds = self.run(f"pip wheel {project}", cmd, target, {"PYTHONPATH": str(site)} if site else None)
        made = sorted(out.glob("*.whl"))
        if len(made) != 1:
            raise CommandError(f"pip wheel {project} made {len(made)} wheels, not one")
        return Build(seconds, Wheel(made[0].name, made[0].stat().st_size))

    def clib(self, target: Path, name: str) -> tuple[Build, Path]:
        """The C ABI library's wheel, and where it is unpacked: its package shadows the installed one."""
        built = self.wheel(CLIB.project, target, self.work / f"w-{name}")
        site = self.work / f"site-{name}"
        shutil.rmtree(site, ignore_errors=True)
        with zipfile.ZipFile(next((self.work / f"w-{name}").glob("*.whl"))) as z:
            z.extractall(site)
        return built, site

    def change(self) -> None:
        """A one-line change to the kernel's source, in the copy (a new line each time)."""
        self.changes += 1
        with (self.src / CORE_SOURCE).open("a", encoding="utf-8") as f:
            f.write(f"// factlab ship: one-line change {self.changes}\n")


def copy_target(source: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, symlinks=True)
    return dest


def measure_builds(root: Path, specs: list[BackendSpec], mode: str, work: Path, say: Say) -> Builds:
    """Every build ship times: cold (not in quick mode), then incremental, for every chain of ``specs``."""
    b, builds = Builder(root, work, say), Builds()
    targets = seeded(b, specs, root) if mode == "quick" else cold(b, specs, builds)
    say("incremental builds: a one-line change to the kernel, then each backend's chain")
    for key in chains(specs):
        b.change()
        builds.incremental[key] = incremental(b, key, targets[key], over_clib(key, specs))
    return builds


def cold(b: Builder, specs: list[BackendSpec], builds: Builds) -> dict[str, Path]:
    """The shared dependencies once, then each chain from a copy of that state; each chain's target."""
    b.say("cold builds: the shared dependencies once, then each project from a copy of that state")
    core_t = b.work / "t-core"
    builds.shared[SHARED_CORE] = b.core(core_t)
    clib_t, site = core_t, None
    if any(s.clib != "none" for s in specs):
        clib_t = copy_target(core_t, b.work / "t-clib")
        builds.shared[SHARED_CLIB], site = b.clib(clib_t, "clib")
    targets: dict[str, Path] = {}
    for i, key in enumerate(chains(specs)):
        if key == CLIB.project:  # nothing of its own: the library is the artifact
            targets[key] = clib_t
            continue
        over = over_clib(key, specs)
        targets[key] = copy_target(clib_t if over else core_t, b.work / f"t-{i}")
        builds.cold[key] = b.wheel(key, targets[key], b.work / f"w-{i}", site if over else None)
    return targets


def seeded(b: Builder, specs: list[BackendSpec], root: Path) -> dict[str, Path]:
    """Quick mode: one target directory seeded from the working tree's and warmed up; each chain's target."""
    b.say("quick mode: no cold builds; one target directory seeded from the working tree's, warmed up")
    meta = run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"], cwd=root)
    document = next(line for line in meta.check("cargo metadata").out.splitlines() if line.startswith("{"))
    release = Path(json.loads(document)["target_directory"]) / "release"  # (a warning may come before it)
    target = b.work / "t-seeded"
    target.mkdir()
    if release.is_dir():
        copy_target(release, target / "release")
    site = b.clib(target, "clib")[1] if any(s.clib != "none" for s in specs) else None
    for key in chains(specs):
        if key != CLIB.project:
            b.wheel(key, target, b.work / "w-warm", site)
    return dict.fromkeys(chains(specs), target)


def incremental(b: Builder, key: str, target: Path, over: bool) -> Build:
    """One chain after the change: the C ABI library first when the chain is over it."""
    seconds, site = 0.0, None
    if over:
        lib, site = b.clib(target, "inc")
        if key == CLIB.project:
            return lib
        seconds = lib.seconds
    own = b.wheel(key, target, b.work / "w-inc", site)
    return Build(seconds + own.seconds, own.wheel)
