"""Suggestions are logged and resolved against what really happened within the horizon."""

from __future__ import annotations

import subprocess
import sys

from selflow_qt.agents.serving.serving import SuggestionService
from selflow_qt.core.event import Event
from selflow_qt.store.models import BanditArm, UserInteraction


def event_doing(s, ts: float) -> Event:
    """The event a user produces when doing suggestion ``s``."""
    verb = s.key.split(" ")[1]
    if s.kind == "command":
        return Event(ts=ts, source="shell", action="command", cmd=s.cmd)
    if s.kind == "file":
        return Event(ts=ts, source="fs", action=verb, path=s.path)
    return Event(ts=ts, source="app", action="focus", app=s.app)


def in_a_child(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (which modules it loads is what is tested)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_suggestions_resolve_success_within_the_horizon_and_failure_after(
    store, routine, add_events
):
    events = routine(10)
    add_events(store, events)
    clock = Clock(events[-1].ts + 1)
    service = SuggestionService(store.data_dir, clock=clock, seed=0)
    horizon = service.settings.prediction_horizon_s

    first = service.suggest(k=3)
    assert 1 <= len(first) <= 3 and len({s.interaction_id for s in first}) == 1
    assert service.suggest(k=3) == first  # nothing happened: the same pending suggestion
    assert service.resolve_pending() == 0  # inside the horizon, not done yet: still pending

    add_events(store, [event_doing(first[0], clock.t + 30)])
    clock.t += 40
    assert service.resolve_pending() == 1
    it = UserInteraction.get_by_id(first[0].interaction_id)
    assert it.success is True and it.data["hit_rank"] == 1 and it.data["seconds_to_action"] > 0
    arm = BanditArm.get(BanditArm.arm_id == first[0].predictor)
    assert (arm.successes, arm.attempts) == (1, 1)

    second = service.suggest(k=3)
    assert second[0].interaction_id != first[0].interaction_id
    late = clock.t + horizon + 60
    add_events(store, [event_doing(second[0], late)])
    clock.t = late + 1
    assert service.resolve_pending() == 1
    assert UserInteraction.get_by_id(second[0].interaction_id).success is False


def test_a_choice_from_the_tray_counts_as_success(store, routine, add_events):
    add_events(store, routine(5))
    service = SuggestionService(store.data_dir, seed=0)
    s = service.suggest(k=2)[0]
    service.record_choice(s.interaction_id)
    assert UserInteraction.get_by_id(s.interaction_id).success is True


def test_serving_baselines_does_not_import_torch(store, routine, add_events):
    add_events(store, routine(5))
    code = (
        "import sys; from selflow_qt.agents.serving.serving import SuggestionService as S; "
        f"s = S({str(store.data_dir)!r}); s.suggest(3); s.resolve_pending(); "
        "print('torch' in sys.modules)"
    )
    assert in_a_child(code).strip() == "False"


def test_an_agent_without_a_ranker_answers_as_markov_2_and_loads_no_model(
    store, routine, add_events, tmp_path
):
    """An agent folder holding only an adapter (no ranker state) is not served: no base model is
    loaded for it, and its turn is answered by markov-2."""
    from selflow_qt.store.models import MicroAgent

    add_events(store, routine(5))
    folder = tmp_path / "agent-old"
    folder.mkdir()
    MicroAgent.create(model_id="agent-old", specialization="", training_data_hash="",
                      model_path=str(folder), created_at=0.0, performance_score=0.0,
                      avg_latency_ms=0.0, is_active=True)  # fmt: skip
    code = (
        "import sys; from selflow_qt.agents.serving.serving import SuggestionService as S; "
        f"s = S({str(store.data_dir)!r}); s._refresh(); "
        "print(s._predictor('agent-old'), 'torch' in sys.modules)"
    )
    assert in_a_child(code).split() == ["None", "False"]
