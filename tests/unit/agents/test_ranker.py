"""The ranking agent: counts kept, context features, edits, never worse than markov-2 (no LM)."""

from __future__ import annotations

import random
import sys

from agent_streams import folder_stream

from selflow_qt.agents.evaluation.evaluation import evaluate_offline, margin_over_best_baseline
from selflow_qt.agents.model.dataset import build_examples
from selflow_qt.agents.ranking.actions import full_key, keyed
from selflow_qt.agents.ranking.edits import EditModel
from selflow_qt.agents.ranking.predictors import make_baselines
from selflow_qt.agents.ranking.ranking_agent import RankingAgent, fit_ranking_agent
from selflow_qt.core.event import Event


def order1_stream(n: int, seed: int = 0) -> list[Event]:
    """Each command follows from the one before alone (85%), else one of 48 commands at random:
    pairs of commands stay sparse, so markov-2 is a little worse than markov-1."""
    rng = random.Random(seed)
    main = [f"cmd{i}" for i in range(8)]
    rare = [f"rare{i}" for i in range(40)]
    succ = {c: main[(i + 1) % 8] for i, c in enumerate(main)}
    succ.update({r: rng.choice(main) for r in rare})
    out, prev = [], "cmd0"
    for i in range(n):
        prev = succ[prev] if rng.random() < 0.85 else rng.choice(rare + main)
        out.append(Event(ts=1e9 + 7 * i, source="shell", action="command", cmd=prev))
    return out


def noise_stream(n: int, seed: int = 0) -> list[Event]:
    rng = random.Random(seed)
    return [
        Event(ts=1e9 + i, source="shell", action="command", cmd=rng.choice("abcdefgh"))
        for i in range(n)
    ]


def test_training_examples_keep_repeated_pairs():
    evs = [
        Event(ts=1e9 + 5 * i, source="shell", action="command", cmd="ab"[i % 2]) for i in range(50)
    ]
    examples = build_examples(evs)
    pairs = [(e.prompt.split("\n", 1)[1], e.target) for e in examples]
    assert len(examples) == 49  # every position, repeats included: counts are the signal
    assert len(set(pairs)) <= 5


def test_the_prompt_has_the_working_folder_and_the_arguments():
    ev = Event(
        ts=1e9, source="shell", action="command", cmd="cat /home/u/n 42.txt", cwd="/home/u/p"
    )
    from selflow_qt.agents.ranking.actions import render_prompt

    text = render_prompt([(ev, "k")], 4)
    assert "in ~/p" in text and "shell run cat ~/n 42.txt" in text


def test_the_agent_learns_what_the_working_folder_decides():
    stream = keyed(folder_stream(400))
    start = int(len(stream) * 0.8)
    agent = fit_ranking_agent("agent", stream[:start])
    assert agent.uses_ranker, agent.report
    preds = {**make_baselines(stream[:start]), "agent": agent}
    metrics = evaluate_offline(preds, stream, start)
    assert metrics["markov-2"].hit1 < 0.9
    assert metrics["agent"].hit1 > metrics["markov-2"].hit1 + 0.1
    assert margin_over_best_baseline(metrics, "agent") > 0.1
    assert metrics["agent"].hit1_full == metrics["agent"].hit1


def test_without_anything_to_learn_the_agent_answers_as_a_baseline():
    stream = keyed(noise_stream(1200))
    start = 1000
    agent = fit_ranking_agent("agent", stream[:start])
    assert not agent.uses_ranker and agent.leader in agent.baselines
    base = make_baselines(stream[:start])[agent.leader]
    ctx = stream[980:1000]
    assert [c.key for c in agent.predict(ctx, 5)] == [c.key for c in base.predict(ctx, 5)]


