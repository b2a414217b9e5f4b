"""Action keys, baselines and offline evaluation (no model needed)."""

from __future__ import annotations

from selflow_qt.agents.evaluation.evaluation import evaluate_offline
from selflow_qt.agents.ranking.actions import action_key, keyed, render_prompt
from selflow_qt.agents.ranking.predictors import make_baselines
from selflow_qt.core.event import Event


def test_action_key_normalises_home_quotes_numbers_and_app_focus():
    ev = Event(ts=1, source="shell", action="command", cmd='git commit -m "fix 12"  -q')
    assert action_key(ev) == 'shell run git commit -m "…" -q'
    assert (
        action_key(Event(ts=1, source="fs", action="modify", path="/home/ann/a.py"))
        == "fs modify ~/a.py"
    )
    launch = Event(ts=1, source="app", action="launch", app="Firefox")
    focus = Event(ts=2, source="app", action="focus", app="firefox")
    assert action_key(launch) == action_key(focus) == "app open firefox"
    assert action_key(Event(ts=1, source="system", action="gap")) is None


def test_prompt_is_compact_with_relative_times(routine):
    evs = keyed(routine(2))[:3]
    text = render_prompt(evs, lines=3)
    assert "~/proj/app.py" in text and "/home/tester" not in text
    assert text.splitlines()[1].startswith("+0s ") and text.endswith("next:")


def test_markov_learns_successors_and_backs_off(routine):
    stream = keyed(routine(20))
    preds = make_baselines(stream)
    ctx = [(ev, k) for ev, k in stream if k == "shell run pytest -q"][:1]
    assert preds["markov-1"].predict(ctx, 1)[0].key == "shell run git add app.py"
    # An unseen last action falls back to the most frequent actions.
    unseen = [(Event(ts=1, source="app", action="focus", app="gimp"), "app open gimp")]
    assert len(preds["markov-2"].predict(unseen, 3)) == 3


def test_offline_evaluation_has_no_leakage_and_scores_markov_above_frequency(routine):
    stream = keyed(routine(40))
    start = int(len(stream) * 0.8)
    metrics = evaluate_offline(make_baselines(stream[:start]), stream, start)
    assert metrics["markov-2"].n == len(stream) - start
    assert metrics["markov-2"].hit1 > metrics["most-frequent"].hit1
    # Fitted on nothing, the baselines can only use the context: no peeking at the answers.
    blind = evaluate_offline(make_baselines([]), stream, start)
    assert blind["markov-1"].hit1 < metrics["markov-1"].hit1


def test_offline_evaluation_asks_a_predictor_once_per_position(routine):
    """A model-scored predictor (the adapter alone) costs a model pass per ``predict``: the
    metrics and the prompt's keys_saved come from one call, and agree with two separate ones."""
    stream = keyed(routine(40))
    start = int(len(stream) * 0.8)
    markov = make_baselines(stream[:start])["markov-2"]
    calls: list[int] = []

    class Counted:
        def predict(self, ctx, k):
            calls.append(k)
            return markov.predict(ctx, k)

    once = evaluate_offline({"m": Counted()}, stream, start, online=False)["m"]
    assert len(calls) == len(stream) - start
    twice = evaluate_offline({"m": markov}, stream, start, online=False)["m"]
    assert (once.hit1, once.hit5, once.mrr, once.keys_saved) == (
        twice.hit1, twice.hit5, twice.mrr, twice.keys_saved,
    )  # fmt: skip
