"""The chores every factlab command shares: finding the repository, running a command.

One helper each, so that the bench, the matrix, ship, the exercises and the
tools find the clone the same way and quote a failed command's error the same
way: its error lines (pip's own "it failed" lines left out), else its last
lines, with this machine's paths replaced so that nothing of it reaches a
committed file.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CommandError", "Ran", "quote_error", "repo_root", "require_repo", "run", "scrub"]


def repo_root(start: Path | None = None) -> Path | None:
    """The factlab clone holding ``start`` (default: this package's files), or None for a wheel install."""
    here = (start or Path(__file__).parent).resolve()
    for folder in (here, *here.parents):
        if (folder / "Cargo.toml").is_file() and (folder / "python" / "factlab").is_dir():
            return folder
    return None


def require_repo(what: str) -> Path:
    """The clone factlab runs from; a one-line error naming ``what`` needs it for a wheel install."""
    root = repo_root()
    if root is None:
        raise CommandError(f"{what} needs a clone of factlab (it builds from the sources): git clone it")
    return root


class CommandError(RuntimeError):
    """A command failed; the message quotes its own error."""


# pip's own lines around a failed build: they say that it failed, not why.
_PIP_NOISE = re.compile(
    r"subprocess-exited-with-error|metadata-generation-failed|Encountered error while|"
    r"Failed to build|ERROR: Failed building wheel|note: This error originates from a subprocess"
)
_ERROR_LINE = re.compile(r"(^|\s)(error(\[E\d+\])?:|\w*Error:|💥|✘)", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Prefixes a quoted error must not show (this machine's paths): longest first.
_PLACEHOLDERS: dict[str, str] = {}


def scrub(text: str) -> str:
    """``text`` without this machine's paths: the clone becomes ".", an interpreter "<its id>", home "~"."""
    root = repo_root()
    known = {**_PLACEHOLDERS, **({str(root): "."} if root else {}), str(Path.home()): "~"}
    for prefix in sorted(known, key=len, reverse=True):
        text = text.replace(prefix, known[prefix])
    return text


def hide_prefix(prefix: str, placeholder: str) -> None:
    """From now on :func:`scrub` writes ``placeholder`` for ``prefix`` (an interpreter's install)."""
    _PLACEHOLDERS[prefix] = placeholder


def quote_error(output: str, limit: int = 600) -> str:
    """The real error of a failed command, in one line: its error lines, else its last lines."""
    lines = [scrub(_ANSI.sub("", line)).strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not _PIP_NOISE.search(line)]
    errors = (line for line in lines if _ERROR_LINE.search(line) and "warning" not in line.lower()[:10])
    picked = list(dict.fromkeys(errors))[:3]
    text = " / ".join(picked or lines[-3:])
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Ran:
    """What a command did: its exit code (-1: it did not start or timed out) and its output."""

    cmd: list[str]
    code: int
    out: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def error(self, limit: int = 600) -> str:
        return quote_error(self.out, limit)

    def check(self, what: str = "") -> Ran:
        """This, if it succeeded; else a :class:`CommandError` quoting the command's own error."""
        if not self.ok:
            raise CommandError(f"{what or ' '.join(self.cmd)} failed: {self.error()}")
        return self


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    log: Path | None = None,
    echo: bool = False,
) -> Ran:
    """Run ``cmd`` (stdout and stderr together), never raising; ``echo`` prints its lines as they come.

    ``log`` keeps the command line and its whole output, for the error a user reads later.
    A timeout kills the command and everything it started (its own process group).
    """
    args = [os.fspath(c) for c in cmd]
    lines: list[str] = []
    code = -1
    try:
        with subprocess.Popen(
            args, cwd=cwd, env=None if env is None else dict(env), text=True, errors="replace",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ) as proc:  # fmt: skip
            assert proc.stdout is not None
            code = _collect(proc, lines, echo, timeout)
    except OSError as exc:
        lines.append(f"could not run {args[0]}: {exc}\n")
    out = "".join(lines)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(args)}\n{out}", encoding="utf-8")
    return Ran(args, code, out)


def _collect(proc: subprocess.Popen[str], lines: list[str], echo: bool, timeout: float | None) -> int:
    """Read ``proc``'s output into ``lines`` until it ends or ``timeout`` passes; its exit code."""
    import threading

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        lines.append(f"\ntimed out after {timeout:.0f} s: {' '.join(map(str, proc.args))}\n")  # type: ignore[arg-type]
        code = -1
    reader.join(timeout=5)
    return code