def test_where_markov_1_is_better_the_agent_answers_as_markov_1():
    """A small lead on validation is enough to pick the fallback: no bias to markov-2."""
    for seed in (1, 3, 4):
        stream = keyed(order1_stream(1000, seed))
        agent = fit_ranking_agent("agent", stream[:800])
        assert agent.fallback == "markov-1" and agent.leader == "markov-1", agent.report
        preds = {**make_baselines(stream[:800]), "agent": agent}
        metrics = evaluate_offline(preds, stream, 800)
        assert metrics["markov-1"].hit1 > metrics["markov-2"].hit1
        assert metrics["agent"].hit1 >= metrics["markov-1"].hit1
        assert margin_over_best_baseline(metrics, "agent") >= 0


def test_a_fitted_agent_starts_with_the_validation_record():
    """Its online record is not empty on the first suggestion: the leader is already informed."""
    stream = keyed(order1_stream(1000, seed=1))
    agent = fit_ranking_agent("agent", stream)
    rates = agent.live_rates()
    assert set(rates) >= set(agent.baselines)
    assert rates["markov-1"] > rates["markov-2"] > rates["most-frequent"]
    assert agent.live_margin() == 0.0  # it answers as the best baseline


def test_a_saved_agent_predicts_the_same_after_loading(tmp_path):
    stream = keyed(folder_stream(300, seed=2))
    agent = fit_ranking_agent("agent", stream)
    agent.save(tmp_path)
    again = RankingAgent.load("agent", tmp_path, stream)
    ctx = stream[-20:]
    assert [c.key for c in again.predict(ctx, 3)] == [c.key for c in agent.predict(ctx, 3)]
    assert (tmp_path / "ranker.npz").exists()  # plain arrays: no pickle


def test_the_numpy_trees_score_as_scikit_learn_does():
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from selflow_qt.agents.ranking.predictors import BASELINE_IDS
    from selflow_qt.agents.ranking.ranker import TREES, BoostedRanker, Group

    rng = np.random.default_rng(0)
    groups = []
    for _ in range(300):
        X = rng.random((6, 21))
        priors = {b: -rng.integers(0, 30, 6).astype(float) for b in BASELINE_IDS}
        groups.append(Group(X, int(np.argmax(X[:, 0] + 0.3 * rng.random(6))), priors))
    ours = BoostedRanker.fit(groups)
    A = np.vstack([g.inputs() for g in groups])
    y = np.concatenate([(np.arange(6) == g.target).astype(int) for g in groups])
    ref = HistGradientBoostingClassifier(**TREES, random_state=0).fit(A, y)
    g = groups[7]
    assert np.allclose(ours.scores(g.X, g.priors), ref.predict_proba(g.inputs())[:, 1])


def test_an_edit_seen_before_is_proposed_for_a_new_line():
    edits = EditModel()
    for a, b in [("x.zip", "y"), ("z.zip", "w")]:
        edits.observe(Event(ts=1, source="shell", action="command", cmd=f"fcrackzip -v -p {b} {a}"))
        edits.observe(
            Event(ts=2, source="shell", action="command", cmd=f"fcrackzip -v -u -p {b} {a}")
        )
    lines = [line for line, _, _ in edits.propose(["fcrackzip -v -p list.txt new.zip"])]
    assert "fcrackzip -v -u -p list.txt new.zip" in lines


def test_full_lines_are_scored_separately_from_keys():
    evs = [
        Event(ts=1e9 + i, source="shell", action="command", cmd=f"ping -c {3 + i % 2}")
        for i in range(40)
    ]
    stream = keyed(evs)
    m = evaluate_offline(make_baselines(stream[:30]), stream, 30)["most-recent"]
    assert m.hit1 == 1.0  # "ping -c N" is one key
    assert m.hit1_full == 0.0  # but the latest line is never the next one
    assert full_key(evs[0]) == "shell run ping -c 3"


