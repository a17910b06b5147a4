"""Build every factlab backend and install it into the project's virtualenv.

Run by ``just setup`` with ``.venv/bin/python``. Each step hashes its inputs
and records the hash under ``.venv/.factlab-build/``; a step whose inputs did
not change since it last succeeded is skipped, so a second ``just setup`` is
fast. ``--force`` rebuilds everything, ``--only NAME`` one step.

The steps run in order; a step that fails stops the build with its command
and output, and leaves its stamp untouched, so the next run tries again.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
STAMPS = VENV / ".factlab-build"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RELEASE = TARGET / "release"
SKIP_DIRS = {"target", "__pycache__", "build", ".pytest_cache", ".hypothesis", "_cabi"}  # _cabi: copied in
SKIP_SUFFIXES = {".so", ".pyd", ".dylib", ".o", ".pyc", ".c.tmp"}

# Rust sources every Rust step depends on.
WORKSPACE = ["Cargo.toml", "Cargo.lock", "crates/core"]


def run(*cmd: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Run a command, echoing it; raise with its output if it fails."""
    printable = " ".join(str(c) for c in cmd)
    print(f"    $ {printable}", flush=True)
    # The venv's bin first: build back-ends such as maturin call their own executables.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    full_env = {**os.environ, "PATH": path, **(env or {})}
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=full_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if result.returncode != 0:
        print(result.stdout, file=sys.stderr)
        raise SystemExit(f"build failed: `{printable}` exited with {result.returncode}")
    if os.environ.get("FACTLAB_BUILD_VERBOSE"):
        print(result.stdout)


def pip_install(path: str) -> None:
    """Install a local project into the venv with the pinned build tools."""
    # setuptools stages each wheel in <project>/build/bdist.*; a build that was
    # interrupted leaves it behind and makes every later build fail ("File
    # exists"). The compiled objects in build/ stay: they are the cache.
    for staging in (ROOT / path / "build").glob("bdist.*"):
        shutil.rmtree(staging)
    run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--force-reinstall",
        ROOT / path,
    )


def cargo_build(package: str) -> None:
    run("cargo", "build", "--release", "--locked", "-p", package)


def cdylib(stem: str) -> Path:
    """The cdylib cargo built for crate ``stem`` (lib<stem>.so or .dylib)."""
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    return RELEASE / f"lib{stem}{suffix}"


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["platlib"])


def ext_suffix() -> str:
    """The file suffix CPython expects of an extension, e.g. .cpython-311-x86_64-linux-gnu.so"""
    return sysconfig.get_config_var("EXT_SUFFIX")


@dataclass(frozen=True)
class Step:
    name: str
    inputs: tuple[str, ...]
    action: Callable[[], None]
    what: str
    # Steps whose output this one consumes: when they rebuild, so does this one.
    depends: tuple[str, ...] = ()


def _files(paths: Iterable[str]) -> Iterable[Path]:
    for rel in paths:
        path = ROOT / rel
        if path.is_file():
            yield path
        elif path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(
                    d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
                )
                for f in sorted(filenames):
                    if Path(f).suffix not in SKIP_SUFFIXES:
                        yield Path(dirpath) / f


def fingerprint(step: Step) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for dep in step.depends:
        stamp = STAMPS / dep
        digest.update(stamp.read_bytes() if stamp.exists() else b"unbuilt")
    for path in _files(step.inputs):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# --- the steps ---------------------------------------------------------------


