"""Child processes that end with the process that started them (Linux's ``PR_SET_PDEATHSIG``)."""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: the child is sent SIGKILL when its parent ends.

    Linux only; elsewhere a killed parent leaves its children running. Linux sends the signal when
    the *thread* that forked the child ends, not the process: fork from a thread that outlives the
    child (the main thread, or one that waits for the child)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
