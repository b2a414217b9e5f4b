"""The multi-armed bandit that decides which predictor to trust for the next suggestion.

Policies: epsilon-greedy, Thompson sampling (Beta(1+s, 1+f) posteriors) and UCB1. Arms are the
baselines and the active micro-agents; their counts live in ``bandit_arms`` and survive restarts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from selflow_qt.core.ranking import beta_interval, rank_key
from selflow_qt.store.queries.agents import ArmCounts, add_bandit_outcome, bandit_counts

POLICIES = ("epsilon_greedy", "thompson", "ucb1")


@dataclass
class ArmStats:
    arm_id: str
    kind: str
    successes: int
    attempts: int
    success_rate: float
    mean_latency_ms: float
    ci_low: float
    ci_high: float
    rank: int


@dataclass
class _Arm:
    arm_id: str
    kind: str
    successes: int = 0
    attempts: int = 0
    total_latency_ms: float = 0.0

    @property
    def mean(self) -> float:
        return self.successes / self.attempts if self.attempts else 0.0

    @property
    def mean_latency_ms(self) -> float:
        return self.total_latency_ms / self.attempts if self.attempts else 0.0

    def rank_key(self) -> tuple:
        """The one order of predictors (``core.ranking.rank_key``), best first."""
        return rank_key(self.successes, self.attempts, self.mean_latency_ms, name=self.arm_id)


class Bandit:
    """Chooses an arm with the configured policy and learns from resolved suggestions."""

    def __init__(
        self,
        arms: list[tuple[str, str]],
        policy: str = "epsilon_greedy",
        epsilon: float = 0.1,
        *,
        seed: int | None = None,
        persist: bool = False,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown bandit policy {policy!r}; use one of {', '.join(POLICIES)}")
        self.policy = policy
        self.epsilon = float(epsilon)
        self.rng = random.Random(seed)
        self.persist = persist
        self.arms: dict[str, _Arm] = {a: _Arm(a, kind) for a, kind in arms}
        self.explored = 0
        self.selected = 0

    @classmethod
    def load(
        cls,
        db=None,
        policy: str = "epsilon_greedy",
        epsilon: float = 0.1,
        arms: list[tuple[str, str]] | None = None,
        seed: int | None = None,
    ) -> Bandit:
        """Arms (default: the baselines and active agents) with their stored counts."""
        from selflow_qt.agents.ranking.predictors import BASELINE_IDS
        from selflow_qt.agents.serving.registry import active_agents

        if arms is None:
            arms = [(b, "baseline") for b in BASELINE_IDS]
            arms += [(a.model_id, "agent") for a in active_agents()]
        bandit = cls(arms, policy, epsilon, seed=seed, persist=True)
        stored = bandit_counts({a.arm_id: a.kind for a in bandit.arms.values()})
        for arm in bandit.arms.values():
            c = stored[arm.arm_id]
            arm.successes, arm.attempts, arm.total_latency_ms = (
                c.successes,
                c.attempts,
                c.total_latency_ms,
            )
        return bandit

    # -- choosing ------------------------------------------------------------------------------
    def best_arm(self) -> str:
        """The arm exploitation serves: first in the rankings' order (posterior mean success,
        untried last), so a lucky 1 of 1 does not beat 90 of 100."""
        return min(self.arms.values(), key=_Arm.rank_key).arm_id

    def select(self) -> str:
        """The arm to use for the next suggestion."""
        if not self.arms:
            raise ValueError("the bandit has no arms")
        self.selected += 1
        arms = list(self.arms.values())
        best = self.best_arm()
        if self.policy == "epsilon_greedy":
            untried = [a for a in arms if a.attempts == 0]
            if untried:
                choice = self.rng.choice(untried).arm_id
            elif self.rng.random() < self.epsilon:
                choice = self.rng.choice(arms).arm_id
            else:
                choice = best
        elif self.policy == "thompson":
            draws = [
                (self.rng.betavariate(1 + a.successes, 1 + a.attempts - a.successes), a.arm_id)
                for a in arms
            ]
            choice = max(draws)[1]
        else:  # ucb1
            untried = [a for a in arms if a.attempts == 0]
            if untried:
                choice = untried[0].arm_id
            else:
                total = sum(a.attempts for a in arms)
                choice = max(
                    arms, key=lambda a: a.mean + math.sqrt(2 * math.log(total) / a.attempts)
                ).arm_id
        if choice != best:
            self.explored += 1
        return choice

    # -- learning ------------------------------------------------------------------------------
    def update(self, arm_id: str, success: bool, latency_ms: float = 0.0) -> None:
        arm = self.arms.get(arm_id)
        if arm is None:
            arm = self.arms[arm_id] = _Arm(
                arm_id, "agent" if arm_id.startswith("agent") else "baseline"
            )
        arm.attempts += 1
        arm.successes += int(bool(success))
        arm.total_latency_ms += float(latency_ms)
        if self.persist:
            counts = ArmCounts(arm.successes, arm.attempts, arm.total_latency_ms)
            add_bandit_outcome(arm_id, arm.kind, success, latency_ms, counts)

    # -- reporting -----------------------------------------------------------------------------
    def stats(self) -> list[ArmStats]:
        """Every arm with its success rate, 95% Beta interval and rank (1 = most trusted)."""
        rows = []
        for a in sorted(self.arms.values(), key=_Arm.rank_key):
            lo, hi = beta_interval(a.successes, a.attempts)
            rows.append(
                ArmStats(
                    arm_id=a.arm_id,
                    kind=a.kind,
                    successes=a.successes,
                    attempts=a.attempts,
                    success_rate=a.mean,
                    mean_latency_ms=a.mean_latency_ms,
                    ci_low=lo,
                    ci_high=hi,
                    rank=0,
                )
            )
        for i, r in enumerate(rows, 1):
            r.rank = i
        return rows

    def exploration_share(self) -> float:
        """How often the bandit tries an arm other than its current best (this run, else nominal)."""
        if self.selected:
            return self.explored / self.selected
        total = sum(a.attempts for a in self.arms.values())
        if self.policy == "epsilon_greedy" or not total:
            return self.epsilon if self.policy == "epsilon_greedy" else 1.0
        return 1.0 - self.arms[self.best_arm()].attempts / total
