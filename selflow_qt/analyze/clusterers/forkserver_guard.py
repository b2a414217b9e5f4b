"""Ends the clusterers' forkserver with the analysis process that started it (Linux).

``runner.PRELOAD`` names this module, so the forkserver imports it first; anywhere else importing
it does nothing. A forkserver leaves only once it sees its parent's pipe close, which on a busy
machine took more than 2.5 s after the analysis was killed (bench/faults.py: 10 of 40 killed
analyses left it running). Here the kernel signals it when its parent dies; the handler checks
that the parent really changed, because Linux also signals when the *thread* that started it
ends (see ``core.child``). No thread is started: the forkserver forks, and must stay single-
threaded.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# Set by runner._context in the analysis process before the forkserver starts: its pid. The
# forkserver may reach this import after the analysis died (a busy machine, a kill at start).
PARENT_ENV = "SELFLOW_FORKSERVER_PARENT"


def _in_forkserver() -> bool:
    return any("multiprocessing.forkserver import main" in a for a in getattr(sys, "orig_argv", []))


def end_with_parent() -> bool:
    """Exit when the parent process is gone; False where the kernel cannot tell us."""
    sig = getattr(signal, "SIGUSR1", None)
    if not sys.platform.startswith("linux") or sig is None:
        return False
    expected = os.environ.get(PARENT_ENV, "")
    parent = int(expected) if expected.isdigit() else os.getppid()

    def on_signal(_signum, _frame) -> None:
        if os.getppid() != parent:
            os._exit(0)

    signal.signal(sig, on_signal)
    try:
        ok = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # it died before we asked
        os._exit(0)
    return ok


if _in_forkserver():
    end_with_parent()
