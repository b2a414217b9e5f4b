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


def test_baselines_rank_as_a_full_sort_would_with_many_distinct_lines():
    """The frequency ranking is kept as events are counted (``_Counts.top``) instead of sorting
    every distinct key at each ``predict``: the same candidates, in the same order, with the
    same scores as the full sort, on a stream where most lines are new and ties are common."""
    import random
    from collections import Counter

    from selflow_qt.agents.ranking.predictors import TOP_KEPT, Candidate

    rng = random.Random(5)
    common = [f"git {w}" for w in ("status", "diff", "add .", "push", "pull")]
    events = []
    for i in range(3000):
        cmd = rng.choice(common) if rng.random() < 0.4 else f"make step{rng.randrange(400)}"
        events.append(Event(ts=float(i), source="shell", action="command", cmd=cmd))
    stream = keyed(events)
    preds = make_baselines()
    counts = preds["markov-2"].counts

    def full(pred, ctx, k):  # what predict gave with ranked(freq) over every key
        seen, out = set(), []
        examples = {key: ev for ev, key in ctx}
        tiers = [pred._ranked(ctx), counts.ranked(counts.freq)]
        for tier, ranked in enumerate(tiers):
            for key, p in ranked:
                if key not in seen:
                    seen.add(key)
                    ex = examples.get(key) or counts.example.get(key)
                    out.append(Candidate(key=key, score=float(p) - tier, example=ex))
                    if len(out) >= k:
                        return out
        return out

    for i in range(0, len(stream), 150):
        preds["markov-2"].update(stream[i : i + 150])
        ctx = stream[max(0, i - 8) : i + 150][-8:]
        assert counts.top == [key for key, _ in counts.ranked(counts.freq)[:TOP_KEPT]]
        for name, pred in preds.items():
            for k in (1, 5, 40, TOP_KEPT + 20):
                assert pred.predict(ctx, k) == full(pred, ctx, k), (name, k, i)
    assert len(Counter(k for _, k in stream)) > TOP_KEPT  # the kept ranking was cut
