"""A small learned ranker over the count models' candidates: the heart of a micro-agent.

Gradient-boosted trees score each candidate from its features (``candidates.FEATURES``) and its
rank in every baseline's list; the top scores are the suggestions. Trees capture what a linear
mix cannot (trust recency when the order-2 context is new, the last line's successor when it has
one). The ranker is fitted on the last part of the training split, where the count models have
seen everything before each position, and validated on that part's newest third against every
baseline; unless it is clearly better than the best one, the agent answers exactly as that
baseline does, so it is not worse than what it already knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selflow_qt.agents.ranking.candidates import FEATURES, candidate_set
from selflow_qt.agents.ranking.edits import EditModel
from selflow_qt.agents.ranking.history import History
from selflow_qt.agents.ranking.predictors import BASELINE_IDS

PRIOR_DEPTH = 30  # ranks below this (or absent from a baseline's list) share the last rank
# The fallback is the baseline best on validation; markov-2 on a tie or on too few positions.
DEFAULT_PRIOR = "markov-2"
MIN_SWITCH_POSITIONS = 100
TREES = dict(
    max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0
)
INPUTS = (*FEATURES, *(f"rank_{b}" for b in BASELINE_IDS))


def prior_of(keys: list[str], baseline_keys: list[str]) -> np.ndarray:
    """Each key's rank in a baseline's list as 0, -1, -2, ... (absent: -PRIOR_DEPTH)."""
    rank = {k: i for i, k in enumerate(baseline_keys[:PRIOR_DEPTH])}
    return -np.array([float(rank.get(k, PRIOR_DEPTH)) for k in keys])


def first_guesses(lists: dict[str, list[str]], n: int = 5) -> list[str]:
    """The first ``n`` keys of every baseline's list: always candidates."""
    return [k for ranked in lists.values() for k in ranked[:n]]


@dataclass
class Group:
    """One fitting position: candidate features, the true candidate's row (-1: absent), priors."""

    X: np.ndarray
    target: int
    priors: dict[str, np.ndarray]

    def inputs(self) -> np.ndarray:
        return inputs(self.X, self.priors)


def inputs(X: np.ndarray, priors: dict[str, np.ndarray]) -> np.ndarray:
    return np.hstack([X, np.stack([priors[b] for b in BASELINE_IDS], 1)])


@dataclass
class BoostedRanker:
    """Gradient-boosted trees scoring each candidate (higher: likelier the next action).

    Fitted with scikit-learn, then kept as plain arrays (every tree's nodes end to end) and
    evaluated with numpy, so serving needs neither scikit-learn nor pickle.
    """

    feature: np.ndarray  # per node: the input it splits on
    threshold: np.ndarray  # per node: go left when the input is <= this
    left: np.ndarray  # per node: absolute index of the left child
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray  # per node: the leaf's contribution
    roots: np.ndarray  # the root node of each tree
    bias: float

    def raw(self, A: np.ndarray) -> np.ndarray:
        """The sum of every tree's leaf value for each row of inputs ``A``."""
        if len(A) == 0:
            return np.zeros(0)
        rows = np.arange(len(A))
        node = np.repeat(self.roots[None, :], len(A), 0)  # (rows, trees)
        for _ in range(64):  # deeper than any tree grown with max_leaf_nodes=15
            leaf = self.is_leaf[node]
            if leaf.all():
                break
            go_left = A[rows[:, None], self.feature[node]] <= self.threshold[node]
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(leaf, node, step)
        return self.bias + self.value[node].sum(1)

    def scores(self, X: np.ndarray, priors: dict[str, np.ndarray]) -> np.ndarray:
        """P(next action) of each candidate (a logistic of the trees' sum)."""
        if len(X) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.raw(inputs(X, priors))))

    def save(self, path) -> None:
        arrays = {k: getattr(self, k) for k in ARRAYS}
        np.savez(path, bias=np.array([self.bias]), **arrays)

    @classmethod
    def load(cls, path) -> BoostedRanker:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ARRAYS}, bias=float(z["bias"][0]))

    @classmethod
    def fit(cls, groups: list[Group], seed: int = 0) -> BoostedRanker:
        from sklearn.ensemble import HistGradientBoostingClassifier

        groups = [g for g in groups if g.target >= 0 and len(g.X) > 1]
        A = np.vstack([g.inputs() for g in groups])
        y = np.concatenate([(np.arange(len(g.X)) == g.target).astype(int) for g in groups])
        model = HistGradientBoostingClassifier(**TREES, random_state=seed).fit(A, y)
        ranker = cls._export(model)
        # The trees' node arrays have no public API: check the export against the public
        # decision_function, which also gives the bias (the prior log-odds) without a private read.
        sample = A[:2000]
        offsets = model.decision_function(sample) - ranker.raw(sample)
        ranker.bias = float(np.median(offsets))
        if not np.allclose(offsets, ranker.bias, atol=1e-6):
            raise RuntimeError(
                "the ranker's trees score unlike scikit-learn's own: this scikit-learn release "
                "lays its trees out differently (install the locked version)"
            )
        return ranker

    @classmethod
    def _export(cls, model) -> BoostedRanker:
        """Every tree of a fitted HistGradientBoostingClassifier as plain arrays (bias 0)."""
        parts, roots, offset = [], [], 0
        for (tree,) in model._predictors:  # one tree per iteration for a binary task
            nodes = tree.nodes
            parts.append((nodes, offset))
            roots.append(offset)
            offset += len(nodes)

        def cat(field: str, shift: bool = False) -> np.ndarray:
            return np.concatenate(
                [n[field].astype(np.int64) + o if shift else n[field] for n, o in parts]
            )

        return cls(
            feature=cat("feature_idx").astype(np.int64),
            threshold=cat("num_threshold").astype(np.float64),
            left=cat("left", shift=True),
            right=cat("right", shift=True),
            is_leaf=cat("is_leaf").astype(bool),
            value=cat("value").astype(np.float64),
            roots=np.array(roots, dtype=np.int64),
            bias=0.0,
        )


