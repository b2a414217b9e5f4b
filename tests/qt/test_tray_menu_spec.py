"""The tray menu's data spec on its own: unique keys, texts for any snapshot, real docks."""

from __future__ import annotations

from selflow_qt.store.queries.tray import AgentLine, HotPattern, TraySnapshot
from selflow_qt.ui.main_window import DOCKS
from selflow_qt.ui.tray.menu import MENU_SPEC, SEP, Item, MenuData, Rows, Sub


def _walk(spec):
    for node in spec:
        if node is SEP:
            continue
        yield node
        if isinstance(node, Sub):
            yield from _walk(node.children)


def _text(node, data: MenuData) -> str:
    t = node.title if isinstance(node, Sub) else node.text
    return t(data) if callable(t) else t


def _full_snapshot() -> TraySnapshot:
    return TraySnapshot(
        events_today=1234, hdbscan_patterns=4, patterns_total=5,
        hot=[HotPattern(1, "coding", 0.9, 40, 400)], file_ops_today=12,
        file_ops_by_action={"modify": 12}, focus_seconds=3 * 3600 + 300,
        workflow_efficiency=0.42, agents=[AgentLine("agent-p1", "coding", 0.8, 10, "")],
        training={"queued": 1, "training": 1}, buffer_percent=12.5, analysis_runs=3,
        consensus_score=0.91, notifications_unread=2,
        notifications=[{"id": 1, "title": "New pattern", "body": "coding"}],
    )  # fmt: skip


def test_keys_are_unique():
    keys = [n.key for n in _walk(MENU_SPEC)]
    assert len(keys) == len(set(keys))


def test_every_dock_command_names_a_real_dock():
    docks = {d.id for d in DOCKS}
    commands = [n.command for n in _walk(MENU_SPEC) if isinstance(n, (Item, Rows)) and n.command]
    dock_commands = [c.split(":", 1)[1] for c in commands if c.startswith("dock:")]
    assert dock_commands and set(dock_commands) <= docks


def test_texts_render_for_an_empty_and_a_full_snapshot():
    for snap in (TraySnapshot(), _full_snapshot()):
        data = MenuData(snap)
        for node in _walk(MENU_SPEC):
            if isinstance(node, Rows):
                rows = node.rows(data)
                assert all(isinstance(r[0], str) and r[0] for r in rows)
            else:
                assert _text(node, data).strip()
    full = MenuData(_full_snapshot())
    texts = {n.key: _text(n, full) for n in _walk(MENU_SPEC) if not isinstance(n, Rows)}
    assert texts["dashboard"] == "Live Dashboard (1,234 events today)"
    assert texts["focus"] == "Focus Time: 3h 05m"
    assert texts["efficiency"] == "Workflow Efficiency: 42%"


def test_one_of_a_kind_reads_in_the_singular():
    """A first day has one pattern and, early on, one event: '1 pattern', '1 event today'."""
    snap = TraySnapshot(events_today=1, hdbscan_patterns=1, patterns_total=1)
    data = MenuData(snap)
    texts = {n.key: _text(n, data) for n in _walk(MENU_SPEC) if not isinstance(n, Rows)}
    assert texts["dashboard"] == "Live Dashboard (1 event today)"
    assert texts["explorer"] == "Advanced Pattern Explorer (HDBSCAN: 1 pattern)"
