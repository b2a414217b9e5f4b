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
