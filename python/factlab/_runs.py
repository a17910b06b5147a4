"""Run directories, shared by the commands that measure: ``target/<command>/runs/<time>-<mode>/``.

A command (``bench``, ``ship``) writes each run into a directory of its own
and, once every file of it is written, points ``target/<command>/latest`` at
it. The order is the guarantee:

1. the results file is written first with ``"complete": false``;
2. then every other file (tables, charts);
3. then the results file again, ``"complete": true`` (an atomic replace);
4. ``latest`` moves last (an atomic replace of a symbolic link).

A run interrupted or failed anywhere before step 3 stays partial: its results
say so, ``--compare`` and ``--publish`` refuse it, and ``latest`` is where it
was. A write error (a full disk, a read-only directory) is one line for the
user, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from factlab._common import repo_root

__all__ = ["RunError", "complete_runs", "finish", "is_complete", "new_run", "out_dir", "resolve", "write"]


class RunError(Exception):
    """A problem the user can fix, in one line; ``code``: the exit code (2: a bad argument or file)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def reason(exc: OSError) -> str:
    """An OSError in a few words: "No space left on device", not the errno's tuple."""
    return exc.strerror or str(exc) or type(exc).__name__


def out_dir(command: str, given: Path | None) -> Path:
    """Where runs go: ``given``, or ``target/<command>`` in the clone (else the working directory).

    Checked at once: a directory that cannot be written is an error before anything runs.
    """
    out = (given or (repo_root(Path.cwd()) or Path.cwd()) / "target" / command).resolve()
    probe = out / "runs" / f".probe-{os.getpid()}"
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"--out {out}: cannot write there ({reason(exc)})") from None
    return out


def new_run(out: Path, mode: str, now: datetime.datetime | None = None) -> Path:
    """A new, empty run directory; two runs started in the same second get ``...-quick``, ``...-quick-2``."""
    stamp = f"{now or datetime.datetime.now(datetime.timezone.utc):%Y%m%d-%H%M%S}-{mode}"
    for attempt in range(1, 1000):
        run = out / "runs" / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            run.mkdir()  # atomic: of two processes, exactly one creates it
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunError(f"cannot make a run directory in {out / 'runs'}: {reason(exc)}") from None
        return run
    raise RunError(f"{out / 'runs'}: a thousand runs started in the same second")


def write(path: Path, *texts: str) -> None:
    """Write ``texts`` to ``path`` through a temporary file: a reader sees the old file or the new one.

    The temporary file has a name of its own beside ``path``, removed on any failure (Ctrl-C too);
    the pieces are written one after the other, not joined (a result may be tens of MB).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            for text in texts:
                file.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def is_complete(run: Path, results: str) -> bool:
    """Whether ``run/results`` exists and says ``"complete": true`` (step 3 was reached)."""
    try:
        data = json.loads((run / results).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("complete") is True


def complete_runs(out: Path, results: str) -> list[Path]:
    """The complete runs in ``out``, oldest first (their names start with the time they started)."""
    return sorted(d for d in (out / "runs").glob("*") if d.is_dir() and is_complete(d, results))


def resolve(text: str, out: Path, results: str, *, running: bool = False) -> Path:
    """A run's directory from 'latest', 'previous', a run's directory or a file in it.

    ``running``: a run is about to start, so 'previous' is the last complete run (it will be).
    """
    if text in ("latest", "previous"):
        latest = (out / "latest").resolve() if (out / "latest").exists() else None
        if latest is None:
            raise RunError(f"no complete run in {out} yet")
        if text == "latest" or running:
            return latest
        before = [d for d in complete_runs(out, results) if d.name < latest.name]
        if not before:
            raise RunError(f"only one complete run in {out}: nothing before {latest.name}")
        return before[-1]
    path = Path(text)
    run = path.parent if path.is_file() else path
    if not run.is_dir():
        raise RunError(f"{text}: no such run (a run's directory, a file in it, 'previous' or 'latest')")
    return run


def move_latest(out: Path, run: Path) -> None:
    """Point ``out/latest`` at ``run``: a new link renamed over the old one, never half-written."""
    link = out / f".latest-{os.getpid()}.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(Path("runs") / run.name)
    os.replace(link, out / "latest")


Writer = Callable[[Path], object]


def finish(
    out: Path, run: Path, results: str, data: dict[str, Any], files: Sequence[tuple[str, Writer]]
) -> None:
    """Steps 1 to 4 above: ``data`` as ``run/results``, each ``(name, writer)``, complete, then latest.

    Any OSError on the way is a :class:`RunError` (exit code 1) naming the file and the reason;
    the run keeps ``"complete": false`` (or no results at all) and ``latest`` does not move.
    """
    name = results
    try:
        write(run / results, json.dumps({**data, "complete": False}, indent=1) + "\n")
        for name, writer in files:
            writer(run / name)
        name = results
        write(run / results, json.dumps({**data, "complete": True}, indent=1) + "\n")
        name = "latest"
        move_latest(out, run)
    except OSError as exc:
        if name == "latest":  # complete, but not where latest points: partial again, if the disk lets us
            with contextlib.suppress(OSError):
                write(run / results, json.dumps({**data, "complete": False}, indent=1) + "\n")
        raise RunError(
            f"cannot write {name} ({reason(exc)}): the run stays partial in {run}; latest is unchanged",
            code=1,
        ) from None
