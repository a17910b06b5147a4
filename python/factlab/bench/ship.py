"""``--scenario ship`` (issue 15): what each binding costs to build, ship and import.

Measured outside pyperf's loops, one process per measurement, for every
registered backend (a field that does not apply to one is None):

- **build**, in a copy of the sources (git's files) with target directories of
  its own, so that the working tree and its ``target/`` are never touched. The
  shared dependencies are built once and reported on rows of their own: the
  kernel with malachite (every native backend), then the C ABI library (the
  five over it). Cold: each backend's own PEP 517 project, built from a copy of
  that shared state (none profits from another's crates). Incremental: a
  one-line change to the kernel's source (in the copy), then the backend's
  chain again (the C ABI library first for the five over it). Every build is
  ``pip wheel --no-deps --no-build-isolation``, so the wheel comes out of it.
  Quick mode (CI) skips the cold builds: it seeds one target directory from the
  working tree's and times the incremental builds only.
- **what ships**: the installed artifact ``just setup`` built, in bytes as built
  and stripped (``strip`` into a temporary file), and the wheel's size and tags;
- **what the machine needs**: to build (the project's ``build-system.requires``,
  a Rust toolchain, a C compiler) and to run (``ldd``, and the Python
  distributions that importing the backend loads);
- **import**: a fresh interpreter per run, the median of ``IMPORT_RUNS[mode]``
  runs, of the module alone and of ``factlab.load(name)``, and the first call;
- **binding lines**: the registry's ``sources`` of each backend, each line
  classified by pygments' lexer for its language: code, comment (docstrings
  included) or blank.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import factlab
from factlab._registry import BackendSpec
from factlab.bench.scenarios import Context

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pip's own copy of the same parser (pip is in every virtualenv)
    from pip._vendor import tomli as tomllib

FORMAT = "factlab-ship/1"
CORE_CRATE = "factlab-core"  # the kernel: every native backend depends on it (with malachite)
CORE_SOURCE = Path("crates/core/src/lib.rs")  # where the one-line change goes, in the copy
CLIB_PROJECT = "crates/clib"  # the C ABI library's package, shared by every backend with clib != none
IMPORT_RUNS = {"quick": 5, "default": 21, "rigorous": 51}
SHARED_CORE = "shared: malachite + factlab-core"
SHARED_CLIB = "shared: the C ABI library"

Say = Callable[[str], None]


class ShipError(Exception):
    """A build or a measurement failed: the row says why."""


def _root() -> Path:
    from factlab.bench import repo_root

    root = repo_root(Path(factlab.__file__).parent)
    if root is None:
        raise ShipError("factlab is not installed from its repository: nothing to build")
    return root


def _rel(path: Path, root: Path) -> str:
    """A path for the results: relative to the repository when inside it (no machine path in a commit)."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(root))
    return str(path)


# --- build -------------------------------------------------------------------------------------------


@dataclass
class Wheel:
    name: str
    bytes: int

    @property
    def tags(self) -> str:
        return "-".join(self.name[: -len(".whl")].split("-")[-3:])  # python-abi-platform


@dataclass
class Build:
    seconds: float
    wheel: Wheel | None = None


@dataclass
class Builder:
    """Builds in a copy of the sources; every command's output is kept for the error message."""

    root: Path
    work: Path
    say: Say
    changes: int = 0
    src: Path = field(init=False)

    def __post_init__(self) -> None:
        self.src = self.work / "src"
        files = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=self.root, capture_output=True, check=True,
        ).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, files):
            source = self.root / name
            if source.is_file():  # a file deleted but not yet committed is skipped
                (self.src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.src / name)

    def run(self, what: str, cmd: list[str], target: Path, env: dict[str, str] | None = None) -> float:
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the venv's maturin
        full = os.environ | {"CARGO_TARGET_DIR": str(target), "PATH": path} | (env or {})
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=self.src, env=full, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ShipError(f"{what}: `{' '.join(cmd)}` failed (exit {done.returncode}):\n{tail}")
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
        env = {"PYTHONPATH": str(site)} if site else None
        seconds = self.run(f"pip wheel {project}", cmd, target, env)
        made = sorted(out.glob("*.whl"))
        if len(made) != 1:
            raise ShipError(f"pip wheel {project} made {len(made)} wheels, not one")
        return Build(seconds, Wheel(made[0].name, made[0].stat().st_size))

    def unpack(self, out: Path, site: Path) -> Path:
        """The C ABI library's wheel, unpacked: its ``factlab_clib`` shadows the installed one."""
        shutil.rmtree(site, ignore_errors=True)
        with zipfile.ZipFile(next(out.glob("*.whl"))) as z:
            z.extractall(site)
        return site

    def change(self) -> None:
        """A one-line change to the kernel's source, in the copy (a new line each time)."""
        self.changes += 1
        with (self.src / CORE_SOURCE).open("a", encoding="utf-8") as f:
            f.write(f"// factlab bench ship: one-line change {self.changes}\n")