def install_requirements() -> None:
    run(sys.executable, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements.txt")


def build_cabi() -> None:
    """The C ABI library: libfactlab_cabi.so/.a, its link flags, and a copy for factlab.

    One `cargo rustc` builds every crate type of factlab-cabi (cdylib,
    staticlib, rlib: it is `cargo build` of the library) and asks rustc which
    system libraries a C program linking the static library needs. Those
    flags go to target/release/libfactlab_cabi.native-static-libs (one line)
    for the steps that link the .a (cffi's API mode, Cython).
    """
    cmd = [
        "cargo",
        "rustc",
        "--release",
        "--locked",
        "-p",
        "factlab-cabi",
        "--lib",
        "--",
        "--print",
        "native-static-libs",
    ]
    print(f"    $ {' '.join(cmd)}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        print(result.stdout, file=sys.stderr)
        raise SystemExit(f"build failed: `{' '.join(cmd)}` exited with {result.returncode}")
    # rustc's note (cargo replays it when the library is already built):
    #   note: native-static-libs: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
    flags = [
        line.split("native-static-libs:", 1)[1].strip()
        for line in result.stdout.splitlines()
        if "note: native-static-libs:" in line
    ]
    if not flags:
        print(result.stdout, file=sys.stderr)
        raise SystemExit("build failed: rustc printed no `native-static-libs:` note for factlab-cabi")
    (RELEASE / "libfactlab_cabi.native-static-libs").write_text(flags[-1] + "\n")
    # The cdylib and the cffi declarations ship inside the factlab package.
    shipped = ROOT / "python/factlab/_cabi"
    shipped.mkdir(exist_ok=True)
    library = cdylib("factlab_cabi")
    shutil.copy2(library, shipped / library.name)
    shutil.copy2(ROOT / "crates/cabi/include/factlab_cdef.h", shipped / "factlab_cdef.h")


# ANCHOR: rust-cpython
def build_rust_cpython() -> None:
    """The rust-cpython module: plain cargo, then a copy into site-packages.

    maturin no longer builds rust-cpython crates, so this does by hand what a
    build backend would: build the cdylib against this interpreter
    (python3-sys asks PYTHON_SYS_EXECUTABLE for its configuration) and install
    it under the file name CPython looks for (factlab_cpython + EXT_SUFFIX).
    """
    run(
        "cargo",
        "build",
        "--release",
        "--locked",
        "-p",
        "factlab-cpython",
        env={"PYTHON_SYS_EXECUTABLE": sys.executable},
    )
    installed = site_packages() / ("factlab_cpython" + ext_suffix())
    installed.unlink(missing_ok=True)  # never leave a stale module behind
    shutil.copy2(cdylib("factlab_cpython"), installed)
    # ANCHOR_END: rust-cpython


def build_factlab() -> None:
    pip_install("python")


STEPS: list[Step] = [
    Step(
        "requirements",
        ("requirements.txt",),
        install_requirements,
        "pinned build tools, test and benchmark libraries",
    ),
    Step(
        "pyo3",
        (*WORKSPACE, "crates/pyo3"),
        lambda: pip_install("crates/pyo3"),
        "the PyO3 module (maturin)",
        depends=("requirements",),
    ),
    Step(
        "capi",
        (*WORKSPACE, "crates/capi"),
        lambda: pip_install("crates/capi"),
        "the hand-written C-API module over pyo3-ffi (maturin)",
        depends=("requirements",),
    ),
    Step(
        "rust-cpython",
        (*WORKSPACE, "crates/cpython"),
        build_rust_cpython,
        "the rust-cpython module (cargo + copy: maturin no longer builds it)",
        depends=("requirements",),
    ),
    Step(
        "cabi",
        (*WORKSPACE, "crates/cabi"),
        build_cabi,
        "the C ABI library (cdylib + staticlib) and its cffi declarations",
        depends=("requirements",),
    ),
    # cffi and Cython compile against the header and link the static library.
    Step(
        "cffi",
        ("python/cffi", "crates/cabi/include"),
        lambda: pip_install("python/cffi"),
        "the cffi modules: ABI out-of-line (pure Python) and API (extension, static link)",
        depends=("requirements", "cabi"),
    ),
    Step(
        "cython",
        ("python/cython", "crates/cabi/include"),
        lambda: pip_install("python/cython"),
        "the Cython module (extension, static link)",
        depends=("requirements", "cabi"),
    ),
    # The registry package comes last: it ships the C ABI library (_cabi/).
    Step(
        "factlab",
        ("python/pyproject.toml", "python/factlab"),
        build_factlab,
        "the factlab package: registry, pure-Python backends, FFI wrappers, bench",
        depends=("requirements", "cabi"),
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--force", action="store_true", help="rebuild every step")
    parser.add_argument(
        "--only",
        metavar="STEP",
        action="append",
        help="run only this step (repeatable); one of: " + ", ".join(s.name for s in STEPS),
    )
    args = parser.parse_args(argv)
    if not sys.prefix.startswith(str(ROOT)) and not os.environ.get("FACTLAB_ANY_PYTHON"):
        raise SystemExit(f"run me with the project's virtualenv (.venv/bin/python), not {sys.executable}")
    unknown = set(args.only or ()) - {s.name for s in STEPS}
    if unknown:
        parser.error(f"unknown step(s): {', '.join(sorted(unknown))}")
    steps = [s for s in STEPS if not args.only or s.name in args.only]
    STAMPS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, step in enumerate(steps, 1):
        stamp = STAMPS / step.name
        digest = fingerprint(step)
        label = f"[{i}/{len(steps)}] {step.name}"
        if not args.force and stamp.exists() and stamp.read_text() == digest:
            print(f"{label}: up to date", flush=True)
            continue
        print(f"{label}: building {step.what}", flush=True)
        t = time.perf_counter()
        step.action()
        stamp.write_text(digest)
        print(f"{label}: done in {time.perf_counter() - t:.1f} s", flush=True)
    print(f"setup: every backend built and installed in {VENV} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
