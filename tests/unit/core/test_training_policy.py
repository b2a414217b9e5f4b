"""The training policy: one at a time, on the user's policy, never back to back."""

from __future__ import annotations

from selflow_qt.core.training_policy import GAP_S, may_start_training

IDLE = {"idle_s": 3600.0, "idle_minutes": 10.0, "since_last_s": None}


def test_ask_never_starts_by_itself():
    gate = may_start_training("ask", queued=True, busy=False, **IDLE)
    assert not gate.allowed and "Train now" in gate.reason


def test_when_idle_waits_for_idle_minutes():
    busy_user = dict(IDLE, idle_s=120.0)
    gate = may_start_training("when_idle", queued=True, busy=False, **busy_user)
    assert not gate.allowed and "8 to go" in gate.reason
    assert may_start_training("when_idle", queued=True, busy=False, **IDLE).allowed


def test_always_starts_when_nothing_runs_but_one_at_a_time():
    assert may_start_training("always", queued=True, busy=False, **dict(IDLE, idle_s=0.0)).allowed
    assert not may_start_training("always", queued=True, busy=True, **IDLE).allowed
    assert not may_start_training("always", queued=False, busy=False, **IDLE).allowed


def test_no_back_to_back_runs_whatever_the_policy():
    """Five queued trainings used to run back to back (~5.5 min of full CPU each), unasked."""
    for policy in ("always", "when_idle"):
        just_ended = dict(IDLE, since_last_s=1.0)
        gate = may_start_training(policy, queued=True, busy=False, **just_ended)
        assert not gate.allowed and "rest" in gate.reason
        rested = dict(IDLE, since_last_s=GAP_S + 1)
        assert may_start_training(policy, queued=True, busy=False, **rested).allowed


# -- a large training (issue 24 item 7) ----------------------------------------------------------
def test_a_default_training_is_large_and_a_test_sized_one_is_not():
    from selflow_qt.core.training_policy import estimate_training

    assert estimate_training({}).large  # ~2.4 GB, 400 steps of 8
    small = estimate_training({"max_steps": 3, "batch_size": 4}, weight_bytes=10_000_000)
    assert not small.large


def _large():
    from selflow_qt.core.training_policy import estimate_training

    return estimate_training({})


def test_a_demo_folder_with_no_input_idle_time_is_not_idle():
    """No live capture (idle_s infinite) and no input idle time: it cannot tell, so it waits."""
    no_capture = dict(IDLE, idle_s=float("inf"))
    for policy in ("when_idle", "always"):
        gate = may_start_training(policy, queued=True, busy=False, cost=_large(), **no_capture)
        assert not gate.allowed and "Train now" in gate.reason


def test_a_large_training_follows_keyboard_and_mouse_idle_time():
    recorded_idle = dict(IDLE, idle_s=3600.0)  # collection saw nothing, but the user types
    gate = may_start_training(
        "when_idle", queued=True, busy=False, cost=_large(), input_idle_s=30.0, **recorded_idle
    )
    assert not gate.allowed and "to go" in gate.reason
    gate = may_start_training(
        "always", queued=True, busy=False, cost=_large(), input_idle_s=900.0, on_mains=True,
        **dict(IDLE, idle_s=float("inf")),
    )  # fmt: skip
    assert gate.allowed
    assert gate.reason.startswith("started by itself: keyboard and mouse idle for 15 min")
    assert "on mains power" in gate.reason and "GB" in gate.reason


def test_a_large_training_waits_on_battery():
    gate = may_start_training(
        "when_idle", queued=True, busy=False, cost=_large(), input_idle_s=9e9, on_mains=False,
        **IDLE,
    )  # fmt: skip
    assert not gate.allowed and "battery" in gate.reason