ARRAYS = ("feature", "threshold", "left", "right", "is_leaf", "value", "roots")


@dataclass
class FitWindow:
    """The positions a ranker is fitted on, with whether each baseline's first guess was right."""

    groups: list[Group] = field(default_factory=list)
    baseline_top1: dict[str, list[bool]] = field(default_factory=dict)


def walk(stream, start: int, end: int, hist: History, edits: EditModel, baselines: dict, ctx_n=20):
    """Feed ``stream[:end]`` to the learners, recording candidate sets from ``start`` on."""
    win = FitWindow(baseline_top1={name: [] for name in baselines})
    learners = {id(b.counts): b for b in baselines.values()}
    for i in range(end):
        ev, key = stream[i]
        if i >= start and i > 0:
            ctx = stream[max(0, i - ctx_n) : i]
            lists = {n: [c.key for c in b.predict(ctx, PRIOR_DEPTH)] for n, b in baselines.items()}
            cs = candidate_set(hist, ctx, edits, first_guesses(lists))
            priors = {}
            for name, ranked in lists.items():
                priors[name] = prior_of(cs.keys, ranked)
                win.baseline_top1[name].append(bool(ranked) and ranked[0] == key)
            win.groups.append(Group(cs.X, cs.keys.index(key) if key in cs.keys else -1, priors))
        hist.observe(ev, key)
        edits.observe(ev)
        for b in learners.values():
            b.update([(ev, key)])
    return win


def top1_hits(model: BoostedRanker, groups: list[Group]) -> list[bool]:
    return [
        g.target >= 0 and int(np.argmax(model.scores(g.X, g.priors))) == g.target for g in groups
    ]


def clearly_better(a: list[bool], b: list[bool], z: float = 1.0) -> bool:
    """``a`` beats ``b`` on the same positions by more than ``z`` standard errors of the
    difference."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) < 2:
        return False
    return float(d.mean()) > max(1e-9, z * float(d.std(ddof=1)) / np.sqrt(len(d)))


def best_prior(top1: dict[str, list[bool]]) -> str:
    """The baseline with the best validation hit@1 (markov-2 on a tie, or with fewer than
    MIN_SWITCH_POSITIONS positions to judge on). The online record corrects a close call."""
    base = {name: float(np.mean(h)) if h else 0.0 for name, h in top1.items()}
    if DEFAULT_PRIOR in top1 and len(top1[DEFAULT_PRIOR]) < MIN_SWITCH_POSITIONS:
        return DEFAULT_PRIOR
    return max(base, key=lambda k: (base[k], k == DEFAULT_PRIOR))


@dataclass
class Choice:
    """What ``choose`` decided: the ranker (None: answer as ``prior``), the fallback baseline, a
    report, and every baseline's first-guess hits on the validation positions, oldest first."""

    model: BoostedRanker | None
    prior: str
    report: dict
    val_top1: dict[str, list[bool]]


def choose(win: FitWindow, val_fraction: float = 1 / 3) -> Choice:
    """Fit on the window's older part, validate on its newest part against the baselines; keep
    the ranker (refitted on the whole window) only when it is clearly better than the best one."""
    n = len(win.groups)
    cut = int(n * (1 - val_fraction))
    val_top1 = {name: h[cut:] for name, h in win.baseline_top1.items()}
    prior = best_prior(val_top1) if val_top1 else DEFAULT_PRIOR
    base = {name: float(np.mean(h)) if h else 0.0 for name, h in val_top1.items()}
    report: dict = {"fit_positions": n, "val_positions": n - cut, "fallback": prior}
    report["val_baselines"] = base
    fit_groups = [g for g in win.groups[:cut] if g.target >= 0]
    if n - cut < 20 or len(fit_groups) < 20:
        report["fallback_reason"] = "too few positions to fit a ranker"
        return Choice(None, prior, report, val_top1)
    hits = top1_hits(BoostedRanker.fit(win.groups[:cut]), win.groups[cut:])
    report["val_hit1"] = float(np.mean(hits))
    if not clearly_better(hits, val_top1[prior]):
        report["fallback_reason"] = f"not clearly better than {prior} on validation"
        return Choice(None, prior, report, val_top1)
    return Choice(BoostedRanker.fit(win.groups), prior, report, val_top1)
