"""A real X server (Xvfb) with a real system tray (trayer), and the real app as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from programs import require_programs
from waiting import wait_for

RUN_APP = Path(__file__).resolve().parents[1] / "support" / "run_app.py"  # the app with test hooks

# What these tests start; `.ci/run` installs them. Screenshots are the app's own (Qt) grabs.
TOOLS = ("Xvfb", "trayer", "xdotool", "xwininfo")


def _free_display() -> int:
    for n in range(91, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class XDisplay:
    name: str
    env: dict
    programs: dict[str, str]  # TOOLS -> their paths

    def run(self, program: str, *args: str, check: bool = True) -> str:
        """One of TOOLS on this display; its output."""
        cmd = [self.programs[program], *args]
        out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)
        if check and out.returncode != 0:
            raise AssertionError(f"{cmd} failed: {out.stderr}")
        return out.stdout

    def tree(self) -> str:
        return self.run("xwininfo", "-root", "-tree")


@pytest.fixture(scope="module")
def x_display():
    """Xvfb on a free display with trayer docked at the top right."""
    programs = require_programs(*TOOLS)
    n = _free_display()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = f":{n}"
    xvfb = subprocess.Popen(
        [programs["Xvfb"], f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tray = None
    try:
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 20, "Xvfb to start")
        disp = XDisplay(f":{n}", env, programs)
        tray = subprocess.Popen(
            [
                programs["trayer"],
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "28",
                "--SetDockType",
                "true",
                "--transparent",
                "false",
                "--tint",
                "0x202830",
                "--expand",
                "true",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # generous: the first GTK start on a fresh machine builds the font cache (CI once
        # waited more than 45 s for it under load)
        wait_for(lambda: '"panel": ("panel" "trayer")' in disp.tree(), 180, "trayer's panel")
        yield disp
    finally:
        _stop(tray)
        _stop(xvfb)


@dataclass
class RunningApp:
    proc: subprocess.Popen
    data_dir: Path
    watched: Path
    dump: Path
    log: Path

    def command(self, line: str, timeout_ms: int = 15_000) -> str:
        from selflow_qt.ui.control import send_command

        answer = send_command(self.data_dir, line, timeout_ms)
        assert answer is not None, f"the app did not answer {line!r}; log:\n{self.log_text()}"
        return answer

    def state(self) -> dict:
        return json.loads(self.command("state"))

    def screenshot(self, path: Path, window: str | None = None) -> Path:
        """The whole X screen, or the X window ``window`` (an id as xdotool prints it), grabbed
        by the app through Qt (QScreen.grabWindow)."""
        target = "screen" if window is None else f"window:{window}"
        answer = self.command(f"grab {target} {path}")
        assert answer == "ok", f"grab {target}: {answer}"
        return path

    def menu_dump(self) -> dict:
        return json.loads(self.dump.read_text(encoding="utf-8"))

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_app(
    x: XDisplay,
    data_dir: Path,
    watched: Path,
    artifacts: Path,
    env_extra: dict | None = None,
    log_name: str = "e2e-app.log",
) -> RunningApp:
    dump = data_dir.parent / "tray-dump.json"
    log = artifacts / log_name
    env = dict(x.env, SELFLOW_DUMP_TRAY=str(dump), **(env_extra or {}))
    cmd = [sys.executable, str(RUN_APP)]
    fh = open(log, "w")  # noqa: SIM115 - closed when the process ends
    proc = subprocess.Popen(
        [*cmd, "-v", "--data-dir", str(data_dir)], env=env, stdout=fh, stderr=subprocess.STDOUT
    )
    fh.close()
    return RunningApp(proc, data_dir, watched, dump, log)


def stop_app(app: RunningApp) -> int:
    _stop(app.proc, 60)
    return app.proc.returncode


@pytest.fixture(scope="module")
def demo_app(x_display, tmp_path_factory):
    """`selflow demo --days 7 --events-per-day 800` in a fresh data folder, then the app on it (fs collection only)."""
    artifacts_dir = Path(__file__).parents[1] / "artifacts"
    artifacts_dir.mkdir(exist_ok=True)
    root = tmp_path_factory.mktemp("e2e")
    data_dir, watched = root / "data", root / "watched"
    data_dir.mkdir(mode=0o700)
    watched.mkdir()
    from selflow_qt.core.settings import Settings

    settings = Settings(watch_roots=[str(watched)], collect_apps=False, collect_shell=False)
    # the real model, converted once into a cache reused across runs; short trainings
    from selflow_qt.agents.model.base_model import ensure_converted, find_gguf

    gguf = find_gguf()
    if gguf is not None:
        cache = Path(tempfile.gettempdir()) / "selflow-test-model-cache"
        settings.base_model = str(ensure_converted(gguf, cache))
    settings.train_config = {
        "max_steps": 4,
        "batch_size": 4,
        "eval_every": 2,
        "max_val": 8,
    }
    settings.eval_positions = 4
    settings.lm_positions = 2  # each is a model scoring and a written line
    settings.training_policy = "ask"  # the test starts the training, as the Train button does
    settings.save(data_dir)
    exe = Path(sys.executable).with_name("selflow")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "selflow_qt"]
    subprocess.run(
        [*cli, "--data-dir", str(data_dir), "demo", "--days", "7", "--events-per-day", "800"],
        check=True,
        timeout=120,
    )
    # `selflow demo` marks its folder so live capture stays out of it; these tests check live
    # capture on top of a week of history, so the folder is made an ordinary one again
    (data_dir / "DEMO.json").unlink()
    app = start_app(x_display, data_dir, watched, artifacts_dir)
    try:
        wait_for(
            lambda: app.proc.poll() is not None or "tray icon shown" in app.log_text(),
            90,
            "the tray icon",
        )
        assert app.proc.poll() is None, app.log_text()
        yield app
    finally:
        code = stop_app(app)
        assert code == 0, app.log_text()[-3000:]


@pytest.fixture
def app_launcher():
    """(start_app, stop_app, wait_for) for tests that start the app their own way."""
    return start_app, stop_app, wait_for
