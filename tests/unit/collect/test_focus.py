"""Focus on a real X server (Xvfb): EWMH _NET_ACTIVE_WINDOW is read; without EWMH, a clear reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from programs import require_program

from selflow_qt.collect.apps import AppCollector
from selflow_qt.collect.focus import FocusUnavailable, X11FocusReader

Xlib = pytest.importorskip("Xlib")


@pytest.fixture
def xserver():
    xvfb = require_program("Xvfb")
    for n in range(87, 97):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            break
    display = f":{n}"
    proc = subprocess.Popen(
        [xvfb, display, "-nolisten", "tcp", "-screen", "0", "320x240x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from Xlib import display as xdisplay

    deadline = time.monotonic() + 10
    while True:
        try:
            xdisplay.Display(display).close()
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.skip("Xvfb did not start")
            time.sleep(0.1)
    yield display
    proc.terminate()
    proc.wait(10)


def test_without_an_ewmh_window_manager_focus_is_unavailable(xserver):
    with pytest.raises(FocusUnavailable, match="EWMH"):
        X11FocusReader(xserver)


@pytest.fixture
def two_apps(tmp_path):
    """Two real processes (copies of sleep) that stand for two apps' windows."""
    sleep = require_program("sleep")
    procs = []
    for name in ("sfeditor", "sfviewer"):
        exe = tmp_path / name
        shutil.copy(sleep, exe)
        exe.chmod(0o755)
        procs.append(subprocess.Popen([str(exe), "60"]))
    yield [p.pid for p in procs]
    for p in procs:
        p.kill()
        p.wait()


def _windows(xserver, pids):
    """Play the window manager's part: advertise EWMH; one window per pid; activate(window)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    wm = xdisplay.Display(xserver)
    root = wm.screen().root
    atom = wm.intern_atom
    root.change_property(atom("_NET_SUPPORTED"), Xatom.ATOM, 32, [atom("_NET_ACTIVE_WINDOW")])
    windows = []
    for pid in pids:
        w = root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
        w.change_property(atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [pid])
        windows.append(w)

    def activate(w) -> None:
        root.change_property(atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW, 32, [w.id])
        wm.sync()

    return wm, windows, activate


def test_selflows_own_window_is_not_focus_time(xserver, monkeypatch, two_apps):
    monkeypatch.setenv("DISPLAY", xserver)
    wm, windows, activate = _windows(xserver, [two_apps[0], os.getpid(), two_apps[1]])
    c = AppCollector(focus=True)
    c._focus_reader = X11FocusReader(xserver)
    out: list = []
    c._emit = out.append
    for w in windows:  # the editor, then SelFlow's window, then the viewer
        activate(w)
        c.poll_focus()
        time.sleep(0.2)
    c._end_focus(time.time())
    assert [e.app for e in out] == ["sfeditor", "sfviewer"]
    assert all(e.meta["pid"] != os.getpid() for e in out)
    c._focus_reader.close()
    wm.close()


def test_active_window_changes_become_focus_events_with_durations(xserver, monkeypatch, two_apps):
    wm, windows, activate = _windows(xserver, two_apps)

    monkeypatch.setenv("DISPLAY", xserver)
    c = AppCollector(focus=True)
    c._focus_reader = X11FocusReader(xserver)
    out: list = []
    c._emit = out.append
    activate(windows[0])
    c.poll_focus()
    time.sleep(0.3)
    activate(windows[1])
    c.poll_focus()
    assert len(out) == 1
    first = out[0]
    assert (first.source, first.action, first.meta["pid"]) == ("app", "focus", two_apps[0])
    assert first.app == "sfeditor" and 0.25 <= first.duration < 5
    c._end_focus(time.time())
    assert out[1].meta["pid"] == two_apps[1]
    c._focus_reader.close()
    wm.close()
