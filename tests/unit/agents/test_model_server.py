"""An agent whose model earned a place is served with it from a model process of its own: the
serving path asks when an event arrives and reads the ready answer; it never imports torch."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections import deque

import pytest

from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.ranking.ranking_agent import fit_ranking_agent
from selflow_qt.agents.serving import serving
from selflow_qt.agents.serving.model_server import ADAPTER_FILE, answer_questions, uses_model
from selflow_qt.store.models import MicroAgent
from tests.support.agent_models import converted_agent


def test_only_an_agent_whose_model_earned_a_place_is_served_with_it(tmp_path):
    assert not uses_model(tmp_path, 0.0, None)  # no weight, no trusted lines
    assert not uses_model(tmp_path, 1.0, None)  # a weight, but no adapter was trained
    (tmp_path / ADAPTER_FILE).write_text("{}")
    assert uses_model(tmp_path, 1.0, None)
    assert uses_model(tmp_path, 0.0, [0.0, 0.5])  # it trusts the lines the model writes
    assert not uses_model(tmp_path, 0.0, [0.0, 0.0])


def test_the_apps_side_loads_neither_runtime():
    """The app (tray, ``selflow collect``) asks the model process and reads its answers; torch
    and CTranslate2 stay in that process."""
    code = (
        "import sys; import selflow_qt.agents.serving.serving, "
        "selflow_qt.agents.serving.model_server; "
        "print(sorted(m for m in ('torch', 'ctranslate2', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def _agent_with_a_model(folder, smollm_dir, events) -> None:
    """A real adapter on the real base model (converted to CTranslate2 once per machine) beside
    a ranker that gives the model's score a weight."""
    shutil.copytree(converted_agent(smollm_dir), folder)
    ranker = fit_ranking_agent("agent-m", keyed(events))
    ranker.lm_weight = 1.0
    ranker.save(folder)


@pytest.mark.slow  # loads the real model in a child process (~5 s)
def test_the_tray_answers_with_the_model_from_a_process_of_its_own(
    store, add_events, routine, tmp_path, smollm_dir
):
    events = routine(30)
    add_events(store, events[:-10])
    folder = tmp_path / "agent-m"
    _agent_with_a_model(folder, smollm_dir, events[:-10])
    MicroAgent.create(
        model_id="agent-m", specialization="", training_data_hash="", model_path=str(folder),
        created_at=0.0, performance_score=0.0, avg_latency_ms=0.0, is_active=True,
    )  # fmt: skip
    svc = serving.SuggestionService(store.data_dir)
    try:
        svc._refresh()
        agent = svc._predictor("agent-m")
        served = svc._models["agent-m"]
        assert served.child is not None
        pid = served.child.pid
        assert served.wait_answer(svc._last_id, timeout=180) is not None, "no answer"
        assert served.runtime == "ctranslate2"  # the adapter merged and converted, no torch
        add_events(store, events[-10:-9])  # an event arrives: asked at once, answered ready
        svc._refresh()
        got = served.wait_answer(svc._last_id, timeout=60)
        assert got is not None
        head = [c.key for c in agent.base_ranking(svc._context, agent.lm_top)]
        assert set(head) <= set(got.scores)
        assert all(math.isfinite(v) and v < 0 for v in got.scores.values())  # log-probabilities
        # The ranking the tray gets is the trees' score plus the weighted model score.
        base = {c.key: c.score for c in agent.base_ranking(svc._context, agent.lm_top)}
        ranked = agent.predict(svc._context, agent.lm_top)
        want = sorted(head, key=lambda k: -(base[k] + agent.lm_weight * got.scores[k]))
        assert [c.key for c in ranked] == want
        assert served.latencies_ms, "the answer's latency is measured"
        # A one-shot answer (`selflow predict`) waits for the model: it is the agent's own.
        add_events(store, events[-9:-8])
        svc.model_wait_s = 120.0
        svc.bandit.select = lambda: "agent-m"
        shown = svc.suggest(3)
        assert served.answer_for(svc._last_id) is not None
        assert [s.key for s in shown] == [c.key for c in agent.predict(svc._context, 3)]
    finally:
        svc.close()
    assert not svc._models
    with pytest.raises(ProcessLookupError):  # the model process ended (and was reaped)
        os.kill(pid, 0)


def test_a_retired_agents_model_process_is_stopped(store, add_events, routine, tmp_path):
    """A newer training retires the agent: with the next events its ranker is dropped and its
    model process stopped (it held ~300 MB for an agent nobody asks)."""
    events = routine(20)
    add_events(store, events)
    folder = tmp_path / "agent-m"
    fit_ranking_agent("agent-m", keyed(events)).save(folder)
    row = MicroAgent.create(
        model_id="agent-m", specialization="", training_data_hash="", model_path=str(folder),
        created_at=0.0, performance_score=0.0, avg_latency_ms=0.0, is_active=True,
    )  # fmt: skip
    svc = serving.SuggestionService(store.data_dir)
    svc._refresh()
    assert svc._predictor("agent-m") is not None
    stopped = []

    class Process:  # stands in for the model process: what is tested is that it is stopped
        def stop(self):
            stopped.append(True)

    svc._models["agent-m"] = Process()
    row.is_active = False
    row.save()
    add_events(store, routine(1, seed=3))  # the next events, whether or not it is asked for
    svc._refresh()
    assert stopped == [True] and "agent-m" not in svc._models and "agent-m" not in svc._rankers
    assert svc._predictor("agent-m") is None


class _Channel:
    """The model process's side of the pipe, holding the questions the app sent."""

    def __init__(self, *questions):
        self.inbox, self.sent = deque(questions), []

    def should_stop(self) -> bool:
        return not self.inbox

    def poll(self, _timeout: float = 0.0) -> bool:
        return bool(self.inbox)

    def recv(self):
        return self.inbox.popleft()

    def send(self, tag, payload) -> None:
        self.sent.append((tag, payload))


def test_a_question_overtaken_while_it_is_scored_gets_no_lines():
    """Events come faster than answers: the model writes lines only for the newest question
    (the app reads only that answer), instead of finishing each stale one first."""
    newer = (2, ["ctx-2"], ["b"], True)
    channel = _Channel((1, ["ctx-1"], ["a"], True))
    scored, written = [], []

    class Scorer:  # stands in for the model: what is tested is which questions are answered
        def score(self, context, keys):
            scored.append(context[0])
            if context == ["ctx-1"]:
                channel.inbox.append(newer)  # the next event's question arrives meanwhile
            return [-1.0] * len(keys)

    class Writer:
        def lines(self, context):
            written.append(context[0])
            return [f"line after {context[0]}"]

    assert answer_questions(channel, Scorer(), Writer()) == 1
    assert scored == ["ctx-1", "ctx-2"] and written == ["ctx-2"]
    ((tag, answer),) = channel.sent
    assert tag == "answer" and answer["id"] == 2 and answer["scores"] == [-1.0]
    assert answer["lines"] == ["line after ctx-2"]
