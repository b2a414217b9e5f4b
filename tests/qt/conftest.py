"""Qt tests run offscreen against a real data folder; docks get a real AppState without services."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


# -- UI-docks fixtures ---------------------------------------------------------------------------
def _fill_with_demo(ctx, days: int = 14, seed: int = 3, per_day: int = 800) -> int:
    """Two weeks of the demo generator's events in the store (so trends have a last week)."""
    from selflow_qt.collect.demo import write_demo

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

    from selflow_qt.collect.demo import write_demo

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
    """A demo week with one real analysis run, built once; tests copy it (``analysed_copy``)."""
    cycle = pytest.importorskip("selflow_qt.analyze.cycle")
    from selflow_qt.store.context import StoreContext

    d = tmp_path_factory.mktemp("analysed")
    ctx = StoreContext.open(d)
    _fill_with_demo(ctx, days=7, seed=5, per_day=600)
    cycle.run_cycle(ctx)
    ctx.close()
    return d


@pytest.fixture
def analysed_copy(analysed_dir, tmp_path, monkeypatch):
    """A private copy of the analysed store (tests may write to it)."""
    import shutil

    d = tmp_path / "analysed-data"
    shutil.copytree(analysed_dir, d)
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(d))
    return d
