"""bench/faults.py in small: `selflow collect` killed (SIGKILL and SIGTERM) at random moments
under a stream of files and shell-hook commands, restarted each time; nothing committed is lost,
nothing is stored twice, nothing is left running, the database stays sound."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from programs import require_program

from selflow_qt.collect.fs_watch import HAVE_INOTIFY

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import faults  # noqa: E402

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")


def _why(report) -> str:
    """The table and what the run logged (which events were lost, after which kill)."""
    return faults.table([report]) + "\n" + "\n".join(report.lines)


def test_killed_collector_keeps_every_invariant():
    (report,) = faults.run_faults(kills=8, targets=["collect"], seed=27, quiet=True)
    assert sum(report.kills.values()) == 8
    assert report.kills["SIGKILL"] and report.kills["SIGTERM"]
    assert report.held == 8, _why(report)
    assert (report.lost, report.duplicates, report.orphans) == (0, 0, 0), _why(report)
    assert report.integrity_failures == 0 and report.temp_growth == 0
    assert report.caught_up > 0  # files appeared while it was down, and were caught up


def test_killed_analysis_is_recorded_failed_and_leaves_no_temp_folder():
    (report,) = faults.run_faults(kills=2, targets=["analyze"], seed=27, quiet=True)
    assert sum(report.kills.values()) == 2
    assert report.held == 2, _why(report)
    assert report.left_running == 0 and report.temp_growth == 0, _why(report)
    assert report.orphans == 0 and report.integrity_failures == 0


def test_killed_tray_app_keeps_every_invariant():
    require_program("Xvfb")
    (report,) = faults.run_faults(kills=2, targets=["tray"], seed=27, quiet=True)
    assert report.held == 2, _why(report)
    assert (report.lost, report.duplicates, report.orphans) == (0, 0, 0), _why(report)
    assert report.problems == 0 and report.integrity_failures == 0


def test_a_file_stored_under_a_redacted_folder_name_counts_as_stored():
    """mkdtemp names such as "o8ip4b8r" read as tokens and are stored redacted; the harness
    compares each file as the privacy filter stores it (every file looked lost before)."""
    path = "/tmp/selflow-faults-o8ip4b8r/watched/f000000.txt"
    stored = "/tmp/[REDACTED]/watched/f000000.txt"
    stored_as, lost, lost_cmds, twice, twice_cmds = faults.stored_once(
        [path], ["true"], {stored: 1}, {"true": 1}
    )
    assert stored_as == {path: stored}
    assert (lost, lost_cmds, twice, twice_cmds) == ([], [], 0, 0)
    _, lost, _, twice, _ = faults.stored_once([path], [], {stored: 2}, {})
    assert lost == [] and twice == 1
    _, lost, _, _, _ = faults.stored_once([path], [], {}, {})
    assert lost == [path]
