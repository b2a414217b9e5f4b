"""Which application has the keyboard focus, where the platform lets us ask.

X11 (EWMH ``_NET_ACTIVE_WINDOW`` through python-xlib), macOS (NSWorkspace through pyobjc) and
Windows (``GetForegroundWindow`` through ctypes). Elsewhere :func:`open_focus_reader` says why not.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Focus:
    app: str
    pid: int | None = None


class FocusUnavailable(RuntimeError):
    """Focus cannot be read here; the message says why."""


def _name_of(pid: int | None) -> str | None:
    if not pid:
        return None
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return None


class X11FocusReader:
    """Reads ``_NET_ACTIVE_WINDOW`` from the root window (needs an EWMH window manager)."""

    def __init__(self, display_name: str | None = None) -> None:
        try:
            from Xlib import X, display  # noqa: F401
            from Xlib.error import DisplayError
        except ImportError:
            raise FocusUnavailable("python-xlib is not installed") from None
        try:
            self.display = display.Display(display_name)
        except (DisplayError, OSError, Exception) as exc:
            raise FocusUnavailable(f"cannot open X display {display_name or ''}: {exc}") from None
        self.root = self.display.screen().root
        self._active = self.display.intern_atom("_NET_ACTIVE_WINDOW")
        self._pid = self.display.intern_atom("_NET_WM_PID")
        supported = self.root.get_full_property(
            self.display.intern_atom("_NET_SUPPORTED"), X.AnyPropertyType
        )
        if supported is None or self._active not in list(supported.value):
            self.display.close()
            raise FocusUnavailable(
                "the window manager does not support EWMH _NET_ACTIVE_WINDOW (no EWMH window manager)"
            )
        self._X = X

    def read(self) -> Focus | None:
        prop = self.root.get_full_property(self._active, self._X.AnyPropertyType)
        if prop is None or not len(prop.value) or not prop.value[0]:
            return None
        window = self.display.create_resource_object("window", int(prop.value[0]))
        pid = None
        try:
            p = window.get_full_property(self._pid, self._X.AnyPropertyType)
            if p is not None and len(p.value):
                pid = int(p.value[0])
            name = _name_of(pid)
            if name is None:
                wm_class = window.get_wm_class()
                name = wm_class[-1] if wm_class else None
        except Exception:  # the window closed between the two requests
            return None
        return Focus(name, pid) if name else None

    def close(self) -> None:
        self.display.close()


class MacFocusReader:  # pragma: no cover - macOS only
    def __init__(self) -> None:
        try:
            from AppKit import NSWorkspace
        except ImportError:
            raise FocusUnavailable("pyobjc (AppKit) is not installed") from None
        self._ws = NSWorkspace.sharedWorkspace()

    def read(self) -> Focus | None:
        app = self._ws.frontmostApplication()
        if app is None:
            return None
        return Focus(str(app.localizedName()), int(app.processIdentifier()))

    def close(self) -> None:
        pass


class WindowsFocusReader:  # pragma: no cover - Windows only
    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._user32 = ctypes.windll.user32
        self._ctypes, self._wintypes = ctypes, wintypes

    def read(self) -> Focus | None:
        hwnd = self._user32.GetForegroundWindow()
        if not hwnd:
            return None
        pid = self._wintypes.DWORD()
        self._user32.GetWindowThreadProcessId(hwnd, self._ctypes.byref(pid))
        name = _name_of(pid.value)
        return Focus(name, pid.value) if name else None

    def close(self) -> None:
        pass


def open_focus_reader():
    """A reader with ``read() -> Focus | None`` and ``close()``; raises FocusUnavailable."""
    if sys.platform == "darwin":
        return MacFocusReader()
    if sys.platform == "win32":
        return WindowsFocusReader()
    if os.environ.get("DISPLAY"):
        return X11FocusReader()
    if os.environ.get("WAYLAND_DISPLAY"):
        raise FocusUnavailable("Wayland without X11 (DISPLAY unset): no portable way to read focus")
    raise FocusUnavailable("no display (DISPLAY is unset)")
