"""Child processes that die with the command that started them.

A measuring command runs its long work (pyperf's suite, callgrind, cargo and
pip builds) in a child process of its own, in a session of its own: Ctrl-C in
the terminal reaches the command alone, which asks the child to stop
(SIGINT) and waits for it, so that pyperf ends its worker cleanly. Whatever
else happens to the command, nothing it started outlives it:

- the child asks Linux for a signal when its parent dies (``PR_SET_PDEATHSIG``,
  set between ``fork`` and ``exec``), so a command killed outright (SIGKILL)
  still sends its child SIGTERM;
- the child, leader of its process group, answers SIGTERM by killing the whole
  group (:func:`die_with_group`): pyperf's workers, valgrind, cargo, everything
  it started;
- the command, when the child ends or when it is interrupted, kills what is
  left of the group (:func:`wait`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>: the signal a process gets when its parent thread ends


def _with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` (run in the child before ``exec``) that ties the child's life to ``parent``."""
    if not sys.platform.startswith("linux"):
        return None  # elsewhere the group is still killed when the command ends or is interrupted
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up now: after fork, only call it

    def tie() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal would ever come
            os._exit(1)

    return tie


def spawn(cmd: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in a new session (a process group of its own), to die with this process."""
    return subprocess.Popen(list(cmd), start_new_session=True, preexec_fn=_with_parent(os.getpid()))


def die_with_group() -> None:
    """In a child started by :func:`spawn`: SIGTERM kills the child's whole process group.

    SIGTERM comes when the parent dies (``PR_SET_PDEATHSIG``) or from anyone stopping the run;
    the group holds every process the child started, and the child itself.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        os.killpg(os.getpgrp(), signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)


def wait(proc: subprocess.Popen[bytes]) -> int | None:
    """The child's exit code, or None if this process was interrupted (Ctrl-C or SIGTERM) meanwhile.

    Interrupted, it passes SIGINT on to the child and waits for it to stop; either way, what is left
    of the child's group is killed before it returns.
    """
    main = threading.current_thread() is threading.main_thread()  # only it may set a handler
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if main else None  # like Ctrl-C
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.wait(timeout=60)
        return None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
