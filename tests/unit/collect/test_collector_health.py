"""Never silently dead: each collector says when it stopped seeing events and why, in one line;
the shell and app collectors say when they last saw one."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from selflow_qt.collect import apps as apps_mod
from selflow_qt.collect.apps import AppCollector
from selflow_qt.collect.base import (
    ERROR,
    RUNNING,
    STALLED,
    STOPPED,
    UNAVAILABLE,
    Collector,
    problem_line,
    problem_lines,
)
from selflow_qt.collect.shell import ShellCollector
from selflow_qt.collect.status import collect_status, format_status

FS_LINE = (
    "File capture stopped: a test change in /d/probe was not seen within 5 s"
    " (the file watcher delivers nothing)"
)


def _wait(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


# -- the one line -------------------------------------------------------------------------------
def test_the_problem_line_says_which_collector_stopped_and_why():
    assert problem_line("fs", STALLED, FS_LINE) == FS_LINE
    assert (
        problem_line("fs", ERROR, "RuntimeError: boom")
        == "File capture stopped: RuntimeError: boom"
    )
    assert problem_line("apps", UNAVAILABLE, "no psutil") == "App capture unavailable: no psutil"
    assert problem_line("shell", ERROR, "") == "Shell capture stopped: it failed"
    assert problem_line("fs", RUNNING, "watching /w") is None
    assert problem_line("fs", STOPPED, "") is None  # paused or quit: not a problem
    rows = [("apps", RUNNING, "3 apps"), ("fs", STALLED, FS_LINE)]
    assert problem_lines(rows) == [FS_LINE]


def test_a_failed_check_outlasts_detail_updates_and_clears_when_it_passes():
    c = Collector()
    c.set_status(RUNNING, "watching /w")
    c.set_problem(FS_LINE)
    c.set_status(RUNNING, "watching /w; 1 rescan(s)")  # e.g. a rescan reports meanwhile
    assert c.status() == (STALLED, FS_LINE)
    c.clear_problem()
    assert c.status() == (RUNNING, "watching /w; 1 rescan(s)")
    c.set_problem(FS_LINE)
    c.set_status(STOPPED, "stopped")
    assert c.status() == (STOPPED, "stopped")


def test_a_running_collector_says_when_it_last_saw_an_event():
    c = Collector()
    c.event_noun = "event"
    c.set_status(RUNNING, "tailing ~/.bash_history")
    assert c.status()[1] == "tailing ~/.bash_history; no event yet"
    c.saw_event(time.mktime((2021, 5, 6, 14, 3, 59, 0, 0, -1)))
    assert c.status()[1] == "tailing ~/.bash_history; last event Thu 06 May 14:03"
    now = time.time()
    c.saw_event(now)
    assert c.status()[1].endswith(f"; last event {time.strftime('%H:%M', time.localtime(now))}")
    assert c.last_event_at == now


# -- `selflow status` ---------------------------------------------------------------------------
def _status_row(store, name: str, state: str, detail: str, age: float = 0.0) -> None:
    store.db.execute_sql(
        "INSERT INTO collector_status (name, state, detail, pid, updated_at) VALUES (?, ?, ?, ?, ?)",
        (name, state, detail, os.getpid(), time.time() - age),
    )


def test_selflow_status_prints_the_line_of_a_collector_that_stopped(store):
    _status_row(store, "fs", STALLED, FS_LINE)
    _status_row(store, "shell", RUNNING, "tailing /h; last command 14:03")
    _status_row(store, "apps", ERROR, "AccessDenied: /proc")
    report = collect_status(store)
    by_name = {c["name"]: c for c in report["collectors"]}
    assert by_name["fs"]["problem"] == FS_LINE
    assert by_name["shell"]["problem"] is None
    assert by_name["apps"]["problem"] == "App capture stopped: AccessDenied: /proc"
    lines = format_status(report).splitlines()
    assert f"collector    fs     stalled     {FS_LINE}" in lines
    assert "collector    shell  running     tailing /h; last command 14:03" in lines
    assert "collector    apps   error       App capture stopped: AccessDenied: /proc" in lines


def test_a_stalled_row_whose_process_is_gone_reads_as_stopped(store):
    _status_row(store, "fs", STALLED, FS_LINE, age=3600)
    (row,) = collect_status(store)["collectors"]
    assert row["state"] == STOPPED and row["problem"] is None
    assert row["detail"].startswith("not running (last heartbeat")


# -- shell ----------------------------------------------------------------------------------------
def test_shell_says_when_it_last_saw_a_command_and_when_its_history_cannot_be_read(
    run_collector, tmp_path
):
    hist = tmp_path / ".bash_history"
    hist.write_text("old\n")
    c = ShellCollector([hist], poll_seconds=0.05, check_seconds=0.2)
    r = run_collector(c)
    assert _wait(lambda: c.status()[0] == RUNNING)
    assert c.status()[1] == f"tailing {hist}; no command yet"
    with hist.open("a") as f:
        f.write("make test\n")
    r.sink.wait_for(lambda evs: len(evs) == 1)
    assert _wait(lambda: "last command" in c.status()[1]), c.status()
    assert c.last_event_at is not None and time.time() - c.last_event_at < 30
    hist.unlink()  # a history that is gone is otherwise just a quiet shell
    assert _wait(lambda: c.status()[0] == STALLED), c.status()
    assert c.status()[1] == (
        f"Shell capture stopped: the shell history {hist} cannot be read (No such file or directory)"
    )
    hist.write_text("back\n")
    assert _wait(lambda: c.status()[0] == RUNNING), c.status()


# -- apps -----------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="process table as on Linux")
def test_apps_say_when_the_process_table_does_not_show_selflow_itself(monkeypatch):
    c = AppCollector(poll_seconds=0.2, focus=False)
    c._emit = lambda ev: None
    c.poll(emit_launches=False)
    assert c.status()[0] == RUNNING
    assert c.status()[1].endswith("; no app event yet")
    real = apps_mod.psutil.pids
    monkeypatch.setattr(apps_mod.psutil, "pids", lambda: [p for p in real() if p != os.getpid()])
    c.poll()
    state, line = c.status()
    assert state == STALLED
    assert line.startswith("App capture stopped: the process list (")
    assert f"does not show SelFlow itself (pid {os.getpid()})" in line
    monkeypatch.setattr(apps_mod.psutil, "pids", real)
    c.poll()
    assert c.status()[0] == RUNNING


@pytest.mark.skipif(sys.platform != "linux", reason="process table as on Linux")
def test_apps_record_the_time_of_their_last_event(tmp_path):
    import shutil
    import subprocess

    from programs import require_program

    exe = Path(tmp_path / "sfhealthapp")
    shutil.copy(require_program("sleep"), exe)
    exe.chmod(0o755)
    c = AppCollector(poll_seconds=0.2, min_age=0.3, focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    assert c.last_event_at is None
    p = subprocess.Popen([str(exe), "30"])
    try:
        time.sleep(0.5)
        before = time.time()
        c.poll()
        assert "sfhealthapp" in [e.app for e in out if e.action == "launch"]
        assert c.last_event_at is not None and c.last_event_at >= before
        assert "; last app event " in c.status()[1]
    finally:
        p.kill()
        p.wait()