def _copy_target(source: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, symlinks=True)
    return dest


def _chain_key(s: BackendSpec) -> str:
    """What a backend's own build is: its project, or for a backend with none, the C ABI library."""
    return s.project or (CLIB_PROJECT if s.clib != "none" else "")


def measure_builds(root: Path, specs: list[BackendSpec], mode: str, work: Path, say: Say) -> dict[str, Any]:
    """Build times and wheels: {'shared': {row: Build}, 'cold': {chain: Build}, 'incremental': {...}}."""
    b = Builder(root, work, say)
    clib_users = [s for s in specs if s.clib != "none"]
    keys = list(dict.fromkeys(_chain_key(s) for s in specs if _chain_key(s)))
    shared: dict[str, Build] = {}
    cold: dict[str, Build] = {}
    targets: dict[str, Path] = {}
    clib_site: dict[str, Path] = {}
    if mode != "quick":
        say("cold builds: the shared dependencies once, then each project from a copy of that state")
        core_t = work / "t-core"
        shared[SHARED_CORE] = b.core(core_t)
        clib_t = _copy_target(core_t, work / "t-clib") if clib_users else core_t
        if clib_users:
            shared[SHARED_CLIB] = b.wheel(CLIB_PROJECT, clib_t, work / "w-clib")
            clib_site[""] = b.unpack(work / "w-clib", work / "site-clib")
        for key in keys:
            if key == CLIB_PROJECT:  # nothing of their own: the library is the artifact
                targets[key] = clib_t
                continue
            over_clib = any(s.clib != "none" for s in specs if _chain_key(s) == key)
            targets[key] = _copy_target(clib_t if over_clib else core_t, work / f"t-{len(targets)}")
            cold[key] = b.wheel(
                key, targets[key], work / f"w-{len(targets)}", clib_site.get("") if over_clib else None
            )
    else:
        say("quick mode: no cold builds; one target directory seeded from the working tree's, warmed up")
        meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
                              cwd=root, capture_output=True, text=True, check=True)  # fmt: skip
        seeded = work / "t-seeded"
        seeded.mkdir()
        release = Path(json.loads(meta.stdout)["target_directory"]) / "release"
        if release.is_dir():
            _copy_target(release, seeded / "release")
        if clib_users:
            b.wheel(CLIB_PROJECT, seeded, work / "w-clib")
            clib_site[""] = b.unpack(work / "w-clib", work / "site-clib")
        for key in keys:
            targets[key] = seeded
            if key != CLIB_PROJECT:
                b.wheel(key, seeded, work / "w-warm", clib_site.get(""))
    say("incremental builds: a one-line change to the kernel, then each backend's chain")
    incremental: dict[str, Build] = {}
    for key in keys:
        b.change()
        over_clib = key == CLIB_PROJECT or any(s.clib != "none" for s in specs if _chain_key(s) == key)
        seconds, site = 0.0, None
        if over_clib:
            lib = b.wheel(CLIB_PROJECT, targets[key], work / "w-inc-clib")
            seconds, site = lib.seconds, b.unpack(work / "w-inc-clib", work / "site-inc")
            if key == CLIB_PROJECT:
                incremental[key] = lib
                continue
        own = b.wheel(key, targets[key], work / "w-inc", site)
        incremental[key] = Build(seconds + own.seconds, own.wheel)
    return {"shared": shared, "cold": cold, "incremental": incremental}


# --- what ships, what it needs ----------------------------------------------------------------------


def _is_elf(path: Path) -> bool:
    """A shared object or a static archive (of ELF objects), which ``strip`` can reduce."""
    with path.open("rb") as f:
        head = f.read(8)
    return head.startswith(b"\x7fELF") or head == b"!<arch>\n"


def stripped_bytes(path: Path, *flags: str) -> int | None:
    """The size ``strip`` leaves (into a temporary file); None for a file that is not ELF."""
    if not _is_elf(path) or shutil.which("strip") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        subprocess.run(["strip", *flags, "-o", str(out), str(path)], check=True, capture_output=True)
        return out.stat().st_size


def ldd(path: Path) -> list[str]:
    """The shared libraries the dynamic loader maps for ``path`` (the loader and the vDSO left out)."""
    if not _is_elf(path) or path.suffix == ".a" or shutil.which("ldd") is None:
        return []
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if not n.startswith(("linux-vdso", "/")) and "ld-linux" not in n]


