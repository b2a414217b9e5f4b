"""One agent's training time (``train_child``): the budget from the model's load to the saved
agent, and how many positions weigh and evaluate the model within it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EVAL_POSITIONS = 100
LM_POSITIONS = 60  # slice positions that weigh the LM (each costs a scoring and an answer)
# One agent, from loading the model to saved, within the plan's 10 minutes on consumer hardware
# (2 cores): the adapter gets its share, what is left weighs the model, lets it write lines and
# evaluates; their positions shrink (never below the floors) to what the model's measured answer
# times let fit.
JOB_BUDGET_S = 510.0  # the child's start, reading its job and saving fit in the rest
ADAPTER_SHARE = 0.6
MIN_LM_POSITIONS, MIN_EVAL_POSITIONS = 36, 30  # 36: enough to judge (lm_trust)
SAVE_RESERVE_S = 15.0  # saving the adapter and the ranker
EVAL_PER_LM_POSITION = EVAL_POSITIONS / LM_POSITIONS
MAX_CURVE_POINTS = 2000


@dataclass
class Budget:
    """The job's time: ``seconds`` from ``t0`` (perf_counter); what each phase was given."""

    seconds: float
    t0: float = field(default_factory=time.perf_counter)
    plan: dict = field(default_factory=dict)

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.t0)

    def adapter_seconds(self, asked: float | None) -> float:
        """The adapter's time: its config's, cut to its share of what is left of the budget."""
        share = max(10.0, self.seconds * ADAPTER_SHARE - (time.perf_counter() - self.t0))
        return min(asked, share) if asked else share

    def positions(self, wanted: int, floor: int, per_position_s: float) -> int:
        """Of ``wanted`` positions costing ``per_position_s`` each, as many as fit what is left
        (less the saving), at least ``floor`` (or ``wanted`` if fewer)."""
        if per_position_s <= 0:
            return wanted
        fit = int(max(0.0, self.left() - SAVE_RESERVE_S) / per_position_s)
        return max(min(wanted, floor), min(wanted, fit))


def long_run(max_steps: int | None) -> bool:
    """A full training (the default cap, or 50 steps or more), not a quick try: it converts
    its model (``fast_stage``, 20-40 s on 2 cores, repaid by the slice and the evaluation) and
    weighs it on more positions."""
    return (max_steps or 100) >= 50


def times_the_model(job: dict) -> bool:
    """Whether the job asks for more positions than the floors (so the budget may cut them)."""
    return (
        int(job.get("lm_positions", LM_POSITIONS)) > MIN_LM_POSITIONS
        or int(job.get("eval_positions", EVAL_POSITIONS)) > MIN_EVAL_POSITIONS
    )


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
