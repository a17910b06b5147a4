"""``python -m factlab factorial``: the digits it writes, and Ctrl-C in each of its two phases."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

import factlab

BACKEND = factlab.backend_names("extension")[0]  # the command's default


def factorial_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "factlab", "factorial", *args]


@pytest.mark.parametrize("name", [factlab.STDLIB, BACKEND])
def test_writes_the_digits(name: str, tmp_path: Path) -> None:
    out = tmp_path / "f.txt"
    proc = subprocess.run(
        factorial_command("10**4", "--backend", name, "--out", str(out)), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == factlab.load(factlab.STDLIB).factorial_str(10**4) + "\n"
    assert len(out.read_text()) == 35_660 + 1
    assert "35,660 decimal digits" in proc.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.parametrize("n", ["-5", "2.5", "10**9"])
def test_bad_n_is_one_line(n: str) -> None:
    proc = subprocess.run(factorial_command(n), capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("python -m factlab factorial: error: "), proc.stderr


def interrupt_after(line: str, args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command, send SIGINT once ``line`` appears in its output, and return (status, stderr)."""
    proc = subprocess.Popen(
        factorial_command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen = []
    for got in proc.stdout:
        seen.append(got)
        if line in got:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    return proc.returncode, "".join(seen) + rest


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "line"), [("10**8", "computing"), ("10**7", "bits:")], ids=["while computing", "while converting"]
)
def test_ctrl_c_exits_130_and_writes_nothing(n: str, line: str, tmp_path: Path) -> None:
    status, output = interrupt_after(line, [n, "--out", "f.txt"], tmp_path)
    assert status == 130, output
    assert output.splitlines()[-1] == "interrupted (Ctrl-C): nothing written", output
    assert list(tmp_path.iterdir()) == [], "an interrupted run left a file"
    assert "Traceback" not in output
