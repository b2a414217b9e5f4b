"""Training Center dock on a real store: buffer, queue, live loss curve, ranking, clustering."""

from __future__ import annotations

import pytest
from doc_screenshots import update_doc_screenshot

from selflow_qt.agents.training.runner import TrainingProgress
from selflow_qt.store.models import TrainingSession
from selflow_qt.store.state import buffer_fill


@pytest.fixture
def center(qtbot, docks_state):
    from selflow_qt.ui.docks.training_center import TrainingCenterDock

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


def test_trigger_checks_follow_the_apps_own_check(center, docks_state):
    from selflow_qt.analyze.trigger import evaluate_trigger

    report = evaluate_trigger(docks_state.job_context())
    assert report.criteria
    docks_state.triggerChecked.emit(report)
    for c in report.criteria:
        assert f"{'✔' if c.passed else '✘'} {c.name}" in center.trigger_label.text()


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


def test_the_queue_never_says_nothing_queued_beside_queued_rows(qtbot, center, docks_state):
    """Before the queue runner has looked, the policy line says nothing about the queue (it said
    'nothing queued' above a table of queued sessions); a started training re-reads the queue."""
    sid = TrainingSession.create(
        model_id="agent-coding",
        status="queued",
        metadata={"pattern_id": 1, "pattern_name": "coding", "reason": "new", "sequences": 40},
    ).id
    docks_state.refresh()
    qtbot.waitUntil(lambda: center.queue_table.rowCount() == 1, timeout=10_000)
    assert "nothing queued" not in center.policy_label.text()
    TrainingSession.update(status="running").where(TrainingSession.id == sid).execute()
    docks_state.trainingStarted.emit(sid)
    qtbot.waitUntil(
        lambda: not any(s.status == "queued" for s in center.data.queue), timeout=10_000
    )


def test_loss_curve_gets_every_emitted_progress_value(qtbot, center, docks_state):
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


@pytest.mark.slow
def test_a_real_short_training_draws_its_loss_curve(
    qtbot, analysed_copy, artifacts_dir, smollm_dir
):
    """Train a session queued by a real analysis, in the real child process, from the dock."""
    from selflow_qt.agents.training import runner
    from selflow_qt.ui.docks.training_center import TrainingCenterDock
    from selflow_qt.ui.state import AppState

    state = AppState(analysed_copy, start_services=False)
    # Short: the model converted once per run, a small batch, a small validation set, a short
    # held-out check after training; 7 steps: the picture is taken at 6, mid-run.
    state.settings.base_model = str(smollm_dir)
    state.settings.train_config = {"batch_size": 4, "max_val": 8}
    state.settings.eval_positions = 4
    state.settings.lm_positions = 2  # each is a model scoring and a written line
    state.settings.save(analysed_copy)
    dock = TrainingCenterDock(state)
    qtbot.addWidget(dock)
    dock.resize(1200, 850)
    dock.show()
    try:
        qtbot.waitUntil(lambda: dock.data is not None, timeout=30_000)
        sid = runner.next_queued_session(state.read_db()) or runner.queue_training(state.ctx)
        seen: list = []
        shot = artifacts_dir / "training_center.png"

        def on_progress(p) -> None:
            seen.append(p)
            # One picture mid-run, once the curve has a few points.
            if len(dock.loss_curve) == 6:
                for curve in (dock.loss_curve, dock.live.smooth_curve, dock.val_curve):
                    curve.flush()
                dock.grab().save(str(shot))

        state.trainingProgress.connect(on_progress)
        with qtbot.waitSignal(state.trainingStarted, timeout=60_000):
            assert state.start_training(sid, max_steps=7)
        assert dock.cancel_button.isEnabled()
        with qtbot.waitSignal(state.trainingFinished, timeout=540_000) as finished:
            pass
        outcome = finished.args[0]
        assert outcome.status == "completed", getattr(outcome, "error", "")
        losses = [float(p.loss) for p in seen if p.loss is not None]
        assert len(losses) >= 3
        assert dock.loss_curve.data()[1].tolist() == losses
        assert dock.loss_curve.item.yData is not None and len(dock.loss_curve.item.yData) == len(
            losses
        )
        assert "completed" in dock.training_title.text()
        assert shot.exists()
        update_doc_screenshot(shot, "training_center.png")
    finally:
        state.shutdown(30_000)
        state.ctx.close()


def test_a_cancelled_pattern_can_be_queued_again(qtbot, center, docks_state):
    """Cancel is not forever: the queue offers the cancelled pattern again, and one click
    queues a new session for it (the button goes while it is queued)."""
    from selflow_qt.store.models import Pattern

    pattern = Pattern.create(
        name="Python coding in ~/src/app",
        pattern_type="workflow",
        confidence=0.9,
        event_count=100,
        first_seen=0.0,
        last_seen=0.0,
        clustering_method="consensus",
        metadata={},
    )
    TrainingSession.delete().where(TrainingSession.status == "queued").execute()
    TrainingSession.create(
        model_id="agent-cancelled",
        status="cancelled",
        metadata={"pattern_id": pattern.id, "pattern_name": pattern.name, "reason": "new"},
    )
    docks_state.refresh()
    qtbot.waitUntil(lambda: center.requeue_button.isVisible(), timeout=10_000)
    assert pattern.name in center.requeue_button.text()
    center.requeue_button.click()
    qtbot.waitUntil(
        lambda: any(q.pattern_id == pattern.id for q in (center.data.queue if center.data else [])),
        timeout=20_000,
    )
    qtbot.waitUntil(lambda: not center.requeue_button.isVisible(), timeout=10_000)
    queued = TrainingSession.select().where(TrainingSession.status == "queued")
    assert [(s.metadata or {}).get("pattern_id") for s in queued] == [pattern.id]


