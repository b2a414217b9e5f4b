"""The one cancel convention: a job that stops at should_stop() is reported as cancelled."""

from __future__ import annotations

import time

from selflow_qt.core.cancel import Cancelled
from selflow_qt.workers.worker import run_in_worker


def _stoppable(should_stop) -> str:
    for _ in range(2_000):
        if should_stop():
            raise Cancelled("stopped")
        time.sleep(0.005)
    return "ran to the end"


def test_a_cancelled_job_is_reported_as_cancelled_not_failed(qtbot):
    seen: list[str] = []
    w = run_in_worker(
        _stoppable,
        on_result=lambda r: seen.append("result"),
        on_error=lambda m: seen.append("error"),
        on_cancelled=lambda: seen.append("cancelled"),
    )
    with qtbot.waitSignal(w.signals.finished, timeout=15_000):
        w.cancel()
    assert seen == ["cancelled"]


def test_cancelling_an_analysis_does_not_say_it_failed(qtbot, shell_state):
    messages: list[str] = []
    failed: list[str] = []
    shell_state.message.connect(messages.append)
    shell_state.analysisFailed.connect(failed.append)
    with qtbot.waitSignal(shell_state.analysisCancelled, timeout=120_000):
        assert shell_state.start_analysis("manual")
        shell_state.cancel_analysis()
    assert failed == []
    assert "Analysis cancelled." in messages
