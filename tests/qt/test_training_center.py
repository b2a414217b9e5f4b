"""Training Center dock on a real store: buffer, queue, live loss curve, ranking, clustering."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from selflow_qt.store.models import TrainingSession
from selflow_qt.store.state import buffer_fill


def _progress_type():
    try:
        from selflow_qt.agents.runner import TrainingProgress

        return TrainingProgress
    except ModuleNotFoundError:

        @dataclass
        class TrainingProgress:  # the contract's fields, until agents.runner exists
            session_id: int
            step: int
            total_steps: int
            loss: float
            tokens_per_s: float
            eta_s: float
            epoch: float
            val_loss: float | None = None

        return TrainingProgress


@pytest.fixture
def center(qtbot, docks_state):
    from selflow_qt.ui.training_center import TrainingCenterDock

    dock = TrainingCenterDock(docks_state)
    qtbot.addWidget(dock)
    dock.resize(1100, 820)
    dock.show()
    qtbot.waitUntil(lambda: dock.data is not None, timeout=20_000)
    return dock


def test_buffer_bar_shows_the_store_fill(center, docks_state):
    fill = buffer_fill(docks_state.read_db(), docks_state.settings.budget_bytes)
    assert fill.events > 0
    assert center.data.buffer.events == fill.events
    assert center.buffer_bar.value() == int(min(1.0, fill.percent / 100) * 1000)
    assert f"{fill.percent:.1f}%" in center.buffer_bar.format()
    assert f"{fill.events:,} events" in center.buffer_label.text()


def test_queue_lists_queued_sessions_and_train_now_starts_the_selected_one(
    qtbot, center, docks_state, monkeypatch
):
    for name in ("coding", "writing"):
        TrainingSession.create(
            model_id=f"agent-{name}",
            status="queued",
            metadata={
                "pattern_id": 1,
                "pattern_name": name,
                "reason": "new pattern",
                "sequences": 40,
            },
        )
    docks_state.refresh()
    qtbot.waitUntil(lambda: center.queue_table.rowCount() == 2, timeout=10_000)
    assert center.queue_table.item(1, 1).text() == "writing"
    started: list = []
    monkeypatch.setattr(
        docks_state, "start_training", lambda sid=None, max_steps=None: started.append(sid)
    )
    center.queue_table.selectRow(1)
    center.train_button.click()
    assert started == [center.data.queue[1].session_id]


def test_loss_curve_gets_every_emitted_progress_value(qtbot, center, docks_state):
    TrainingProgress = _progress_type()
    docks_state.trainingStarted.emit(7)
    losses = [2.5, 2.1, 1.8, 1.6, 1.45]
    for step, loss in enumerate(losses, start=1):
        docks_state.trainingProgress.emit(
            TrainingProgress(
                session_id=7,
                step=step,
                total_steps=10,
                loss=loss,
                tokens_per_s=1234.0,
                eta_s=30.0 - step,
                epoch=step / 10,
                val_loss=None if step < 5 else 1.7,
            )  # fmt: skip
        )
    xs, ys = center.loss_curve.data()
    assert xs.tolist() == [1, 2, 3, 4, 5] and ys.tolist() == losses
    assert center.val_curve.data()[1].tolist() == [1.7]
    # The plot item itself is updated on the next throttled tick.
    qtbot.waitUntil(
        lambda: center.loss_curve.item.yData is not None and len(center.loss_curve.item.yData) == 5,
        timeout=2_000,
    )
    assert center.loss_curve.item.yData.tolist() == losses
    assert center.training_bar.value() == 5 and center.training_bar.maximum() == 10
    assert "1,234 tokens/s" in center.tps_label.text()
    assert center.cancel_button.isEnabled()