def test_a_failed_refit_is_listed_like_a_failed_training(qtbot, center, docks_state, tmp_path):
    """A ranking agent's refit that fails is a failed run in the Training Center (it was only a
    notification and a log nobody looked at)."""
    from selflow_qt.agents.serving.refit import start_refit

    folder = tmp_path / "agent-broken"
    folder.mkdir()  # no ranker state: the refit cannot load the agent
    out = start_refit(docks_state.ctx.data_dir, folder).wait(timeout=120)
    assert out is not None and out.reason == "failed"
    docks_state.refresh()
    qtbot.waitUntil(
        lambda: "refit of agent-broken: failed" in center.recent_label.text(), timeout=10_000
    )


def test_a_run_says_why_it_started_and_a_cancelled_one_keeps_no_eta(qtbot, center, docks_state):
    """Issue 24: after Cancel the dock still showed the dead run's ETA; and a training that
    started by itself did not say why."""
    from types import SimpleNamespace

    docks_state.training_reason = (
        "started by itself: keyboard and mouse idle for 14 min, on mains power; a large training"
        " (about 2.4 GB and 8 min 00 s)"
    )
    docks_state.trainingStarted.emit(8)
    reason = center.live.reason
    assert not reason.isHidden() and reason.text().startswith("Started by itself: keyboard")
    docks_state.trainingProgress.emit(
        TrainingProgress(session_id=8, step=1, total_steps=10, loss=2.0, tokens_per_s=900.0,
                         eta_s=300.0, epoch=0.1, val_loss=None)
    )  # fmt: skip
    assert center.live.eta_label.text() == "ETA 5 min 00 s"
    docks_state.trainingFinished.emit(
        SimpleNamespace(session_id=8, status="cancelled", model_id=None, final_loss=None,
                        error=None)
    )  # fmt: skip
    assert center.live.eta_label.text() == "ETA —"
    assert "cancelled" in center.training_title.text()


def test_the_model_share_of_each_trained_agent_is_shown_in_words(qtbot, center, docks_state):
    """Issue 21: the Training Center says what the language model added to each agent, and when
    its adapter was left out (the share was measured, never shown)."""
    import time

    from selflow_qt.store.models import TrainingSession

    lm = {"share": 0.0, "useful": False, "judged": True, "judged_size": 400, "skipped": None}
    for name, record in (
        ("Deploys", lm),
        ("Notes", {**lm, "skipped": "the language model added +0.000 ... (now 450)"}),
        ("Lab", {**lm, "useful": True, "novel5": 0.13, "mix_share": 0.3}),
    ):
        TrainingSession.create(
            model_id=f"agent-{name}",
            status="completed",
            started_at=time.time(),
            completed_at=time.time(),
            training_data_size=400,
            metadata={"pattern_name": name, "lm": record},
        )
    docks_state.refresh()
    qtbot.waitUntil(
        lambda: "agent for Notes: no adapter trained" in center.performance.model_label.text(),
        timeout=10_000,
    )
    text = center.performance.model_label.text()
    assert "agent for Deploys: the language model added +0.000 to hit@1 on whole lines" in text
    assert "not trained again until this pattern's data grows by half" in text
    assert (
        "agent for Lab: the agent uses the language model's lines at 30% of the next line's "
        "chance: they changed its hit@1 on whole lines by +0.000 and show 13% more of the "
        "never-typed next lines among the five suggested"
    ) in text
    assert center.performance.model_label.isVisibleTo(center)


def test_with_nothing_training_the_last_runs_curve_is_shown(qtbot, center, docks_state):
    """Opened after a training finished, the panel draws that run's loss and validation curve
    from its record, and says which run it was and how long it took."""
    TrainingSession.create(
        model_id="agent-old",
        status="completed",
        metadata={
            "pattern_name": "coding",
            "training": {
                "wall_seconds": 431.0,
                "curve": {"loss": [3.0, 2.5, 2.1, 1.9], "val": [[0, 3.1], [4, 2.0]]},
            },
        },
    )
    docks_state.refresh()
    qtbot.waitUntil(lambda: "Last training" in center.live.title.text(), timeout=10_000)
    title = center.live.title.text()
    assert "coding" in title and "completed in 7 min 11 s" in title
    assert len(center.live.loss_curve) == 4 and len(center.live.val_curve) == 2
    assert center.live.loss_label.text() == "loss 1.900"
