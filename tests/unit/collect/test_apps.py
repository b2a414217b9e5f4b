"""The apps collector on the real process table, and focus where the platform has none."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from programs import require_program

from selflow_qt.collect.apps import AppCollector

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process names as on Linux")


@pytest.fixture
def program(tmp_path):
    """A real program with a name nothing else on the machine has."""
    exe = tmp_path / "sfdemoapp"
    shutil.copy(require_program("sleep"), exe)
    exe.chmod(0o755)
    procs: list[subprocess.Popen] = []

    def start(seconds: float) -> subprocess.Popen:
        p = subprocess.Popen([str(exe), str(seconds)])
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


def _mine(events, action):
    return [e for e in events if e.app == "sfdemoapp" and e.action == action]


def test_launch_and_close_with_duration(program):
    c = AppCollector(poll_seconds=0.2, min_age=0.3, focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    p = program(60)
    time.sleep(0.5)
    c.poll()
    launches = _mine(out, "launch")
    assert len(launches) == 1
    assert launches[0].meta["pid"] == p.pid
    assert launches[0].ts <= time.time() and launches[0].source == "app"
    time.sleep(0.5)
    p.kill()
    p.wait()
    c.poll()
    closes = _mine(out, "close")
    assert len(closes) == 1
    assert 0.8 <= closes[0].duration < 30


def test_short_lived_processes_are_not_apps(program):
    c = AppCollector(poll_seconds=0.2, min_age=1.0, focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    p = program(0.1)
    p.wait()
    c.poll()
    c.poll()
    assert _mine(out, "launch") == [] and _mine(out, "close") == []


def test_processes_of_one_app_are_one_app(program):
    c = AppCollector(poll_seconds=0.2, min_age=0.2, focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    first, second = program(60), program(60)
    time.sleep(0.4)
    c.poll()
    first.kill()
    first.wait()
    c.poll()
    assert len(_mine(out, "launch")) == 1 and _mine(out, "close") == []
    second.kill()
    second.wait()
    c.poll()
    assert len(_mine(out, "close")) == 1


def _copy_of_sleep(folder, name: str):
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    shutil.copy(require_program("sleep"), exe)
    exe.chmod(0o755)
    return exe


def test_tools_package_scripts_interpreters_and_selflow_are_not_apps(tmp_path, program):
    """dpkg, man-db.postinst, time, timeout, tee, find, python3 and SelFlow were day-one "apps"."""
    c = AppCollector(poll_seconds=0.2, min_age=0.3, focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    names = ["dpkg", "man-db.postinst", "time", "timeout", "tee", "find", "python3", "python3.12"]
    exes = [_copy_of_sleep(tmp_path / "bin", n) for n in names]
    exes.append(_copy_of_sleep(tmp_path / "selflow-1.0" / "bin", "sftray"))  # names SelFlow
    procs = [subprocess.Popen([str(exe), "60"]) for exe in exes]
    try:
        program(60)  # a real app alongside them
        time.sleep(0.6)
        c.poll()
    finally:
        for p in procs:
            p.kill()
            p.wait()
    launched = {e.app for e in out if e.action == "launch"}
    assert "sfdemoapp" in launched
    assert not launched & set(names + ["sftray"]), launched


def test_other_users_and_kernel_threads_are_ignored():
    c = AppCollector(focus=False)
    out: list = []
    c._emit = out.append
    c.poll(emit_launches=False)
    names = set(c.apps)
    if os.geteuid() != 0:
        assert "kthreadd" not in names and "systemd" not in names
    assert not any(n.startswith("kworker") for n in names)


def test_focus_unavailable_says_why(run_collector, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    r = run_collector(AppCollector(poll_seconds=0.2, focus=True))
    r.sink.wait_for(lambda e: "focus" in r.collector.detail, timeout=5)
    assert r.collector.state == "running"
    assert "focus unavailable: no display (DISPLAY is unset)" in r.collector.detail
