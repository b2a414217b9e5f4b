"""Every text a user reads after a real analysis: in words, plural-correct, whole, not clipped.

Walks the tray menu and every dock of the main window (offscreen, at its default size) over a
real demo analysis with a trained agent's records, counts the offending strings
(tests/support/text_check.py) and saves a screenshot of each dock and of the tray menu.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from text_check import menu_texts, offences, widget_texts

from selflow_qt.store.models import MicroAgent, Notification, Pattern
from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.state import AppState
from selflow_qt.ui.tray.icon import TrayController
from selflow_qt.workers import jobs
from selflow_qt.workers.worker import Worker

SAMPLE = Path(__file__).parents[1] / "unit" / "analyze" / "data" / "games-sample.jsonl"


def _settle(qtbot, state) -> None:
    """Let every dock's read job finish and its result be drawn."""
    for _ in range(3):
        qtbot.waitUntil(lambda: Worker.wait_all(100) and state.pool.activeThreadCount() == 0,
                        timeout=30_000)  # fmt: skip
        qtbot.wait(200)


def _dialogs(state) -> list:
    """The first-start welcome (a history to import, the shell hook) and the Settings dialog."""
    from selflow_qt.core.autostart import Autostart
    from selflow_qt.ui.settings_dialog import SettingsDialog
    from selflow_qt.ui.welcome import WelcomeDialog

    info = jobs.FirstRun(True, [(str(Path.home() / ".bash_history"), 203)])
    login = Autostart(platform="linux", home=state.data_dir / "home")
    return [
        ("welcome", WelcomeDialog(state, info)),
        ("settings", SettingsDialog(state, autostart=login)),
    ]


def _trained_agent(state) -> None:
    """What a finished training leaves: the agent's row and its notification."""
    pattern = Pattern.select().order_by(Pattern.event_count.desc()).first()
    MicroAgent.create(
        model_id=f"agent-p{pattern.id}-5b125d54", pattern_id=pattern.id,
        specialization=pattern.name, success_rate=0.23, total_queries=1,
    )  # fmt: skip
    jobs.note_training(
        SimpleNamespace(session_id=1, status="completed", model_id=f"agent-p{pattern.id}-5b125d54",
                        final_loss=1.234, error=None)
    )  # fmt: skip


@pytest.fixture(scope="module")
def imported_history_dir(tmp_path_factory):
    """A first day: a plain bash history (453 lines of nine students' sessions of four games,
    no times) imported with `selflow import shell` and analysed once (few workflow units)."""
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.collect.importers import import_file
    from selflow_qt.store.context import StoreContext

    d = tmp_path_factory.mktemp("history")
    lines = [json.loads(x)["cmd"] for x in SAMPLE.read_text().splitlines() if x.strip()]
    path = d / ".bash_history"
    path.write_text("".join(f"{c}\n" for c in lines), encoding="utf-8")
    ctx = StoreContext.open(d / "data")
    try:
        assert import_file(ctx, "shell", path).imported == len(lines)
        run_cycle(ctx)
    finally:
        ctx.close()
    return d / "data"


@pytest.fixture(params=["demo-analysis", "imported-history"])
def analysed_store(request, tmp_path, analysed_copy):
    if request.param == "demo-analysis":
        return request.param, analysed_copy
    d = tmp_path / "history-data"
    shutil.copytree(request.getfixturevalue("imported_history_dir"), d)
    return request.param, d