def test_the_lm_weight_is_positive_only_where_the_lm_knows_more():
    from selflow_qt.agents.model.lm_feature import fit_lm_weight

    stream = keyed(noise_stream(600, seed=3))
    agent = fit_ranking_agent("agent", stream[:400])
    truth = {i: stream[i][1] for i in range(len(stream))}
    where = {id(stream[i - 1][0]): i for i in range(1, len(stream))}

    def oracle(ctx, keys):  # knows the next action (a stand-in for a strong adapter)
        nxt = truth[where[id(ctx[-1][0])]]
        return [0.0 if k == nxt else -3.0 for k in keys]

    def useless(ctx, keys):
        return [-1.0 for _ in keys]

    w, report = fit_lm_weight(agent, stream, 400, 600, oracle, max_positions=80)
    assert w > 0 and report["lm_positions"] == 80
    assert fit_lm_weight(agent, stream, 400, 600, useless, max_positions=80)[0] == 0.0
    # Right on a handful of positions is no evidence: a short training's slice of 3 gave the
    # model a weight, and every scored line then waited for the model.
    w, report = fit_lm_weight(agent, stream, 400, 600, oracle, max_positions=3)
    assert w == 0.0 and report["lm_reason"] == "too few positions to judge"


def test_an_agent_losing_online_answers_as_its_fallback_until_it_wins_again():
    stream = keyed(folder_stream(400))
    agent = fit_ranking_agent("agent", stream[:900])
    assert agent.ranker_active
    agent.record = {"ranker": 0.0, "markov-2": 5.0, "_weight": 5.0}  # markov-2 was right lately
    ctx = stream[880:900]
    base = agent.baselines["markov-2"].predict(ctx, 3)
    assert [c.key for c in agent.predict(ctx, 3)] == [c.key for c in base]
    agent.observe(stream[900:1100])  # the folder pattern holds: the ranker wins it back
    assert agent.ranker_active
    rates = agent.live_rates()
    assert rates["ranker"] > 0.9 and rates["markov-2"] < 0.9
    assert agent.live_margin() == rates["ranker"] - max(rates[b] for b in agent.baselines)


def test_serving_a_ranking_agent_needs_no_torch(store, add_events, tmp_path):
    from selflow_qt.store.models import MicroAgent

    events = folder_stream(200)
    add_events(store, events)
    agent = fit_ranking_agent("agent-r", keyed(events))
    agent.save(tmp_path / "agent-r")
    MicroAgent.create(
        model_id="agent-r",
        specialization="",
        training_data_hash="",
        model_path=str(tmp_path / "agent-r"),
        created_at=0.0,
        performance_score=0.0,
        avg_latency_ms=0.0,
        is_active=True,
    )
    code = (
        "import sys; from selflow_qt.agents.serving.serving import SuggestionService as S; "
        f"s = S({str(store.data_dir)!r}); s._refresh(); p = s._predictor('agent-r'); "
        "print(type(p).__name__, len(p.predict(s._context, 3)), 'torch' in sys.modules, "
        "'sklearn' in sys.modules)"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["RankingAgent", "3", "False", "False"]


def test_a_tree_export_that_scores_unlike_scikit_learn_fails_loudly(monkeypatch):
    """The export reads the fitted trees' node arrays (scikit-learn has no public API for them):
    each fit checks itself against the public decision_function, so a release that lays its
    trees out differently stops a training with one clear line instead of serving wrong scores."""
    import numpy as np
    import pytest
    from sklearn.ensemble import HistGradientBoostingClassifier

    from selflow_qt.agents.ranking.predictors import BASELINE_IDS
    from selflow_qt.agents.ranking.ranker import BoostedRanker, Group

    rng = np.random.default_rng(0)
    groups = []
    for _ in range(100):
        X = rng.random((6, 21))
        priors = {b: -rng.integers(0, 30, 6).astype(float) for b in BASELINE_IDS}
        groups.append(Group(X, int(np.argmax(X[:, 0])), priors))
    public = HistGradientBoostingClassifier.decision_function
    monkeypatch.setattr(
        HistGradientBoostingClassifier, "decision_function", lambda self, A: 2 * public(self, A)
    )
    with pytest.raises(RuntimeError, match="scikit-learn"):
        BoostedRanker.fit(groups)
