"""Fixtures of the analysis tests: a demo week analysed once per module (it takes seconds)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

START = datetime(2026, 11, 16).timestamp()  # a Monday, local midnight


def open_demo_store(data_dir: Path, days: int, events_per_day: int | None = None, seed: int = 0):
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(data_dir)
    ctx.settings.analysis_umap = "off"  # the 2-D view does not change clusters; keep tests lean
    write_demo(ctx, days=days, seed=seed, start=START, events_per_day=events_per_day)
    return ctx


@pytest.fixture(scope="module")
def demo_week(tmp_path_factory):
    """(ctx, CycleResult) of one cycle on the default 7-day demo (17,500 events)."""
    from selflow_qt.analyze.cycle import run_cycle

    ctx = open_demo_store(tmp_path_factory.mktemp("week"), days=7)
    result = run_cycle(ctx)
    yield ctx, result
    ctx.close()


@pytest.fixture
def open_demo():
    """open_demo(data_dir, days, events_per_day=None, seed=0) -> a StoreContext with demo events."""
    return open_demo_store
