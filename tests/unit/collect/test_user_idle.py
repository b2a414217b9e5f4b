"""Input idle time and the power source, where the platform tells."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from programs import require_program

from selflow_qt.collect import user_idle


def _supply(root, name, **files):
    d = root / name
    d.mkdir()
    for k, v in files.items():
        (d / k).write_text(v + "\n")


def test_mains_online_is_mains(tmp_path):
    _supply(tmp_path, "AC", type="Mains", online="1")
    _supply(tmp_path, "BAT0", type="Battery", status="Charging")
    assert user_idle.on_mains_power(tmp_path) is True


def test_a_discharging_battery_is_battery(tmp_path):
    _supply(tmp_path, "AC", type="Mains", online="0")
    _supply(tmp_path, "BAT0", type="Battery", status="Discharging")
    assert user_idle.on_mains_power(tmp_path) is False


def test_no_supply_listed_is_unknown(tmp_path):
    assert user_idle.on_mains_power(tmp_path) is None


def test_the_real_power_supply_folder_reads_without_error():
    assert user_idle.on_mains_power() in (True, False, None)


def test_x11_idle_time_from_a_real_x_server(tmp_path, monkeypatch):
    xvfb = require_program("Xvfb")
    display = ":97"
    proc = subprocess.Popen([xvfb, display, "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists("/tmp/.X11-unix/X97") and time.monotonic() < deadline:
            time.sleep(0.1)
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setattr(user_idle, "_x11", None)
        monkeypatch.setattr(user_idle, "_x11_failed_for", None)
        time.sleep(1.2)
        idle = user_idle.input_idle_seconds()
        if idle is None:
            pytest.skip("this X server has no MIT-SCREEN-SAVER extension")
        assert idle >= 1.0
    finally:
        if user_idle._x11 is not None:
            user_idle._x11.display.close()
        monkeypatch.setattr(user_idle, "_x11", None)
        proc.terminate()
        proc.wait(10)


def test_no_display_is_unknown(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert user_idle.input_idle_seconds() is None
