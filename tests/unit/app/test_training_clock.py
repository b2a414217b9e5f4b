"""The training queue's clock: idle time from collection, a rest after each training."""

from __future__ import annotations

from selflow_qt.app.training_clock import TrainingClock
from selflow_qt.core.training_policy import GAP_S


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_when_idle_waits_for_idle_minutes_since_the_last_new_event():
    t = Clock()
    clock = TrainingClock(t)
    clock.collected(5)
    t.now += 9 * 60
    assert not clock.gate("when_idle", 10, busy=False, live_capture=True).allowed
    clock.collected(5)  # no new event: still idle
    t.now += 2 * 60
    assert clock.gate("when_idle", 10, busy=False, live_capture=True).allowed
    clock.collected(6)  # a new event: active again
    assert not clock.gate("when_idle", 10, busy=False, live_capture=True).allowed


def test_a_demo_folder_counts_as_idle():
    clock = TrainingClock(Clock())
    assert clock.gate("when_idle", 10, busy=False, live_capture=False).allowed


def test_a_training_that_ran_is_followed_by_a_rest_one_that_never_started_is_not():
    t = Clock()
    clock = TrainingClock(t)
    clock.training_ended()  # the job found nothing queued: no rest
    assert clock.gate("always", 10, busy=False, live_capture=True).allowed
    clock.training_started()
    clock.training_ended()
    gate = clock.gate("always", 10, busy=False, live_capture=True)
    assert not gate.allowed and "rest after the last training" in gate.reason
    t.now += GAP_S
    assert clock.gate("always", 10, busy=False, live_capture=True).allowed


def test_busy_and_ask_never_start():
    clock = TrainingClock(Clock())
    assert not clock.gate("always", 0, busy=True, live_capture=False).allowed
    assert "ask" in clock.gate("ask", 0, busy=False, live_capture=False).reason


def test_a_large_training_in_a_demo_folder_waits_for_real_input_idle_time():
    """Issue 24: a 3 GB training started unasked after a demo folder was opened. A demo folder
    records nothing, so only the keyboard and mouse idle time can say the user is away."""
    from selflow_qt.core.training_policy import estimate_training

    clock = TrainingClock(Clock())
    large = estimate_training({})
    gate = clock.gate("when_idle", 10, busy=False, live_capture=False, cost=large)
    assert not gate.allowed and "Train now" in gate.reason
    typing = clock.gate("when_idle", 10, busy=False, live_capture=False, cost=large,
                        input_idle_s=5.0)  # fmt: skip
    assert not typing.allowed
    away = clock.gate("when_idle", 10, busy=False, live_capture=False, cost=large,
                      input_idle_s=20 * 60.0, on_mains=None)  # fmt: skip
    assert away.allowed and "keyboard and mouse idle for 20 min" in away.reason
