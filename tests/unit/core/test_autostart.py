"""Start at login on each platform: the file or registry value it writes, and removing it."""

from __future__ import annotations

import plistlib
import sys

from selflow_qt.core.autostart import RUN_KEY, RUN_VALUE, Autostart, desktop_entry, launch_command


def test_linux_writes_an_xdg_autostart_entry(tmp_path):
    a = Autostart(platform="linux", home=tmp_path)
    assert not a.is_enabled()
    a.enable(["/opt/self flow/selflow", "--data-dir", "/data/$HOME"])
    path = tmp_path / ".config/autostart/selflow.desktop"
    assert a.path == path and a.is_enabled()
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\nType=Application\n")
    assert 'Exec="/opt/self flow/selflow" --data-dir "/data/\\$HOME"' in text
    a.disable()
    assert not path.exists() and not a.is_enabled()


def test_macos_writes_a_launch_agent(tmp_path):
    a = Autostart(platform="darwin", home=tmp_path)
    a.enable(["/Applications/SelFlow.app/Contents/MacOS/SelFlow"])
    plist = plistlib.loads(a.path.read_bytes())
    assert a.path.parent == tmp_path / "Library/LaunchAgents"
    assert plist["RunAtLoad"] is True
    assert plist["ProgramArguments"] == ["/Applications/SelFlow.app/Contents/MacOS/SelFlow"]
    a.disable()
    assert not a.is_enabled()


class FakeRegistry:
    """Stands in for winreg (this test is about the values written, not about Windows)."""

    HKEY_CURRENT_USER = "HKCU"
    REG_SZ = 1
    KEY_SET_VALUE = 2

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    class _Key:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def CreateKey(self, root, path):  # noqa: N802 - winreg's names
        return self._Key(path)

    def OpenKey(self, root, path, *args):  # noqa: N802
        return self._Key(path)

    def SetValueEx(self, key, name, _reserved, _kind, value):  # noqa: N802
        self.values[(key.path, name)] = value

    def QueryValueEx(self, key, name):  # noqa: N802
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(key.path, name)], self.REG_SZ

    def DeleteValue(self, key, name):  # noqa: N802
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        del self.values[(key.path, name)]


def test_windows_sets_the_run_key():
    reg = FakeRegistry()
    a = Autostart(platform="win32", registry=reg)
    a.enable([r"C:\Program Files\SelFlow\selflow.exe", "--data-dir", r"D:\my data"])
    assert reg.values[(RUN_KEY, RUN_VALUE)] == (
        r'"C:\Program Files\SelFlow\selflow.exe" --data-dir "D:\my data"'
    )
    assert a.is_enabled()
    a.disable()
    assert not a.is_enabled()
    a.disable()  # idempotent


def test_launch_command_runs_this_installation():
    cmd = launch_command("/tmp/data")
    assert cmd[-2:] == ["--data-dir", "/tmp/data"]
    assert cmd[0].endswith("selflow") or cmd[:3] == [sys.executable, "-m", "selflow_qt"]


def test_desktop_entry_plain_args_stay_unquoted():
    assert "Exec=selflow --data-dir /x\n" in desktop_entry(["selflow", "--data-dir", "/x"])
