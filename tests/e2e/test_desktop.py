"""End to end: the real `selflow` app on Xvfb with the trayer system tray, against a demo store.

How each step is driven:
- the tray icon is found in trayer's window tree (xwininfo) and right-clicked with xdotool;
  the menu opens for real, and the Training Center is opened from it with the keyboard;
- the menu's texts are read from the file the test hooks write after every change
  (``SELFLOW_DUMP_TRAY``, tests/support/app_hooks.py) and compared with numbers computed here
  from the SQLite file;
- analysis, a short training and the drop go through the control socket's test hooks (the app
  is started by tests/support/run_app.py, which plugs them in): ``train N`` calls ``AppState.start_training(max_steps=N)`` as the
  Training Center's button does; ``import PATH`` sends a real ``QDropEvent`` carrying the file's
  URL to the Cluster Explorer, so its own drop handler runs (a pointer drag is not scriptable
  under Xvfb without a drag source);
- screenshots: the whole X screen and in-app grabs, both taken by the app through Qt
  (``grab screen PATH``: ``QScreen.grabWindow``), in tests/artifacts/.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


def sql(db: Path, query: str, params: tuple = ()) -> list:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def today_counts(db: Path) -> tuple[int, int]:
    """(events today, file operations today), local day, computed row by row."""
    today = datetime.now().astimezone().date()
    events = fs = 0
    for ts, tz, source in sql(db, "SELECT ts, tz_offset, source FROM events"):
        if datetime.fromtimestamp(ts + tz * 60, tz=timezone.utc).date() == today:
            events += 1
            fs += source == "fs"
    return events, fs


def flat(menu: list, out: dict | None = None) -> dict:
    """{text: True} for leaves and {title: children} for submenus, all levels in one dict."""
    out = {} if out is None else out
    for entry in menu:
        if isinstance(entry, dict):
            for title, children in entry.items():
                out[title] = children
                flat(children, out)
        else:
            out[entry] = True
    return out


def tray_icon_window(x) -> str | None:
    """The id of SelFlow's icon window embedded in trayer's panel, if there is one."""
    lines = x.tree().splitlines()
    inside = False
    for line in lines:
        if '"panel": ("panel" "trayer")' in line:
            inside = True
        elif inside and '"SelFlow": ("selflow" "SelFlow")' in line:
            return line.split()[0]
    return None


def test_tray_menu_values_match_the_store(demo_app, x_display, artifacts_dir):
    app, db = demo_app, demo_app.data_dir / "selflow.db"
    icon = wait_for(lambda: tray_icon_window(x_display), 30, "SelFlow's icon inside trayer")
    # live collection: once the fs collector watches, files made now are today's events
    wait_for(
        lambda: any(
            c[0] == "fs" and c[1] == "running" and "watching" in c[2]
            for c in (app.state()["collection"] or {}).get("collectors", [])
        ),
        60,
        "the fs collector to watch its folder",
    )
    for i in range(5):
        (app.watched / f"note-{i}.md").write_text(f"draft {i}\n")
    wait_for(lambda: today_counts(db)[1] >= 5, 30, "the collector to record the new files")
    time.sleep(1.5)  # let the writer's last batch land before the menu reads
    before = app.dump.stat().st_mtime if app.dump.exists() else 0
    x_display.run("xdotool", "mousemove", "--window", icon, "5", "5", "click", "3")
    wait_for(
        lambda: app.dump.exists() and app.dump.stat().st_mtime > before,
        20,
        "a menu refresh on open",
    )
    time.sleep(0.5)
    app.screenshot(artifacts_dir / "e2e-tray-menu.png")
    x_display.run("xdotool", "key", "Escape")

    events, fs = today_counts(db)
    menu = flat(app.menu_dump()["menu"])
    assert f"Live Dashboard ({events:,} events today)" in menu
    assert f"File Operations: {fs:,} today" in menu
    fill = sql(db, "SELECT json_extract(value, '$.bytes') FROM kv_state WHERE key = 'buffer'")[0][0]
    assert f"Data: {100 * fill / (64 * 1024 * 1024):.1f}% full" in menu
    unread = sql(db, "SELECT count(*) FROM notifications WHERE NOT read")[0][0]
    assert f"Notifications ({unread} new)" in menu
    active = sql(db, "SELECT count(*) FROM micro_agents WHERE is_active")[0][0]
    training = sql(db, "SELECT count(*) FROM training_sessions WHERE status = 'training'")[0][0]
    assert f"Micro-Agents ({active} active, {training} training)" in menu


def test_training_center_opens_from_the_tray_menu(demo_app, x_display):
    app = demo_app
    icon = tray_icon_window(x_display)

    def open_through_the_menu(settle_s: float) -> bool:
        x_display.run("xdotool", "mousemove", "--window", icon, "5", "5", "click", "3")
        time.sleep(settle_s)
        # Live Dashboard, Explorer, Today's Activity, Micro-Agents, Training Center -> Data: X%
        for key in ["Down"] * 5 + ["Right", "Return"]:
            x_display.run("xdotool", "key", key)
            time.sleep(0.15 + settle_s / 8)
        try:
            wait_for(lambda: "training" in app.state()["visible_docks"], 10, "the dock")
            return True
        except AssertionError:
            x_display.run("xdotool", "key", "Escape")  # keys typed before the menu was up
            return False

    # On a loaded machine the menu may pop up after the first keys: then try again, slower.
    assert any(open_through_the_menu(s) for s in (0.8, 2.0, 4.0)), "the Training Center dock"
    assert app.state()["window_visible"] is True


def test_analysis_then_a_short_training_from_the_ui(demo_app, x_display, artifacts_dir):
    app, db = demo_app, demo_app.data_dir / "selflow.db"
    # On a fresh demo store the first analysis may already have started by itself (cold start).
    assert app.command("analyze") in ("ok", "error busy")
    st = wait_for(
        lambda: (s := app.state()) and (s["analyses"] or s["errors"]) and s,
        200,
        "the analysis cycle",
    )
    assert not st["errors"], st["errors"]
    from selflow_qt.store.models import AnalysisRun

    table = AnalysisRun._meta.table_name
    run = sql(db, f"SELECT id, metrics FROM {table} WHERE status='completed' ORDER BY id DESC")
    assert run, "a completed analysis run is stored"
    hdbscan = json.loads(run[0][1])["algorithms"]["hdbscan"]["clusters"]
    wait_for(
        lambda: (
            f"Advanced Pattern Explorer (HDBSCAN: {hdbscan} pattern{'' if hdbscan == 1 else 's'})"
            in flat(app.menu_dump()["menu"])
        ),
        30,
        "the tray to show the analysis",
    )
    queued = sql(db, "SELECT id FROM training_sessions WHERE status = 'queued' ORDER BY id")
    if not queued:  # the analysis found nothing worth an agent: queue one as the Train button does
        pattern = sql(db, "SELECT id FROM patterns ORDER BY event_count DESC LIMIT 1")[0][0]
        assert app.command(f"queue-training {pattern}") == "ok"
        queued = wait_for(
            lambda: sql(db, "SELECT id FROM training_sessions WHERE status = 'queued'"),
            20,
            "a queued session",
        )
    session = queued[0][0]
    assert app.command(f"train 4 {session}") == "ok"
    st = wait_for(
        lambda: (s := app.state()) and s["trainings"] and s, 480, "the training to finish"
    )
    done = st["trainings"][-1]
    assert done["status"] == "completed", done
    row = sql(
        db, "SELECT status, final_loss FROM training_sessions WHERE id = ?", (done["session_id"],)
    )
    assert row[0][0] == "completed" and row[0][1] is not None
    assert st["progress_count"] > 0
    assert st["loss_points_drawn"] > 0
    assert app.command(f"grab dock:training {artifacts_dir / 'e2e-training-center.png'}") == "ok"
    app.screenshot(artifacts_dir / "e2e-screen-after-training.png")


def test_dropping_a_jsonl_file_imports_it(demo_app, artifacts_dir, tmp_path):
    app, db = demo_app, demo_app.data_dir / "selflow.db"
    f = tmp_path / "dropped.jsonl"
    t = time.time() - 600
    f.write_text(
        "\n".join(
            json.dumps(
                {"ts": t + i, "source": "shell", "action": "command", "cmd": f"make step{i}"}
            )
            for i in range(30)
        )
        + "\n"
    )
    before = sql(db, "SELECT count(*) FROM events")[0][0]
    assert app.command(f"import {f}") == "ok"
    st = wait_for(lambda: (s := app.state()) and s["imports"] and s, 60, "the import")
    assert st["imports"][-1]["imported"] == {str(f): 30}
    assert sql(db, "SELECT count(*) FROM events WHERE cmd LIKE 'make step%'")[0][0] == 30
    assert sql(db, "SELECT count(*) FROM events")[0][0] >= before + 30
    assert app.command(f"grab window {artifacts_dir / 'e2e-main-window.png'}") == "ok"
    for key in ("today", "agents", "up-next", "training"):
        assert app.command(f"grab menu:{key} {artifacts_dir / f'e2e-tray-menu-{key}.png'}") == "ok"
