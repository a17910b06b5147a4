"""``python -m factlab factorial N``: one big factorial, with a progress bar, that Ctrl-C stops.

What a user of a binding wants from a long native call, in one command: the
bar follows the backend's ``factorial_progress`` reports; Ctrl-C stops the
kernel within a tick (the backend's own signal check, ``ctrl_c`` in the
registry) and the command exits with status 130 and one line; ``--out``
writes the decimal digits (the backend's ``factorial_str``) to a temporary
file beside FILE, renamed into place only when complete, so that an
interrupted run never leaves a half-written FILE.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from factlab._cli import Parser, command, require
from factlab._registry import BackendNotBuilt, backend_names, load
from factlab._runs import RunError, reason, write

T = TypeVar("T")
INTERRUPTED = 130  # what a shell reports for a command that SIGINT ended: 128 + 2


def parse_n(text: str) -> int:
    """N as typed: ``10000000``, ``10_000_000``, ``10**7`` or ``1e7`` (an integer each time)."""
    match = re.fullmatch(r"(\d[\d_]*)(?:\*\*(\d+)|[eE](\d+))?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r} (e.g. 1000000, 10**6, 1e6)")
    base, power, exponent = match.groups()
    if power is not None:
        return int(base) ** int(power)
    return int(base) * 10 ** int(exponent or 0)


def parser() -> Parser:
    default = backend_names("extension")[0]
    p = Parser(prog="python -m factlab factorial", description=__doc__.splitlines()[0])
    p.add_argument("n", type=parse_n, help="which factorial: 100000, 10**7, 1e7")
    p.add_argument("--backend", default=default, choices=backend_names(), help=f"default: {default}")
    p.add_argument("--digits", action="store_true", help="count its decimal digits (converts it)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write its decimal digits to FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    return command("python -m factlab factorial", compute, argv)


def compute(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    require(["rich"])
    try:
        backend = load(args.backend)
    except BackendNotBuilt as exc:
        raise RunError(str(exc)) from None
    print(f"computing {args.n:,}! with {args.backend} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        with bar(f"{args.n:,}! with {args.backend}") as report:
            start = time.perf_counter()
            value = backend.factorial_progress(args.n, report)
            took = time.perf_counter() - start
        print(f"{args.n:,}! has {value.bit_length():,} bits: {took:.2f} s with {args.backend}", flush=True)
        if args.digits or args.out:
            with bar("decimal digits"):  # no reports: the bar pulses
                digits = in_background(lambda: backend.factorial_str(args.n))
            print(f"{len(digits):,} decimal digits")
            if args.out:
                write_whole(args.out, digits)
                print(f"written to {args.out}")
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C): nothing written", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OverflowError, TypeError, MemoryError) as exc:
        raise RunError(f"factorial({args.n}): {exc}") from None
    return 0


@contextlib.contextmanager
def bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (none when stderr is not a terminal); yields the callback."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(what, total=None)  # a pulsing bar until the first report
        yield lambda done, total: progress.update(task, completed=done, total=total)


def in_background(work: Callable[[], T]) -> T:
    """``work()`` on a daemon thread, waited for here: a Ctrl-C during the wait ends the command at once.

    ``factorial_str`` has no hook: its conversion cannot be stopped. The main
    thread waits in ``Thread.join``, which a signal interrupts; the thread is
    a daemon, so the process does not wait for it on the way out.
    """
    result: list[Any] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # carried to the waiting thread, raised there
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def write_whole(path: Path, text: str) -> None:
    """``text`` and a newline into ``path``, all of it or nothing (through a temporary file)."""
    try:
        write(path, text, "\n")
    except OSError as exc:
        raise RunError(f"cannot write {path}: {reason(exc)}") from None
