"""The main window: docks from the spec list, a View menu toggling them, a saved layout."""

from __future__ import annotations

from selflow_qt.ui.main_window import DOCKS, MainWindow


def test_docks_have_object_names_and_view_menu_toggles(qtbot, shell_state):
    win = MainWindow(shell_state)
    qtbot.addWidget(win)
    win.show()
    assert win.docks, "at least the Live Dashboard exists"
    for dock_id, dock in win.docks.items():
        assert dock.objectName() == f"dock-{dock_id}"
    titles = {a.text(): a for a in win.view_menu.actions()}
    for spec in DOCKS:
        if spec.id in win.docks:
            action = titles[spec.title]
            dock = win.docks[spec.id]
            action.trigger()
            assert dock.isHidden()
            action.trigger()
            assert not dock.isHidden()
        else:
            assert titles[f"{spec.title} (failed to load: see the log)"].isEnabled() is False


def test_layout_is_saved_and_restored_in_the_data_folder(qtbot, shell_state):
    win = MainWindow(shell_state)
    qtbot.addWidget(win)
    win.show()
    win.docks["dashboard"].hide()
    win.save_layout()
    assert (shell_state.data_dir / "layout.ini").exists()
    again = MainWindow(shell_state)
    qtbot.addWidget(again)
    again.show()
    assert again.docks["dashboard"].isHidden()
    assert not win.isHidden()


def test_closing_hides_the_window_when_the_tray_keeps_the_app(qtbot, shell_state):
    win = MainWindow(shell_state, quit_on_close=False)
    qtbot.addWidget(win)
    win.show()
    win.close()
    assert win.isHidden()
    assert (shell_state.data_dir / "layout.ini").exists()


def test_status_bar_shows_the_buffer_fill(qtbot, shell_state):
    from selflow_qt.store.state import buffer_fill

    win = MainWindow(shell_state)
    qtbot.addWidget(win)
    fill = buffer_fill(shell_state.read_db(), shell_state.settings.budget_bytes)
    qtbot.waitUntil(lambda: " of " in win.buffer_bar.format(), timeout=10_000)
    assert win.buffer_bar.format() == f"Buffer: {fill.percent:.1f}% of 64 MB"
    assert win.collection_label.text() == "Collection: off"
