"""How the model's lines join the counted candidates: a mixture of two probabilities.

A counted candidate's chance of being the next line is read off its rank in the agent's own
order (``counted_ranks``), calibrated on positions neither the ranker nor the adapter learned
from (``lm_trust``): how often the first, second, ... candidate was the line typed next. The
model's chance of a line is its own probability of writing exactly that line after the prompt
(the sum of its tokens' log-probabilities). A candidate's score is the mixture

    log((1 - lam) * p_counted + lam * p_model)

with the share ``lam`` fitted on the same positions, and the model's probability tempered as
``p_model ** beta`` (also fitted there): a small model is often surer of short lines and less
sure of long ones than it should be, and the power evens that out. A line only the model wrote has no counted
chance and rises above counted ones only where the model is sure of it and the counted chances
are small; a counted line the model also wrote gains in proportion to the model's confidence.
Where ``lam`` is 0 the order is the agent's own.

The fitted mixture is stored as one vector (``MixTrust.vector``): ``lam``, ``beta``, then the
calibrated chance per rank, the last one for every rank from there on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selflow_qt.agents.ranking.candidates import GEN_FEATURES

RANKS = 10  # calibrated ranks; the last chance stands for every rank from there on
_GEN = GEN_FEATURES.index("gen")
_ONLY = GEN_FEATURES.index("gen_only")
_TOTAL = GEN_FEATURES.index("gen_total")
_TINY = 1e-12


@dataclass
class MixTrust:
    lam: float
    chances: np.ndarray  # (RANKS,), non-increasing
    beta: float = 1.0

    @property
    def vector(self) -> np.ndarray:
        return np.concatenate([[self.lam, self.beta], self.chances])

    @classmethod
    def of(cls, vector) -> MixTrust | None:
        v = np.asarray(vector, dtype=float)
        if v.ndim != 1 or len(v) != RANKS + 2:
            return None
        return cls(float(v[0]), v[2:], float(v[1]))


def counted_ranks(base: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Each row's rank among the counted candidates by ``base`` (best 0; ties keep row order);
    -1 for lines only the model wrote."""
    ranks = np.full(len(base), -1, dtype=int)
    counted = [i for i in range(len(base)) if G[i, _ONLY] == 0]
    order = sorted(counted, key=lambda i: (-base[i], i))
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks


def parts(
    base: np.ndarray, G: np.ndarray, chances: np.ndarray, beta: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(counted chance, the model's tempered chance) of every row."""
    ranks = counted_ranks(base, G)
    pc = np.where(ranks >= 0, chances[np.clip(ranks, 0, len(chances) - 1)], 0.0)
    pm = np.where(G[:, _GEN] > 0, np.exp(beta * np.minimum(G[:, _TOTAL], 0.0)), 0.0)
    return pc, pm


def mixed_scores(base: np.ndarray, G: np.ndarray, trust: MixTrust) -> np.ndarray:
    """The mixture's log-probability per row; ties (equal chances) keep the agent's order."""
    pc, pm = parts(base, G, trust.chances, trust.beta)
    ranks = counted_ranks(base, G)
    order = np.where(ranks >= 0, ranks, len(base))
    mix = (1.0 - trust.lam) * pc + trust.lam * pm
    return np.log(mix + _TINY) - 1e-9 * order


def trusted_scores(base: np.ndarray, G: np.ndarray, trust) -> np.ndarray:
    """The scores the agent ranks by: the mixture for a ``MixTrust`` vector, else (an agent
    saved before it) the older linear weights over the features."""
    mix = MixTrust.of(trust)
    if mix is not None:
        return mixed_scores(base, G, mix)
    w = np.asarray(trust, dtype=float)
    return base + G[:, : len(w)] @ w