def test_every_shown_text_is_in_words_and_fits(qtbot, analysed_store, artifacts_dir):
    kind, folder = analysed_store
    state = AppState(folder, start_services=False)
    try:
        _trained_agent(state)
        window = MainWindow(state)
        qtbot.addWidget(window)
        window.show()
        tray = TrayController(state, window, app_icon(), show_icon=False)
        with qtbot.waitSignal(tray.refreshed, timeout=20_000):
            tray.refresh()
        tray.timer.stop()
        whole = [f"{n.title}: {n.body}" for n in Notification.select()]
        whole += [n.body for n in Notification.select()] + [p.name for p in Pattern.select()]
        shown = menu_texts(tray.menu.texts())
        clipped = []
        shots = artifacts_dir / "text_check" / kind
        shots.mkdir(parents=True, exist_ok=True)
        for dock_id, dock in window.docks.items():
            dock.show()
            dock.raise_()
            _settle(qtbot, state)
            texts, cut = widget_texts(dock.widget(), dock_id)
            shown += texts
            clipped += cut
            dock.widget().grab().save(str(shots / f"{dock_id}.png"))
        shown += [("status bar", w.text()) for w in (window.collection_label,)]
        for name, dialog in _dialogs(state):
            qtbot.addWidget(dialog)
            dialog.show()
            qtbot.wait(50)
            texts, cut = widget_texts(dialog, name)
            shown += texts
            clipped += cut
            dialog.grab().save(str(shots / f"{name}.png"))
            dialog.close()
        window.grab().save(str(shots / "window.png"))
        menu = tray.menu.menu
        menu.adjustSize()
        menu.grab().save(str(shots / "tray-menu.png"))
        for key in ("notifications", "agents", "insights"):
            sub = tray.menu.menus[key]
            sub.popup(window.geometry().topLeft())  # laid out as a user sees it
            qtbot.wait(50)
            sub.grab().save(str(shots / f"tray-{key}.png"))
            sub.hide()
        bad = offences(shown, whole) + clipped
        report = "\n".join(str(o) for o in bad)
        (shots / "offences.txt").write_text(f"{len(bad)} offending strings\n{report}\n")
        assert not bad, f"{len(bad)} offending strings:\n{report}"
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_the_tray_spec_reads_in_words_when_every_count_is_one():
    """A first day: one event, one pattern, one agent, one analysis, one of everything."""
    from selflow_qt.store.queries.tray import AgentLine, HotPattern, TraySnapshot
    from selflow_qt.ui.tray.menu import MENU_SPEC, SEP, MenuData, Rows, Sub

    snap = TraySnapshot(
        events_today=1, hdbscan_patterns=None, patterns_total=1,
        hot=[HotPattern(1, "Python coding", 0.9, 1, 1)], file_ops_today=1,
        file_ops_by_action={"modify": 1}, focus_seconds=60, workflow_efficiency=1.0,
        agents=[AgentLine("agent-p1-5b125d54", "Python coding", 1.0, 1, "")],
        training={"queued": 1, "training": 1}, buffer_percent=1.0, analysis_runs=1,
        consensus_score=None, notifications_unread=1,
        notifications=[{"id": 1, "title": "Agent trained: agent-p1-5b125d54",
                        "body": "hit@1 0.23 (best baseline 0.10), MRR 0.30, 12s"}],
    )  # fmt: skip
    suggestion = SimpleNamespace(
        kind="command", cmd="git status", text="git status", predictor="agent-p1-5b125d54"
    )
    data = MenuData(snap, [suggestion])

    def walk(spec):
        for node in spec:
            if node is SEP:
                continue
            if isinstance(node, Rows):
                yield from ((node.key, r[0]) for r in node.rows(data))
                continue
            text = node.title if isinstance(node, Sub) else node.text
            yield node.key, text(data) if callable(text) else text
            if isinstance(node, Sub):
                yield from walk(node.children)

    bad = offences(walk(MENU_SPEC))
    assert not bad, "\n".join(map(str, bad))


def test_the_tray_the_docks_and_selflow_status_count_alike(qtbot, analysed_copy, capsys):
    """One source per figure: analysis runs and the training queue, after a real analysis."""
    from selflow_qt.cli import main as selflow

    state = AppState(analysed_copy, start_services=False)
    try:
        window = MainWindow(state)
        qtbot.addWidget(window)
        window.show()
        tray = TrayController(state, window, app_icon(), show_icon=False)
        with qtbot.waitSignal(tray.refreshed, timeout=20_000):
            tray.refresh()
        tray.timer.stop()
        _settle(qtbot, state)
        runs, queued = tray.data.snap.analysis_runs, tray.data.snap.training.get("queued", 0)
        assert runs == 2 and queued > 0
        assert tray.menu.actions["learning"].text() == "Learning Progress (2 analysis runs)"
        assert tray.menu.actions["queue"].text() == f"Training Queue ({queued} queued)"
        insights = window.docks["insights"].widget()
        assert "2 analysis runs since" in insights.progress_label.text()
        center = window.docks["training"].widget()
        rows = [center.queue_table.item(r, 2).text() for r in range(center.queue_table.rowCount())]
        assert rows.count("queued") == queued
        assert selflow(["--data-dir", str(analysed_copy), "status"]) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("analyses"))
        assert "2 analysis runs, " in line and f"training queue: {queued} queued" in line
    finally:
        state.shutdown(10_000)
        state.ctx.close()
