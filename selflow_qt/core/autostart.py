"""Start at login, for real: an XDG autostart entry, a macOS LaunchAgent, or the Windows Run key."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

APP_ID = "io.selflow.SelFlow"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "SelFlow"


def launch_command(data_dir: str | os.PathLike | None = None) -> list[str]:
    """How to start the desktop app: the bundle, the ``selflow`` script, or this Python."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        tray = exe.with_name("selflow-tray.exe")  # Windows: the console-less tray build
        cmd = [str(tray)] if sys.platform == "win32" and tray.exists() else [sys.executable]
    else:
        script = shutil.which("selflow") or str(Path(sys.executable).with_name("selflow"))
        cmd = [script] if Path(script).exists() else [sys.executable, "-m", "selflow_qt"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return cmd


@dataclass
class Autostart:
    """The login item of one platform; ``home`` and ``registry`` are injectable for tests."""

    platform: str = sys.platform
    home: Path | None = None
    registry: object | None = None  # the winreg module (or a stand-in) on Windows

    def _home(self) -> Path:
        return Path(self.home) if self.home is not None else Path.home()

    @property
    def path(self) -> Path | None:
        """The file that makes SelFlow start at login (None on Windows: a registry value)."""
        if self.platform.startswith("linux") or "bsd" in self.platform:
            base = os.environ.get("XDG_CONFIG_HOME") if self.home is None else None
            config = Path(base) if base else self._home() / ".config"
            return config / "autostart" / "selflow.desktop"
        if self.platform == "darwin":
            return self._home() / "Library" / "LaunchAgents" / f"{APP_ID}.plist"
        return None

    def enable(self, command: list[str]) -> None:
        if self.platform == "win32":
            reg = self._winreg()
            with reg.CreateKey(reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, _windows_command_line(command))
            return
        path = self.path
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.platform == "darwin":
            data = {
                "Label": APP_ID,
                "ProgramArguments": list(command),
                "RunAtLoad": True,
                "ProcessType": "Interactive",
            }
            path.write_bytes(plistlib.dumps(data))
        else:
            path.write_text(desktop_entry(command), encoding="utf-8")

    def disable(self) -> None:
        if self.platform == "win32":
            reg = self._winreg()
            try:
                with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                    reg.DeleteValue(key, RUN_VALUE)
            except FileNotFoundError:
                pass
            return
        path = self.path
        if path is not None and path.exists():
            path.unlink()

    def is_enabled(self) -> bool:
        if self.platform == "win32":
            reg = self._winreg()
            try:
                with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY) as key:
                    reg.QueryValueEx(key, RUN_VALUE)
                return True
            except FileNotFoundError:
                return False
        path = self.path
        return path is not None and path.exists()

    def apply(self, enabled: bool, command: list[str] | None = None) -> None:
        if enabled:
            self.enable(command or launch_command())
        else:
            self.disable()

    def _winreg(self):
        if self.registry is not None:
            return self.registry
        import winreg  # noqa: PLC0415 - Windows only

        return winreg


def desktop_entry(command: list[str]) -> str:
    """An XDG autostart .desktop entry running ``command``."""
    exec_line = " ".join(_desktop_quote(c) for c in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=SelFlow\n"
        "Comment=Learns your workflows privately\n"
        f"Exec={exec_line}\n"
        "Icon=selflow\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def _desktop_quote(arg: str) -> str:
    # The Desktop Entry spec: quote args with reserved characters; escape \ " ` $ inside quotes.
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def _windows_command_line(command: list[str]) -> str:
    import subprocess

    return subprocess.list2cmdline(command) if command else shlex.join(command)
