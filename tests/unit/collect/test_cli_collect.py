"""`selflow collect` as a real child process: SIGTERM flushes, SIGKILL never corrupts."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from selflow_qt.collect.fs_watch import HAVE_INOTIFY

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")
REPO = Path(__file__).resolve().parents[3]
FLUSHED = re.compile(r"flushed \d+ events \(total (\d+)\)")


class Child:
    """`selflow -v collect` with its stderr read line by line in a thread."""

    def __init__(self, data_dir: Path, root: Path) -> None:
        env = {**os.environ, "SELFLOW_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "selflow_qt",
                "-v",
                "--data-dir",
                str(data_dir),
                "collect",
                "--roots",
                str(root),
                "--no-apps",
                "--no-shell",
            ],  # fmt: skip
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_line(self, pattern: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pattern in ln for ln in list(self.lines)):
                return True
            time.sleep(0.05)
        return False

    def flushed_totals(self) -> list[int]:
        return [int(m.group(1)) for ln in list(self.lines) if (m := FLUSHED.search(ln))]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def child_factory():
    children: list[Child] = []

    def make(data_dir: Path, root: Path) -> Child:
        c = Child(data_dir, root)
        children.append(c)
        return c

    yield make
    for c in children:
        c.kill()


def _ready(child: Child, data_dir: Path) -> None:
    assert child.wait_line("selflow: collecting"), "".join(child.lines)
    db = data_dir / "selflow.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the fs collector has taken its first picture
        try:
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT detail FROM collector_status WHERE name='fs'").fetchone()
            if row and row[0].startswith("watching"):
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise AssertionError("collector never reported it was watching: " + "".join(child.lines))


def test_sigterm_flushes_and_exits_0(child_factory, data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    child = child_factory(data_dir, root)
    _ready(child, data_dir)
    names = [root / f"doc{i}.txt" for i in range(300)]
    for p in names:
        p.write_text("x")
    time.sleep(1.0)  # let the kernel hand the events over; the writer may not have flushed
    child.proc.send_signal(signal.SIGTERM)
    assert child.proc.wait(30) == 0, "".join(child.lines)
    assert child.wait_line("selflow: stopped")
    with sqlite3.connect(data_dir / "selflow.db") as conn:
        paths = {r[0] for r in conn.execute("SELECT path FROM events WHERE action='create'")}
        states = dict(conn.execute("SELECT name, state FROM collector_status"))
    assert {str(p) for p in names} <= paths
    assert states == {"fs": "stopped"}


def test_sigkill_mid_burst_keeps_a_sound_database(child_factory, data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    child = child_factory(data_dir, root)
    _ready(child, data_dir)
    stop = threading.Event()

    def burst() -> None:
        i = 0
        while not stop.is_set() and i < 60_000:
            d = root / f"d{i // 1000}"
            d.mkdir(exist_ok=True)
            (d / f"f{i}").write_bytes(b"x")
            i += 1

    t = threading.Thread(target=burst, daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while len(child.flushed_totals()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.proc.send_signal(signal.SIGKILL)
    child.proc.wait(10)
    stop.set()
    t.join(30)
    child.reader.join(5)
    reported = max(child.flushed_totals())
    assert reported > 0
    conn = sqlite3.connect(data_dir / "selflow.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        buffered = json.loads(
            conn.execute("SELECT value FROM kv_state WHERE key='buffer'").fetchone()[0]
        )
    finally:
        conn.close()
    assert count >= reported
    assert buffered["events"] == count  # fill accounting committed with the events


def test_status_json_from_another_process(child_factory, data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    child = child_factory(data_dir, root)
    _ready(child, data_dir)
    (root / "a.txt").write_text("x")
    time.sleep(1.5)  # at least one writer flush (<= 1 s)
    out = subprocess.run(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), "status", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["data_dir"] == str(data_dir)
    assert report["events"]["today_by_source"]["fs"] >= 1
    assert report["collectors"] == [
        {
            "name": "fs",
            "state": "running",
            "detail": report["collectors"][0]["detail"],
            "updated_at": report["collectors"][0]["updated_at"],
            "problem": None,  # the watcher's self-check passed
        }
    ]
    child.proc.send_signal(signal.SIGINT)
    assert child.proc.wait(30) == 0


def test_a_second_collector_on_the_same_data_is_refused(child_factory, data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    first = child_factory(data_dir, root)
    _ready(first, data_dir)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "selflow_qt",
            "--data-dir",
            str(data_dir),
            "collect",
            "--roots",
            str(root),
            "--no-apps",
            "--no-shell",
            "--seconds",
            "5",
        ],  # fmt: skip
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert f"pid {first.proc.pid}" in out.stderr and "already running" in out.stderr


def test_no_display_runs_the_headless_collector(data_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(home), SELFLOW_DATA_DIR=str(data_dir), QT_QPA_PLATFORM="")
    proc = subprocess.Popen(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "selflow: collecting" in line or not line:
                break
        text = "".join(lines)
        assert "no display found" in text and "selflow: collecting" in text, text
        assert str(home) in text  # the default root: the (temporary) home folder
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_1000_files_in_bursts_are_1000_create_events(child_factory, data_dir, tmp_path):
    """`selflow collect --roots DIR`: files made in bursts of 100 (some in new folders) each
    become exactly one create event (issue 26: under watchdog 7.1.1 the old watcher wrote 0)."""
    root = tmp_path / "w"
    root.mkdir()
    child = child_factory(data_dir, root)
    _ready(child, data_dir)
    names = []
    for burst in range(10):
        folder = root / f"batch{burst}" if burst % 2 else root
        folder.mkdir(exist_ok=True)
        for i in range(100):
            p = folder / f"file{burst}-{i}.txt"
            p.write_bytes(b"x")
            names.append(str(p))
        time.sleep(0.2)
    time.sleep(1.5)
    child.proc.send_signal(signal.SIGTERM)
    assert child.proc.wait(30) == 0, "".join(child.lines)
    with sqlite3.connect(data_dir / "selflow.db") as conn:
        creates = [
            r[0]
            for r in conn.execute(
                "SELECT path FROM events WHERE action='create' AND path LIKE ?",
                (str(root / "%.txt"),),
            )
        ]
    assert len(creates) == len(set(creates)), "a file was recorded twice"
    assert sorted(creates) == sorted(names)