def artifact(s: BackendSpec) -> Path | None:
    """The installed file a backend's calls go through: its compiled module, else the library it opens."""
    if s.extension:
        found = importlib.util.find_spec(s.extension)
        origin = Path(found.origin) if found and found.origin else None
        if origin is not None and origin.name == "__init__.py":  # a package around the compiled module
            native = sorted(p for p in origin.parent.iterdir() if p.suffix in (".so", ".pyd", ".dylib"))
            origin = native[0] if native else origin
        return origin
    if s.clib == "dlopen":
        import factlab_clib

        return factlab_clib.library_path()
    found = importlib.util.find_spec(s.module)
    return Path(found.origin) if found and found.origin else None


def _pyproject(root: Path, project: str) -> dict[str, Any]:
    with (root / project / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _requirement_name(text: str) -> str:
    for stop in "<>=!~;[ ":
        text = text.split(stop)[0]
    return text


def needs_build(root: Path, s: BackendSpec, art: Path | None) -> list[str]:
    """What building it from source takes: its project's build requirements, Rust, a C compiler."""
    projects = [p for p in (s.project, CLIB_PROJECT if s.clib != "none" else None) if p]
    needs: list[str] = []
    for p in projects:
        needs += [
            _requirement_name(r) for r in _pyproject(root, p).get("build-system", {}).get("requires", [])
        ]
    if any((root / p / "Cargo.toml").is_file() for p in projects):
        needs.append("Rust (cargo)")
    if s.project and not (root / s.project / "Cargo.toml").is_file() and art and _is_elf(art):
        needs.append("a C compiler")
    return list(dict.fromkeys(needs))


_PROBE = r"""
import importlib, json, sys, time
name, module = sys.argv[1], sys.argv[2]
before = set(sys.modules)
t0 = time.perf_counter()
if name:
    import factlab
    f = factlab.load(name).factorial
else:
    importlib.import_module(module)
t1 = time.perf_counter()
first = None
if name:
    t2 = time.perf_counter()
    f(25)
    first = time.perf_counter() - t2
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(json.dumps({"import": t1 - t0, "first": first, "modules": new}))
"""


def _probe(name: str, module: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _PROBE, name, module], capture_output=True, text=True)
    if done.returncode:
        raise ShipError(f"importing {name or module} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def imports(s: BackendSpec, runs: int) -> dict[str, Any]:
    """Median import times (fresh interpreters, ``runs`` each), the first call, what the import loads."""
    module = s.extension or s.module
    alone = [_probe("", module)["import"] for _ in range(runs)]
    loads = [_probe(s.name, s.module) for _ in range(runs)]
    return {
        "import_module": module,
        "import_module_ms": statistics.median(alone) * 1e3,
        "import_ms": statistics.median(x["import"] for x in loads) * 1e3,
        "first_call_us": statistics.median(x["first"] for x in loads) * 1e6,
        "import_runs": runs,
        "modules": loads[0]["modules"],
    }


def needs_run(s: BackendSpec, art: Path | None, modules: list[str]) -> list[str]:
    """The Python distributions importing it loads (not factlab and not its own), then ``ldd``'s libraries."""
    from importlib import metadata

    owners = metadata.packages_distributions()
    own = {"factlab"} | (
        {_requirement_name(_pyproject(_root(), s.project)["project"]["name"])} if s.project else set()
    )
    dists = {d for m in modules if m not in sys.stdlib_module_names for d in owners.get(m, [])}
    python = sorted(d for d in dists if d.replace("_", "-").lower() not in {o.lower() for o in own})
    return python + (ldd(art) if art else [])


# --- lines of binding code ---------------------------------------------------------------------------


def count_lines(path: Path) -> dict[str, int]:
    """Code, comment and blank lines of one file, by pygments' lexer for it (docstrings are comments)."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.token import Comment, String, Text, Whitespace

    text = path.read_text(encoding="utf-8")
    lexer = get_lexer_for_filename(path.name, stripnl=False, ensurenl=False)
    kinds: dict[int, set[str]] = {}
    line = 1
    for token, value in lexer.get_tokens(text):
        for i, part in enumerate(value.split("\n")):
            if part.strip():
                quiet = token in Comment or token in String.Doc
                kinds.setdefault(line + i, set()).add(
                    "comment" if quiet else "space" if token in Text or token in Whitespace else "code"
                )
        line += value.count("\n")
    counts = {"code": 0, "comment": 0, "blank": 0}
    for n in range(1, len(text.splitlines()) + 1):
        seen = kinds.get(n, set()) - {"space"}
        counts["code" if "code" in seen else "comment" if seen else "blank"] += 1
    return counts


def binding_lines(root: Path, s: BackendSpec) -> dict[str, int]:
    total = {"code": 0, "comment": 0, "blank": 0, "files": len(s.sources)}
    for source in s.sources:
        for k, v in count_lines(root / source).items():
            total[k] += v
    return total


# --- the rows ----------------------------------------------------------------------------------------


def _wheel(build: Build | None) -> dict[str, Any]:
    w = build.wheel if build else None
    return {
        "wheel": w.name if w else None,
        "wheel_bytes": w.bytes if w else None,
        "wheel_tags": w.tags if w else None,
    }


def rows(run: Path, context: Context, say: Say | None = None) -> list[dict[str, object]]:
    """The ship scenario's rows (shared dependencies first), also written to ``run/ship.json``."""
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    root, mode, t0 = _root(), context.mode.name, time.perf_counter()
    specs = [factlab.spec(name) for name in context.modules]
    native = [s for s in specs if s.native]
    with tempfile.TemporaryDirectory(prefix="ship-", dir=run) as tmp:
        try:
            builds = measure_builds(root, native, mode, Path(tmp), say)
            problem = None
        except ShipError as exc:
            builds, problem = {"shared": {}, "cold": {}, "incremental": {}}, str(exc)
            say(f"ship: builds failed: {problem}")
    out: list[dict[str, Any]] = []
    import factlab_clib

    clib = factlab_clib.library_path()
    if any(s.clib != "none" for s in native):
        static = factlab_clib.static_library()
        cold, inc = builds["shared"].get(SHARED_CLIB), builds["incremental"].get(CLIB_PROJECT)
        out.append({
            "backend": SHARED_CLIB, "shared": True, "status": "ok",
            "used_by": [s.name for s in native if s.clib != "none"],
            "build_cold_s": cold.seconds if cold else None,
            "build_incremental_s": inc.seconds if inc else None,
            "artifact": _rel(clib, root), "artifact_bytes": clib.stat().st_size,
            "stripped_bytes": stripped_bytes(clib),
            "static": _rel(static, root), "static_bytes": static.stat().st_size,
            "static_stripped_bytes": stripped_bytes(static, "--strip-debug"),
            **_wheel(cold or inc), "needs_run": ldd(clib),
        })  # fmt: skip
    if native:
        core = builds["shared"].get(SHARED_CORE)
        out.insert(0, {
            "backend": SHARED_CORE, "shared": True, "status": "ok", "used_by": [s.name for s in native],
            "build_cold_s": core.seconds if core else None, "build_incremental_s": None,
        })  # fmt: skip
    runs = IMPORT_RUNS[mode]
    for s in specs:
        say(f"ship: {s.name}: sizes, needs, {runs}+{runs} fresh imports")
        art = artifact(s)
        key = _chain_key(s)
        cold, inc = builds["cold"].get(key), builds["incremental"].get(key)
        row: dict[str, Any] = {"backend": s.name, "status": "ok", "kind": s.kind, "tool": s.tool}
        if s.native:
            row["build_cold_s"] = (
                0.0 if key == CLIB_PROJECT and mode != "quick" else (cold.seconds if cold else None)
            )
            row["build_incremental_s"] = inc.seconds if inc else None
            row["builds"] = key
            row["shared_with"] = [o.name for o in native if o is not s and _chain_key(o) == key]
        else:
            row["build_cold_s"] = row["build_incremental_s"] = None
        row["artifact"] = _rel(art, root) if art else None
        row["artifact_bytes"] = art.stat().st_size if art else None
        row["stripped_bytes"] = stripped_bytes(art) if art else None
        if s.extension and s.clib == "dlopen":  # its module opens the library at run time
            row["opens"] = _rel(clib, root)
            row["opens_bytes"] = clib.stat().st_size
        row |= _wheel((inc or cold) if s.native else None)
        row["needs_build"] = needs_build(root, s, art) if s.native else []
        try:
            found = imports(s, runs)
        except ShipError as exc:
            row |= {"status": "failed", "note": str(exc)}
            out.append(row)
            continue
        row["needs_run"] = needs_run(s, clib if s.clib == "dlopen" else art, found.pop("modules"))
        row |= found
        row["binding_lines"] = binding_lines(root, s)
        if problem and s.native:
            row["note"] = f"builds failed: {problem.splitlines()[0]}"
        out.append(row)
    doc = {"format": FORMAT, "mode": mode, "seconds": time.perf_counter() - t0, "import_runs": runs,
           "build_problem": problem, "rows": out}  # fmt: skip
    (run / "ship.json").write_text(json.dumps(doc, indent=1) + "\n")
    return out
