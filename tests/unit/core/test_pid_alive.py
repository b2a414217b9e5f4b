"""``core.child.pid_alive``: the one answer to "does this process still run?" (analysis runs, the
shell spool sweep, collector status and stale training sessions all ask it)."""

from __future__ import annotations

import os
import subprocess
import sys

from selflow_qt.core.child import pid_alive


def test_this_process_runs_and_a_reaped_child_does_not():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert pid_alive(os.getpid()) is True
    assert pid_alive(gone.pid) is False


def test_a_process_of_another_user_counts_as_running():
    assert pid_alive(1) is True  # init: signalling it is refused, but it runs


def test_what_is_not_a_process_id_is_not_running():
    for value in (None, 0, -1, "123", 1.0, True, str(os.getpid())):
        assert pid_alive(value) is False, value
