"""Qt tests run offscreen against a real data folder; docks get a real AppState without services."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_gui_thread():
    """Python's cyclic GC can start on a worker thread and free Qt objects there, which crashes
    (seen as a segfault "Garbage-collecting" inside a read job). In Qt tests it runs only here,
    on the GUI thread, between tests."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()


@pytest.fixture(autouse=True)
def _no_leaks(request, qapp, monkeypatch):
    """Fail a test that leaves visible windows, running timers or busy threads behind (as
    napari's fixtures do). Set up before qtbot, so this runs after qtbot closed its widgets."""
    import threading

    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from selflow_qt.workers.worker import Worker

    before_widgets = {id(w) for w in QApplication.topLevelWidgets()}
    before_threads = set(threading.enumerate())
    timers: list[QTimer] = []
    real_start = QTimer.start

    def tracked_start(self, *args):
        timers.append(self)
        return real_start(self, *args)

    monkeypatch.setattr(QTimer, "start", tracked_start)
    yield
    monkeypatch.undo()
    Worker.wait_all(30_000)
    QThreadPool.globalInstance().waitForDone(30_000)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    problems = []
    windows = [
        w.objectName() or type(w).__name__
        for w in QApplication.topLevelWidgets()
        if id(w) not in before_widgets and w.isVisible()
    ]
    if windows:
        problems.append(f"windows left open: {windows}")
    running = []
    for t in timers:
        try:
            if t.isActive():
                running.append(t.objectName() or repr(t.parent()))
                t.stop()
        except RuntimeError:  # already deleted with its owner: not a leak
            pass
    if running:
        problems.append(f"timers left running: {running}")
    threads = [
        t.name
        for t in threading.enumerate()
        if t not in before_threads and t.is_alive() and not t.daemon
    ]
    if threads:
        problems.append(f"threads left running: {threads}")
    if problems and not request.node.get_closest_marker("allow_leaks"):
        pytest.fail("; ".join(problems), pytrace=False)


# -- UI-docks fixtures ---------------------------------------------------------------------------
def _fill_with_demo(ctx, days: int = 15, seed: int = 3, per_day: int = 800) -> int:
    """Two weeks and a day of demo events ending now (so trends have a whole last week at any
    hour: the demo's first day starts in the morning)."""
    from selflow_qt.demo.generator import write_demo

    return write_demo(ctx, days, seed, events_per_day=per_day)


@pytest.fixture
def docks_state(qtbot, data_dir):
    """A real AppState (no background services) on a store filled by the demo generator."""
    from selflow_qt.ui.state import AppState

    state = AppState(data_dir, start_services=False)
    _fill_with_demo(state.ctx)
    yield state
    state.shutdown(10_000)
    state.ctx.close()


# -- UI-shell fixtures ---------------------------------------------------------------------------
def demo_through_today(ctx, days: int = 2, seed: int = 5) -> int:
    """Demo events for the last ``days`` local days, today included (so "today" has data)."""
    from datetime import datetime, timedelta

    from selflow_qt.demo.generator import write_demo

    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = (midnight - timedelta(days=days - 1)).timestamp()
    return write_demo(ctx, days, seed, start=start)


@pytest.fixture
def shell_state(qtbot, data_dir):
    """A real AppState (no background services) on a demo store whose last day is today."""
    from selflow_qt.ui.state import AppState

    state = AppState(data_dir, start_services=False)
    demo_through_today(state.ctx)
    yield state
    state.shutdown(10_000)
    state.ctx.close()


@pytest.fixture(scope="session")
def analysed_dir(tmp_path_factory):
    """Two demo weeks with two real analysis runs (the first week, then all), built once.

    Tests work on a private copy (``analysed_copy``).
    """
    from selflow_qt.analyze import cycle
    from selflow_qt.store.context import StoreContext

    d = tmp_path_factory.mktemp("analysed")
    ctx = StoreContext.open(d)
    _fill_with_demo(ctx, days=15, seed=5, per_day=400)
    first, last = ctx.db.execute_sql("SELECT min(ts), max(ts) FROM events").fetchone()
    cycle.run_cycle(ctx, until=(first + last) / 2)
    cycle.run_cycle(ctx)
    ctx.close()
    return d


def replay_suggestions(state, n_events: int = 480, seed: int = 11) -> int:
    """Run the real SuggestionService while a further demo day is written, 4 events at a time;
    returns how many suggestions were scored. (Its clock follows the replayed events.)"""
    from selflow_qt.agents.serving import serving
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.writer import insert_events

    db = state.read_db()
    last_ts = db.execute_sql("SELECT max(ts) FROM events").fetchone()[0]
    replay = list(generate_demo(1, seed=seed, start=last_ts + 60, events_per_day=600))[:n_events]
    now = [last_ts]
    svc = serving.SuggestionService(state.data_dir, clock=lambda: now[0], seed=1)
    for i in range(0, len(replay), 4):
        chunk = replay[i : i + 4]
        with db.atomic():
            insert_events(db, chunk)
        now[0] = chunk[-1].ts
        svc.resolve_pending()
        svc.suggest(k=5)
    now[0] += 3 * 3600
    svc.resolve_pending()
    return db.execute_sql(
        "SELECT count(*) FROM user_interactions WHERE success IS NOT NULL"
    ).fetchone()[0]


@pytest.fixture
def replay():
    return replay_suggestions


@pytest.fixture
def analysed_copy(analysed_dir, tmp_path, monkeypatch):
    """A private copy of the analysed store (tests may write to it)."""
    import shutil

    d = tmp_path / "analysed-data"
    shutil.copytree(analysed_dir, d)
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(d))
    return d


FAST_TRAINING = {"max_steps": 3, "batch_size": 4, "eval_every": 100, "max_val": 8}


@pytest.fixture
def fast_training(shell_state, smollm_dir):
    """The shell state set up for short trainings on the real model."""
    s = shell_state.settings
    s.base_model = str(smollm_dir)
    s.train_config = dict(FAST_TRAINING)
    s.eval_positions = 4
    s.lm_positions = 2  # each is a model scoring and a written line
    s.save(shell_state.data_dir)
    return shell_state
