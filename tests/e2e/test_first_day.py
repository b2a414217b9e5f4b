"""End to end, a new user's first start: welcome -> history import -> named patterns.

The real app on Xvfb with trayer, an empty data folder and a home folder whose bash history is
what most users have: about 200 plain lines without timestamps (bash's default), seven routines
of everyday work (git, containers, ssh deploys, dotfiles, notes, data, backups), each sat at
twice. The welcome window is found with xdotool and answered with the keyboard (Return on its
default button, "Import and analyse"); no test hook is involved until the results are read: at
least four named patterns, none holding half the history. Screenshots of the welcome window, the
live Training Center and the main window after the import go to tests/artifacts/ (to
docs/screenshots/ with SELFLOW_UPDATE_SCREENSHOTS=1, or to the folder SELFLOW_E2E_SHOTS names).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

# SELFLOW_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots; otherwise they go to tests/artifacts
UPDATE_DOCS = bool(os.environ.get("SELFLOW_UPDATE_SCREENSHOTS"))
SCREENSHOTS = Path(
    os.environ.get("SELFLOW_E2E_SHOTS")
    or Path(__file__).resolve().parents[2]
    / ("docs/screenshots" if UPDATE_DOCS else "tests/artifacts")
)


def write_bash_history(home: Path) -> int:
    """~/.bash_history as bash writes it by default (no timestamps): ~200 lines, seven routines
    each sat at twice (the same history the analysis tests use)."""
    from tests.unit.analyze.test_untimed_patterns import seven_routine_history

    cmds, _ = seven_routine_history()
    (home / ".bash_history").write_text("\n".join(cmds) + "\n", encoding="utf-8")
    return len(cmds)


def sql(db: Path, query: str) -> list:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def find_window(x, name: str) -> str | None:
    out = x.run("xdotool", "search", "--name", name, check=False).split()
    return out[-1] if out else None


@pytest.fixture
def first_start(x_display, tmp_path, artifacts_dir, app_launcher):
    start_app, stop_app, _ = app_launcher
    home, data_dir = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    n = write_bash_history(home)
    app = start_app(
        x_display,
        data_dir,
        home,
        artifacts_dir,
        env_extra={"HOME": str(home), "XDG_DATA_HOME": str(home / ".local/share")},
        log_name="e2e-first-day.log",
    )
    try:
        wait_for(
            lambda: app.proc.poll() is not None or "tray icon shown" in app.log_text(),
            90,
            "the tray icon",
        )
        assert app.proc.poll() is None, app.log_text()
        yield app, n
    finally:
        code = stop_app(app)
        assert code == 0, app.log_text()[-3000:]


def test_first_start_welcome_history_import_names_patterns(first_start, x_display):
    app, n_history = first_start
    db = app.data_dir / "selflow.db"
    assert not (app.data_dir / "settings.json").exists()  # a real first start
    win = wait_for(lambda: find_window(x_display, "Welcome to SelFlow"), 60, "the welcome window")
    time.sleep(1.0)  # let it paint
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.screenshot(SCREENSHOTS / "welcome.png", window=win)
    # the live Training Center before anything is learned: what the first analysis waits for
    assert app.command("dock training") == "ok"
    time.sleep(4.0)  # the app's trigger check answers on a worker; let it paint
    before = SCREENSHOTS / "first_day_training_center.png"
    assert app.command(f"grab dock:training {before}") == "ok"
    # the keyboard answers it: Return presses the default button, "Import and analyse"
    x_display.run("xdotool", "windowfocus", "--sync", win)
    x_display.run("xdotool", "key", "Return")
    wait_for(lambda: app.state()["imports"], 60, "the history import")
    imported = app.state()["imports"][0]
    assert imported["total"] >= 0.9 * n_history, imported
    wait_for(lambda: not find_window(x_display, "Welcome to SelFlow"), 10, "the welcome to close")
    settings = json.loads((app.data_dir / "settings.json").read_text())
    assert settings["welcome_done"] is True  # it never comes back
    # the import is analysed at once: named patterns on day one, each announced
    wait_for(lambda: app.state()["analyses"] or app.state()["errors"], 240, "the first analysis")
    assert not app.state()["errors"], app.state()["errors"]
    patterns = sql(db, "SELECT name, event_count FROM patterns ORDER BY id")
    names = [name for name, _ in patterns]
    assert len(names) >= 4 and all(name.strip() for name in names), patterns
    assert max(count for _, count in patterns) <= 0.5 * n_history, patterns  # no catch-all
    # named by their tools and folders ("git and pytest in ~/src/shop"), not by a category
    assert len(set(names)) == len(names), names
    assert not any(n.startswith(("Coding", "System administration")) for n in names), names
    notes = [r[0] for r in sql(db, "SELECT title FROM notifications WHERE kind = 'pattern'")]
    assert {f"New pattern: {name}" for name in names} <= set(notes)
    run = sql(db, "SELECT trigger, status FROM analysis_runs ORDER BY id DESC LIMIT 1")[0]
    assert run == ("import", "completed")
    # the tray shows them, and offers Import... and Run analysis now
    wait_for(
        lambda: (
            app.dump.exists()
            and any("New pattern" in json.dumps(m) for m in app.menu_dump()["menu"])
        ),
        60,
        "the new patterns in the tray's notifications",
    )
    menu = json.dumps(app.menu_dump()["menu"], ensure_ascii=False)
    assert "Import…" in menu and "Run analysis now" in menu and "Pause collection" in menu
    # what the user sees after the import: the window opens by itself on the patterns found
    opened = wait_for(
        lambda: (st := app.state())["window_visible"] and "clusters" in st["visible_docks"] and st,
        30,
        "the window on the Cluster Explorer",
    )
    assert opened["window_visible"]
    after = SCREENSHOTS / "first_day_after_import.png"
    assert app.command(f"grab window {after}") == "ok"
    assert after.stat().st_size > 10_000
    explorer = SCREENSHOTS / "first_day_patterns_after_import.png"
    assert app.command(f"grab dock:clusters {explorer}") == "ok"
    # the live Training Center after the first analysis
    assert app.command("dock training") == "ok"
    time.sleep(2.0)  # its read runs on a worker; let the answer paint
    shot = SCREENSHOTS / "first_day_training_center_after_import.png"
    assert app.command(f"grab dock:training {shot}") == "ok"
    assert shot.stat().st_size > 10_000
