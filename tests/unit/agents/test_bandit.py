"""The bandit: convergence in simulation (sublinear regret) and persistence across restarts."""

from __future__ import annotations

import random

import pytest

from selflow_qt.agents.serving.bandit import Bandit

RATES = {"a": 0.2, "b": 0.35, "c": 0.6}


def simulate(policy: str, steps: int = 4000, seed: int = 1) -> tuple[float, float, Bandit]:
    bandit = Bandit([(a, "baseline") for a in RATES], policy, 0.1, seed=seed)
    rng = random.Random(seed)
    best = max(RATES.values())
    regret = []
    for _ in range(steps):
        arm = bandit.select()
        bandit.update(arm, rng.random() < RATES[arm], 1.0)
        regret.append(best - RATES[arm])
    half = steps // 2
    return sum(regret[:half]), sum(regret[half:]), bandit


@pytest.mark.parametrize("policy", ["thompson", "ucb1"])
def test_regret_grows_sublinearly(policy):
    first, second, bandit = simulate(policy)
    assert second < 0.6 * first, (first, second)
    assert bandit.best_arm() == "c"


def test_epsilon_greedy_settles_on_the_best_arm_and_explores_about_epsilon():
    first, second, bandit = simulate("epsilon_greedy")
    assert bandit.best_arm() == "c"
    # Settled: the second half costs about what exploring alone costs (epsilon times the mean
    # gap per step), not more. Comparing the halves was a coin flip on seed 2 even before.
    floor = 0.1 * sum(max(RATES.values()) - r for r in RATES.values()) / len(RATES) * 2000
    assert second <= 1.3 * floor, (first, second, floor)
    assert max(bandit.arms.values(), key=lambda a: a.attempts).arm_id == "c"
    assert 0.03 < bandit.exploration_share() < 0.15


def test_stats_rank_and_interval():
    bandit = Bandit([("x", "baseline"), ("y", "agent")], "thompson", seed=0)
    for i in range(50):
        bandit.update("x", i % 5 == 0)
        bandit.update("y", i % 2 == 0)
    stats = {s.arm_id: s for s in bandit.stats()}
    assert stats["y"].rank == 1 and stats["x"].rank == 2
    assert stats["y"].ci_low < 0.5 < stats["y"].ci_high
    assert stats["x"].ci_high < stats["y"].ci_high


def test_exploitation_serves_the_long_record_not_the_lucky_hit():
    """A lucky 1 of 1 against 90 of 100: the old exploitation (raw success rate) chose the
    lucky arm while every ranking put the long record first."""
    bandit = Bandit([("lucky", "baseline"), ("veteran", "baseline")], "epsilon_greedy", 0.0)
    bandit.update("lucky", True)
    for i in range(100):
        bandit.update("veteran", i < 90)
    assert bandit.best_arm() == "veteran"
    assert {bandit.select() for _ in range(20)} == {"veteran"}
    assert bandit.stats()[0].arm_id == "veteran"


def test_the_bandit_exploits_the_leaderboards_first_arm(store):
    from selflow_qt.agents.serving.leaderboard import agent_ranking

    bandit = Bandit.load(store.db, "epsilon_greedy", 0.0)
    bandit.update("markov-1", True)
    for i in range(100):
        bandit.update("markov-2", i < 90)
    rows, view = agent_ranking(store.db, store.settings)
    again = Bandit.load(store.db, "epsilon_greedy", 0.0)
    assert rows[0].arm_id == view.best.arm_id == again.best_arm() == "markov-2"


def test_counts_persist_across_restarts(store):
    b = Bandit.load(store.db, "ucb1", 0.1)
    assert {"most-frequent", "most-recent", "markov-1", "markov-2"} <= set(b.arms)
    b.update("markov-1", True, 2.0)
    b.update("markov-1", False, 4.0)
    again = Bandit.load(store.db, "ucb1", 0.1)
    arm = again.arms["markov-1"]
    assert (arm.successes, arm.attempts, arm.total_latency_ms) == (1, 2, 6.0)


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown bandit policy"):
        Bandit([("a", "baseline")], "softmax")


def test_two_readers_storing_the_same_new_arms_at_once_both_load(store, monkeypatch):
    """The Training Center and the Agents dock read the bandit at once on a fresh store, each on
    its own worker: each stores the arms it did not find. The one that stores second must load,
    not fail on the first one's rows (UNIQUE constraint failed: bandit_arms.arm_id)."""
    from selflow_qt.store.models import BanditArm

    real_select = BanditArm.select

    class OtherReaderStoresFirst:
        """This reader's read finds no arm; the other reader stores them right after it."""

        def __init__(self, *fields):
            self.query = real_select(*fields)

        def where(self, *conditions):
            found = list(self.query.where(*conditions))
            other = [{"arm_id": a, "kind": "baseline"} for a in ("markov-1", "most-recent")]
            BanditArm.insert_many(other).execute()
            return found

    monkeypatch.setattr(BanditArm, "select", OtherReaderStoresFirst)
    bandit = Bandit.load(store.db, "thompson", 0.1)
    monkeypatch.undo()
    assert {"markov-1", "most-recent"} <= set(bandit.arms)
    assert BanditArm.select().where(BanditArm.arm_id == "markov-1").count() == 1
