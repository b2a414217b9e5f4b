"""How long the user's keyboard and mouse have rested, and whether the computer runs on mains
power, where the platform tells (None where it does not).

Input idle time: X11's MIT-SCREEN-SAVER extension (python-xlib), Windows' GetLastInputInfo
(ctypes). Power: Linux ``/sys/class/power_supply`` (a Mains supply online, or a battery not
discharging), elsewhere psutil's battery sensor. A large training starts by itself only while
both allow it (core.training_policy).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

POWER_SUPPLY = Path("/sys/class/power_supply")


class _X11Idle:
    """One display connection, kept: the question is asked every half minute."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display

        self.display = display.Display(display_name)
        if not self.display.has_extension("MIT-SCREEN-SAVER"):
            self.display.close()
            raise RuntimeError("the X server has no MIT-SCREEN-SAVER extension")
        self.root = self.display.screen().root

    def seconds(self) -> float:
        return self.root.screensaver_query_info().idle / 1000.0


_x11: _X11Idle | None = None
_x11_failed_for: str | None = None


def input_idle_seconds() -> float | None:
    """Seconds since the last keyboard or mouse input; None where it cannot be known (Wayland,
    no display, a headless collector)."""
    global _x11, _x11_failed_for
    if sys.platform == "win32":
        return _windows_idle()
    name = os.environ.get("DISPLAY")
    if not name or _x11_failed_for == name:
        return None
    try:
        if _x11 is None:
            _x11 = _X11Idle(name)
        return _x11.seconds()
    except Exception:  # no X server, no extension, a closed connection: unknown, asked no more
        _x11, _x11_failed_for = None, name
        return None


def _windows_idle() -> float | None:  # pragma: no cover - Windows only
    import ctypes

    class LASTINPUTINFO(ctypes.Structure):
        _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]

    info = LASTINPUTINFO(ctypes.sizeof(LASTINPUTINFO), 0)
    if not ctypes.windll.user32.GetLastInputInfo(ctypes.byref(info)):
        return None
    return (ctypes.windll.kernel32.GetTickCount() - info.dwTime) / 1000.0


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def on_mains_power(power_supply: Path = POWER_SUPPLY) -> bool | None:
    """True on mains power, False on battery, None where it is not known."""
    if power_supply.is_dir():
        supplies = [p for p in power_supply.iterdir() if (p / "type").exists()]
        mains = [p for p in supplies if _read(p / "type") == "Mains"]
        if any(_read(p / "online") == "1" for p in mains):
            return True
        batteries = [p for p in supplies if _read(p / "type") == "Battery"]
        if any(_read(p / "status") == "Discharging" for p in batteries):
            return False
        if mains:  # a mains supply that is offline, and no battery said otherwise
            return False
        if batteries:
            return True  # charging or full, with no mains entry
        return None
    try:
        import psutil

        battery = psutil.sensors_battery()
    except (ImportError, AttributeError, OSError):
        return None
    return None if battery is None else bool(battery.power_plugged)
