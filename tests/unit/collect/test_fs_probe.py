"""The file collector proves its watcher delivers: a test change in a folder of its own.

Real observers on temp folders. "Deaf" observers watch and read the kernel's events but hand
nothing to the handlers, as the old watcher did with watchdog 7.1.1.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import pytest

from selflow_qt.collect import fs as fs_mod
from selflow_qt.collect.fs import FilesystemCollector
from selflow_qt.collect.fs_watch import HAVE_INOTIFY
from selflow_qt.collect.service import CollectionService, build_collectors
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.core.settings import Settings
from selflow_qt.store.db import db_path_for

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")


def _wait(cond, timeout: float = 20.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


class _Nothing:
    def dispatch(self, event) -> None:
        pass


@pytest.fixture
def deaf(monkeypatch):
    """While ``deaf["on"]``, every observer the collector makes delivers nothing to it."""
    switch = {"on": True}
    real = fs_mod.make_observer

    def make(is_excluded):
        observer = real(is_excluded)
        schedule = observer.schedule

        def deaf_schedule(handler, path, recursive=True):
            class Switched:
                def dispatch(self, event) -> None:
                    (_Nothing() if switch["on"] else handler).dispatch(event)

            schedule(Switched(), path, recursive)

        observer.schedule = deaf_schedule
        return observer

    monkeypatch.setattr(fs_mod, "make_observer", make)
    return switch


def _collector(tmp_path: Path, **kw) -> tuple[FilesystemCollector, Path, Path]:
    root = tmp_path / "w"
    root.mkdir(exist_ok=True)
    probe = kw.pop("probe_dir", tmp_path / "data" / "probe")
    return FilesystemCollector([root], probe_dir=probe, **kw), root, probe


def _stopped_line(probe: Path, timeout: str) -> str:
    return (
        f"File capture stopped: a test change in {probe} was not seen within {timeout} s"
        " (the file watcher delivers nothing)"
    )


def test_a_working_watcher_passes_its_check_and_none_of_it_is_recorded(run_collector, tmp_path):
    c, root, probe = _collector(tmp_path, probe_seconds=0.3, probe_timeout=5.0)
    r = run_collector(c)
    assert c.ready.wait(20)
    assert _wait(lambda: c.probe.checks >= 3), c.status()
    (root / "a.txt").write_text("x")
    events = r.sink.wait_for(lambda evs: any(e.path == str(root / "a.txt") for e in evs))
    state, detail = c.status()
    assert state == "running"
    assert "file watcher checked" in detail and "last file change" in detail
    assert [e.path for e in events if e.action == "create"] == [str(root / "a.txt")]
    assert not any(str(probe) in (e.path or "") + (e.dest or "") for e in r.sink.snapshot())
    assert len(list(probe.iterdir())) <= 1  # each test file is removed once seen
    r.stop()
    assert list(probe.iterdir()) == []


def test_a_probe_folder_inside_a_watched_root_is_never_recorded(run_collector, tmp_path):
    root = tmp_path / "w"
    probe = root / "data" / "probe"
    c, _, _ = _collector(tmp_path, probe_dir=probe, probe_seconds=0.3, probe_timeout=5.0)
    r = run_collector(c)
    assert c.ready.wait(20)
    assert _wait(lambda: c.probe.checks >= 3), c.status()
    (root / "b.txt").write_text("x")
    r.sink.wait_for(lambda evs: any(e.path == str(root / "b.txt") for e in evs))
    assert c.status()[0] == "running"
    assert not any(str(probe) in (e.path or "") for e in r.sink.snapshot())
    assert not c.models[str(root)].contains(str(probe))


def test_an_observer_that_delivers_nothing_reads_file_capture_stopped(
    deaf, run_collector, tmp_path
):
    c, root, probe = _collector(tmp_path, probe_seconds=60.0, probe_timeout=1.0)
    t0 = time.monotonic()
    run_collector(c)
    assert c.ready.wait(20)
    assert _wait(lambda: c.status()[0] == "stalled", timeout=10), c.status()
    took = time.monotonic() - t0
    assert c.status() == ("stalled", _stopped_line(probe, "1"))
    assert took < 1.0 + 8.0  # the timeout and a loaded machine's slack: well within the 60 s


def test_a_watcher_that_dies_is_reported_at_the_next_check_and_recovers(
    deaf, run_collector, tmp_path
):
    deaf["on"] = False
    c, root, probe = _collector(tmp_path, probe_seconds=1.0, probe_timeout=1.0)
    run_collector(c)
    assert c.ready.wait(20)
    assert _wait(lambda: c.probe.checks >= 1), c.status()
    assert c.status()[0] == "running"
    deaf["on"] = True  # from now on the observer hands nothing on
    t0 = time.monotonic()
    assert _wait(lambda: c.status()[0] == "stalled", timeout=10), c.status()
    assert time.monotonic() - t0 < 1.0 + 1.0 + 8.0  # the interval, the timeout, slack
    assert c.status()[1] == _stopped_line(probe, "1")
    deaf["on"] = False  # it delivers again: the next check clears the problem
    assert _wait(lambda: c.status()[0] == "running", timeout=10), c.status()


def test_a_stopped_observer_is_reported(run_collector, tmp_path):
    c, root, probe = _collector(tmp_path, probe_seconds=1.0, probe_timeout=1.0)
    run_collector(c)
    assert c.ready.wait(20)
    assert _wait(lambda: c.probe.checks >= 1), c.status()
    c.observer.stop()
    assert _wait(lambda: c.status()[0] == "stalled", timeout=10), c.status()
    assert c.status()[1] == _stopped_line(probe, "1")


def test_status_says_file_capture_stopped_within_the_probe_interval(deaf, data_dir, tmp_path):
    """The collector's line reaches collector_status, `selflow status` and its JSON."""
    from selflow_qt.cli.collect import run_status

    c, _, _ = _collector(tmp_path, probe_dir=data_dir / "probe", probe_timeout=1.0)
    service = CollectionService(data_dir, collectors=[c], heartbeat_seconds=0.5)
    db = db_path_for(data_dir)
    line = _stopped_line(data_dir / "probe", "1")
    t0 = time.monotonic()
    service.start()
    try:

        def row():
            with sqlite3.connect(db) as conn:
                return conn.execute(
                    "SELECT state, detail FROM collector_status WHERE name = 'fs'"
                ).fetchone()

        assert _wait(lambda: row() == ("stalled", line), timeout=15), row()
        assert time.monotonic() - t0 < 1.0 + 10.0  # the timeout, a heartbeat, slack (of 300 s)
        out = _status_output(run_status, data_dir, json_out=False)
        assert f"collector    fs     stalled     {line}" in out.splitlines()
        report = __import__("json").loads(_status_output(run_status, data_dir, json_out=True))
        assert report["collectors"][0]["problem"] == line
    finally:
        service.stop()


def _status_output(run_status, data_dir: Path, json_out: bool) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert run_status(argparse.Namespace(data_dir=str(data_dir), json=json_out)) == 0
    return buf.getvalue()


def test_the_service_gives_the_file_collector_its_probe_folder(data_dir, tmp_path):
    settings = Settings(watch_roots=[str(tmp_path)], collect_apps=False, collect_shell=False)
    service = CollectionService(data_dir, settings)
    (fs,) = service.collectors
    assert fs.probe is not None and fs.probe.folder == str(data_dir / "probe")
    assert fs.probe.every_s == 300 and fs.probe.timeout_s == 5
    # the probe folder is SelFlow's own: excluded from what is recorded
    assert service.privacy.is_excluded(str(data_dir / "probe" / "check-1"))
    built = build_collectors(settings, PrivacyFilter(), fs=True, apps=False, shell=False)
    assert built[0].probe is None  # no probe folder asked for: no check
