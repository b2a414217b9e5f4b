"""``core.supervisor``: real child processes end ok, failed with their message, cancelled, timed
out or killed; their output is kept in a private log in the data folder; a child ends within 2 s
of its parent's SIGTERM."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from supervised import adds, echoes, fails, leaves_work_for_the_exit, sleeps

from selflow_qt.core import supervisor


@pytest.fixture(params=["exec", "spawn"])
def context(request):
    return supervisor.EXEC if request.param == "exec" else mp.get_context("spawn")


def test_a_child_returns_its_value_and_its_progress_and_output_is_logged(tmp_path, context):
    seen = []
    child = supervisor.start(adds, 2, 3, kind="unit", data_dir=tmp_path, context=context)
    out = child.wait(on_message=seen.append, timeout=120)
    assert out is not None and out.ok and out.reason == "ok" and out.result == 5
    assert seen == [("progress", {"step": s}) for s in range(3)]
    assert out.log is not None and out.log.parent == tmp_path / "logs"
    assert out.log.name.startswith("unit-") and out.log.suffix == ".log"
    assert "adding in the child" in out.log.read_text()
    assert out.log.stat().st_mode & 0o777 == 0o600
    assert child.poll() is out  # the same exit, once


def test_a_child_that_returned_waits_for_its_threads_runs_its_exit_handlers_and_flushes(
    tmp_path, context
):
    """An exec child leaves without the interpreter's teardown (seconds with a model loaded),
    but as a normal exit would: its threads finished, exit handlers run, output written."""
    child = supervisor.start(
        leaves_work_for_the_exit, str(tmp_path), kind="unit", data_dir=tmp_path, context=context
    )
    out = child.wait(timeout=120)
    assert out is not None and out.ok and out.result == 1 and out.code == 0
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert out.log is not None and "printed last, not flushed" in out.log.read_text()


def test_a_failing_child_says_why_in_one_line_and_its_log_is_redacted(tmp_path, context):
    exits = []
    child = supervisor.start(
        fails, "hunter2-xyz", kind="unit", data_dir=tmp_path, context=context, on_exit=exits.append
    )
    out = child.wait(timeout=120)
    assert out.reason == "failed" and out.code == 1
    assert out.message.startswith("ValueError: no data for --password")
    log = out.log.read_text()
    assert "Traceback" in log and "hunter2-xyz" not in log  # redacted once it ended
    child.poll()
    assert exits == [out]


def test_cancel_ends_the_child_and_says_cancelled(tmp_path, context):
    child = supervisor.start(sleeps, 600.0, kind="unit", data_dir=tmp_path, context=context)
    first = []
    while not first:
        assert child.poll(first.append) is None
        time.sleep(0.05)
    t0 = time.monotonic()
    out = child.wait(should_stop=lambda: True, timeout=60)
    assert out.reason == "cancelled" and out.message == "cancelled by the user"
    assert time.monotonic() - t0 < 10  # hang guard


def test_a_child_past_its_time_limit_is_stopped(tmp_path, context):
    child = supervisor.start(
        sleeps, 600.0, kind="unit", context=context, time_limit_s=1.0, what="the test job"
    )
    out = child.wait(timeout=60)
    assert out.reason == "timed out" and out.message == "the test job timed out after 1 s"
    assert out.log is None


def test_a_child_killed_by_a_signal_says_which(tmp_path):
    child = supervisor.start(sleeps, 600.0, kind="unit", data_dir=tmp_path, what="the test job")
    while not child.poll(lambda _m: os.kill(child.pid, signal.SIGKILL)) and child.exit is None:
        time.sleep(0.05)
    out = child.wait(timeout=60)
    assert out.reason == "killed" and out.message.startswith("the test job was killed by SIGKILL")


def test_old_logs_of_a_kind_are_removed(tmp_path):
    logs = [supervisor.log_file(tmp_path, "unit", keep=3) for _ in range(5)]
    other = supervisor.log_file(tmp_path, "refit", keep=3)
    left = sorted((tmp_path / "logs").iterdir())
    assert left == sorted(logs[-3:] + [other])


PARENT = """
    import sys, time
    from selflow_qt.core import supervisor
    sys.path.insert(0, sys.argv[1])
    import supervised
    child = supervisor.start(supervised.sleeps, 600.0, kind="unit", data_dir=sys.argv[2])
    while child.recv(30) is None:
        pass
    print(child.pid, flush=True)
    time.sleep(600)
"""


def test_a_child_ends_within_2s_of_its_parents_sigterm(tmp_path):
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(PARENT),
            str(Path(__file__).parents[2] / "support"),
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    kid = 0
    try:
        kid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGTERM)
        parent.wait(30)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and _running(kid):
            time.sleep(0.05)
        assert time.monotonic() - t0 < 2.0, "the child outlived its parent by 2 s"
        assert list((tmp_path / "logs").glob("unit-*.log"))
    finally:
        for pid in (parent.pid, kid):
            if pid and _running(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(30)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_messages_go_both_ways(tmp_path):
    child = supervisor.start(echoes, kind="unit", context=mp.get_context("spawn"))
    child.send({"n": 1})
    assert child.recv(60) == ("echo", {"n": 1})
    child.send(None)
    assert child.wait(timeout=60).ok


def test_a_start_removes_the_run_folders_of_killed_runs(tmp_path, monkeypatch):
    import tempfile

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    left = tmp_path / f"selflow-run-training-{gone}-abc123"  # a killed run's folder
    left.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert supervisor.start(adds, 1, 1, kind="unit").wait(timeout=120).ok
    assert not left.exists()
