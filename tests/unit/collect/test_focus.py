"""Focus on a real X server (Xvfb): EWMH _NET_ACTIVE_WINDOW is read; without EWMH, a clear reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from selflow_qt.collect.apps import AppCollector
from selflow_qt.collect.focus import FocusUnavailable, X11FocusReader

Xlib = pytest.importorskip("Xlib")
pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")


@pytest.fixture
def xserver():
    for n in range(87, 97):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            break
    display = f":{n}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-nolisten", "tcp", "-screen", "0", "320x240x24"],
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


def test_active_window_changes_become_focus_events_with_durations(xserver, monkeypatch):
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    # Play the window manager's part: advertise EWMH and set the active window.
    wm = xdisplay.Display(xserver)
    root = wm.screen().root
    atom = wm.intern_atom
    root.change_property(atom("_NET_SUPPORTED"), Xatom.ATOM, 32, [atom("_NET_ACTIVE_WINDOW")])
    windows = []
    for pid in (os.getpid(), os.getppid()):
        w = root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
        w.change_property(atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [pid])
        windows.append(w)

    def activate(w) -> None:
        root.change_property(atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW, 32, [w.id])
        wm.sync()

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
    assert (first.source, first.action, first.meta["pid"]) == ("app", "focus", os.getpid())
    assert first.app and 0.25 <= first.duration < 5
    c._end_focus(time.time())
    assert out[1].meta["pid"] == os.getppid()
    c._focus_reader.close()
    wm.close()
