"""The tray, the status bar and the Live Dashboard say which collector stopped seeing events and
why, in one line (the same line `selflow status` prints)."""

from __future__ import annotations

import time

from selflow_qt.collect import fs as fs_mod
from selflow_qt.store.queries.tray import TraySnapshot
from selflow_qt.ui.docks.dashboard import DashboardDock
from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController
from selflow_qt.ui.tray.menu import MENU_SPEC, Item, MenuData
from selflow_qt.workers.jobs import CollectionState

FS_LINE = (
    "File capture stopped: a test change in /d/probe was not seen within 5 s"
    " (the file watcher delivers nothing)"
)


def _collection_text(cs: CollectionState | None) -> str:
    (item,) = [n for n in MENU_SPEC if isinstance(n, Item) and n.key == "collection"]
    return item.text(MenuData(TraySnapshot(), collection=cs))


def test_the_tray_spec_line_names_the_collector_that_stopped_and_why():
    stalled = CollectionState(
        running=True,
        written=12,
        collectors=[("fs", "stalled", FS_LINE), ("apps", "running", "3 apps running")],
    )
    assert _collection_text(stalled) == FS_LINE
    two = CollectionState(
        running=True,
        collectors=[("fs", "stalled", FS_LINE), ("shell", "error", "OSError: gone")],
    )
    assert _collection_text(two) == FS_LINE + " (and 1 more problem)"
    assert two.problems == [FS_LINE, "Shell capture stopped: OSError: gone"]
    fine = CollectionState(
        running=True,
        written=1,
        collectors=[("fs", "running", "watching /w"), ("shell", "running", "tailing /h")],
    )
    assert _collection_text(fine) == "Collection: running (fs, shell), 1 event written"
    assert _collection_text(CollectionState(running=False)) == "Collection: stopped"
    assert _collection_text(None) == "Collection: not running"
    failed = CollectionState(running=False, error="database is locked")
    assert _collection_text(failed) == "Collection stopped: database is locked"


def test_tray_status_bar_and_dashboard_show_the_line(qtbot, shell_state, monkeypatch):
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    dock = DashboardDock(shell_state)
    qtbot.addWidget(dock)
    ctl = TrayController(shell_state, window, app_icon(), show_icon=False)
    told: list[tuple[str, str]] = []
    monkeypatch.setattr(ctl, "show_message", lambda title, body: told.append((title, body)))
    try:
        stalled = CollectionState(running=True, collectors=[("fs", "stalled", FS_LINE)])
        shell_state.collectionChanged.emit(stalled)
        assert ctl.menu.actions["collection"].text() == FS_LINE
        assert ctl.tooltip().splitlines()[-1] == FS_LINE
        assert window.collection_label.text() == FS_LINE
        assert dock.collection_problem.text() == FS_LINE
        assert not dock.collection_problem.isHidden()
        assert told == [("File capture stopped", FS_LINE.split(": ", 1)[1])]
        shell_state.collectionChanged.emit(stalled)  # still stalled: told once
        assert len(told) == 1
        fine = CollectionState(running=True, collectors=[("fs", "running", "watching /w")])
        shell_state.collectionChanged.emit(fine)
        assert ctl.menu.actions["collection"].text().startswith("Collection: running (fs)")
        assert "\n" not in ctl.tooltip()
        assert dock.collection_problem.isHidden()
    finally:
        ctl.timer.stop()
        dock.timer.stop()


class _Nothing:
    def dispatch(self, event) -> None:
        pass


def test_a_watcher_that_delivers_nothing_reaches_the_tray(
    qtbot, shell_state, tmp_path, monkeypatch
):
    """The real collection job on a real observer that hands nothing on, as watchdog 7.1.1 did to
    the old watcher: the tray says file capture stopped, within the probe's few seconds."""
    real = fs_mod.make_observer

    def deaf(is_excluded):
        observer = real(is_excluded)
        schedule = observer.schedule
        observer.schedule = lambda handler, path, recursive=True: schedule(
            _Nothing(), path, recursive
        )
        return observer

    monkeypatch.setattr(fs_mod, "make_observer", deaf)
    root = tmp_path / "w"
    root.mkdir()
    s = shell_state.settings
    s.watch_roots, s.collect_apps, s.collect_shell = [str(root)], False, False
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    ctl = TrayController(shell_state, window, app_icon(), show_icon=False)
    monkeypatch.setattr(ctl, "show_message", lambda title, body: None)
    try:
        t0 = time.monotonic()
        shell_state.start_collection()
        qtbot.waitUntil(
            lambda: ctl.menu.actions["collection"].text().startswith("File capture stopped"),
            timeout=30_000,
        )
        took = time.monotonic() - t0
        probe = shell_state.data_dir / "probe"
        line = (
            f"File capture stopped: a test change in {probe} was not seen within 5 s"
            " (the file watcher delivers nothing)"
        )
        assert ctl.menu.actions["collection"].text() == line
        assert window.collection_label.text() == line
        assert took < 5 + 5 + 10  # the probe's timeout, a progress report, a loaded machine
    finally:
        shell_state.stop_collection()
        ctl.timer.stop()


def test_a_demo_folder_says_collection_is_off_everywhere(qtbot, shell_state):
    """A demo folder never captures: the tray and the status bar say so, not 'starting…'."""
    shell_state.live_capture = False
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    ctl = TrayController(shell_state, window, app_icon(), show_icon=False)
    try:
        line = window.collection_label.text()
        assert line.startswith("Collection: off (a demo data folder")
        assert ctl.menu.actions["collection"].text() == line
    finally:
        ctl.timer.stop()


def test_pausing_reads_alike_in_the_tray_and_the_status_bar(qtbot, shell_state):
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    ctl = TrayController(shell_state, window, app_icon(), show_icon=False)
    try:
        ctl.toggle_collection()
        assert window.collection_label.text().startswith("Collection: paused")
        assert ctl.menu.actions["collection"].text() == window.collection_label.text()
        ctl.toggle_collection()
        assert not window.collection_label.text().startswith("Collection: paused")
    finally:
        ctl.timer.stop()
