"""The wheelhouse installs factlab with pip alone: offline, with no Rust and no C compiler.

``just wheels`` (python/tools/wheels.py) builds it; this test builds one of
its own from the current sources (a wheelhouse left in target/ could be older
than the code), installs it into a fresh virtualenv whose ``PATH`` holds no
cargo and no C compiler, with ``pip --no-index``: first ``factlab[bench]``
alone (the extra brings every library the bench imports), then the rest.
There it runs a quick bench, the contract tests against every backend the
wheelhouse holds, and asks for a backend whose wheel is gone. Without a build:
the extra's ranges hold the exact pins of requirements.txt.
"""

from __future__ import annotations

import os
import shutil
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import factlab
from factlab._common import run

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ("cargo", "rustc", "cc", "gcc", "clang", "c++")
# What `python -m factlab bench` imports as it runs: `pip install factlab[bench]` must bring each one.
BENCH_LIBRARIES = ("pyperf", "psutil", "rich", "matplotlib", "gmpy2", "pygments", "packaging", "tomli")


def ok(cmd: list[str | Path], env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    """The output of ``cmd``, which must succeed."""
    done = run(cmd, cwd=cwd, env=env, timeout=1800)
    assert done.ok, f"{' '.join(map(str, cmd))} failed:\n{done.out[-6000:]}"
    return done.out


def test_the_bench_extra_holds_the_pins() -> None:
    """``factlab[bench]`` names what the bench imports, in ranges that hold requirements.txt's pins."""
    tomllib = pytest.importorskip("tomllib")  # 3.11+
    with (ROOT / "python" / "pyproject.toml").open("rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    extra = [Requirement(line) for line in extras["bench"]]
    pins: dict[str, list[str]] = {}  # a library may be pinned per Python version (markers)
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.split("#")[0].strip():
            pinned = Requirement(line.split("#")[0])
            version = next(iter(pinned.specifier)).version
            pins.setdefault(canonicalize_name(pinned.name), []).append(version)
    assert sorted(canonicalize_name(r.name) for r in extra) == sorted(BENCH_LIBRARIES)
    for requirement in extra:
        for pin in pins[canonicalize_name(requirement.name)]:
            assert requirement.specifier.contains(pin), f"{requirement} does not hold the pin {pin}"


@pytest.mark.slow
def test_offline_install_without_toolchains_runs_the_bench_and_the_contract(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    ok([sys.executable, ROOT / "python" / "tools" / "wheels.py", "--out", wheelhouse])
    wheels = sorted(path.name for path in wheelhouse.glob("*.whl"))
    assert any(name.startswith("factlab_clib-") for name in wheels), wheels
    # The factlab wheel holds the factlab package only (no build scripts of its neighbours).
    (factlab_wheel,) = wheelhouse.glob("factlab-*.whl")
    with zipfile.ZipFile(factlab_wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
    assert top == {"factlab", f"factlab-{factlab.__version__}.dist-info"}, top

    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(fresh)  # ensurepip: no network
    bin_dir = fresh / "bin"
    # Nothing from this machine's set-up: PATH is the fresh venv's bin alone,
    # and pip reads no configuration (no index, no extra find-links).
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull}
    assert [tool for tool in TOOLCHAIN if shutil.which(tool, path=env["PATH"])] == []
    python = bin_dir / "python"
    pip = [python, "-m", "pip", "install", "--no-index", "--only-binary", ":all:", "--no-cache-dir",
           "--disable-pip-version-check", "--find-links", wheelhouse]  # fmt: skip

    # The extra alone brings what the bench imports.
    ok([*pip, "factlab[bench]"], env)
    here = [name for name in BENCH_LIBRARIES if name != "tomli" or sys.version_info < (3, 11)]  # its marker
    ok([python, "-c", f"import {', '.join(here)}"], env)
    ok([*pip, "-r", wheelhouse / "requirements.txt"], env)

    where = ok([python, "-c", "import factlab; print(factlab.__file__)"], env)
    assert Path(where.strip()).is_relative_to(fresh), where  # not the editable checkout
    # Every backend the wheelhouse holds loads (the list says which do not).
    listing = ok([python, "-m", "factlab", "list"], env)
    installed = ok([python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"], env)
    built = [line.split("==")[0] for line in installed.splitlines() if line.startswith("factlab")]
    assert len(built) == len(["factlab", "factlab-clib", *factlab.build_projects()]), (built, listing)
    assert all(line.split()[1] == "ok" for line in listing.splitlines() if line.strip()), listing

    # The smallest bench run that proves the extra: the seed article's comparison, outside the clone.
    runs = tmp_path / "bench"
    bench = ok(
        [python, "-m", "factlab", "bench", "--quick", "--scenario", "article", "--out", runs], env, tmp_path
    )
    assert list((runs / "runs").glob("*/results.json")), bench

    report = ok(
        [python, "-m", "pytest", "tests/test_contract.py", "-p", "no:cacheprovider", "-q", "--no-header"], env
    )
    assert " passed" in report.splitlines()[-1], report

    # A backend whose wheel is gone: reinstall that wheel (no justfile, no toolchain here).
    ok([python, "-m", "pip", "uninstall", "--yes", "--disable-pip-version-check", "factlab-cython"], env)
    gone = run([python, "-m", "factlab", "list"], cwd=tmp_path, env=env)
    row = next(line for line in gone.out.splitlines() if line.startswith("cython "))
    assert gone.code == 1, gone.out
    assert "pip install factlab-cython factlab-clib" in row, row
    assert "just setup" not in row, row
