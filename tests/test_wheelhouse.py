"""The wheelhouse installs factlab with pip alone: offline, with no Rust and no C compiler.

``just wheels`` (python/tools/wheels.py) builds it; this test builds one of
its own from the current sources (a wheelhouse left in target/ could be older
than the code), installs it into a fresh virtualenv whose ``PATH`` holds no
cargo and no C compiler, with ``pip --no-index --only-binary :all:``, then
runs the contract tests there against every backend the wheelhouse holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import factlab

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ("cargo", "rustc", "cc", "gcc", "clang", "c++")

pytestmark = pytest.mark.slow


def run(cmd: list[str | Path], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in cmd],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}"
    return done.stdout


def test_offline_install_without_toolchains_passes_the_contract(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    run([sys.executable, ROOT / "python" / "tools" / "wheels.py", "--out", wheelhouse])
    wheels = sorted(path.name for path in wheelhouse.glob("*.whl"))
    assert any(name.startswith("factlab_clib-") for name in wheels), wheels

    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(fresh)  # ensurepip: no network
    bin_dir = fresh / "bin"
    # Nothing from this machine's set-up: PATH is the fresh venv's bin alone,
    # and pip reads no configuration (no index, no extra find-links).
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull}
    assert [tool for tool in TOOLCHAIN if shutil.which(tool, path=env["PATH"])] == []
    python = bin_dir / "python"
    run(
        [
            python, "-m", "pip", "install", "--no-index", "--only-binary", ":all:", "--no-cache-dir",
            "--disable-pip-version-check", "--find-links", wheelhouse, "-r", wheelhouse / "requirements.txt",
        ],
        env,
    )  # fmt: skip

    where = run([python, "-c", "import factlab; print(factlab.__file__)"], env)
    assert Path(where.strip()).is_relative_to(fresh), where  # not the editable checkout
    # Every backend the wheelhouse holds loads (the list says which do not).
    listing = run([python, "-m", "factlab", "list"], env)
    installed = run([python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"], env)
    built = [line.split("==")[0] for line in installed.splitlines() if line.startswith("factlab")]
    assert len(built) == len(["factlab", "factlab-clib", *factlab.build_projects()]), (built, listing)
    assert all(line.split()[1] == "ok" for line in listing.splitlines() if line.strip()), listing

    # The benchmark's libraries came along (`python -m factlab bench` runs from the wheelhouse too).
    run([python, "-c", "import gmpy2, matplotlib, pyperf, rich"], env)

    report = run(
        [python, "-m", "pytest", "tests/test_contract.py", "-p", "no:cacheprovider", "-q", "--no-header"],
        env,
    )
    assert " passed" in report.splitlines()[-1], report
