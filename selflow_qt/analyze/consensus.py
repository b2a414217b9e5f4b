"""Consensus of the clusterers: agreement matrices, evidence accumulation, support, the score.

Consensus labels follow evidence accumulation clustering (Fred & Jain 2005): on the landmarks,
the co-association of two events is the share of algorithms that put them in the same (non-noise)
cluster; average-link clustering of ``1 - co-association`` cut at 0.5 joins events that most
algorithms keep together. Clusters smaller than ``min_size`` landmarks are noise (-1).

Support: algorithm A *supports* consensus cluster C when one of A's clusters K reproduces it,
i.e. Jaccard(C, K) >= 0.5 on the landmarks. A cluster is *stable* when at least ``min_support``
algorithms (capped at the number that succeeded) support it.

Weights: an algorithm that collapsed (fewer than two clusters) or put most landmarks in noise
tells little about which events belong together, so its vote in the co-association is
down-weighted (``algorithm_weight``: 0 for one cluster, the non-noise share for mostly noise)
instead of dragging the consensus towards "everything together" or "nothing together".

Untimed history (``build_consensus(..., space=...)``): its units are cut by content, few and
fine-grained, and the algorithms disagree most on how many workflows there are (three or five
coarse groups against eleven or twelve). A fixed cut at 0.5 then keeps only the coarse majority
and drops the rest as noise. There, instead:

- the cut is the one whose partition shares the most information with the algorithms' own
  (weighted mean NMI, the consensus objective of Strehl & Ghosh 2002), among the cuts from the
  majority cut (never merging what most keep apart) to the most clusters any algorithm found;
- a consensus cluster needs to recur, not five units: a unit of a history is long, and a
  workflow seen in ``RECURRING`` units recurs; so does one seen in two separate sittings (two
  units with other work between them), while two units one after the other may be one sitting
  that the content cut split in two;
- units the finer cut leaves in pieces too small to count, but that the majority cut keeps
  together, stay together where they recur: most algorithms agree on them, and the finer cut
  only had no better place for them;
- an algorithm also supports a cluster that it keeps whole inside a coarser one of its own
  (``NESTED_SHARE`` of its members in one cluster): a coarser grain does not contradict it;
- a unit left in noise or in an unsupported cluster joins the nearest stable cluster (cosine to
  its centroid in the clusterers' space) when it lies within that cluster's own spread (at least
  as similar as the cluster's least similar member); otherwise it stays where it was.

Consensus score: the mean, over the algorithms that succeeded, of the adjusted Rand index between
that algorithm's labels and the consensus labels on all events (1 = every algorithm agrees with
the consensus, ~0 = no better than chance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

JACCARD_SUPPORT = 0.5
NESTED_SHARE = 0.8
RECURRING = 3  # units of untimed history a consensus cluster needs, or two separate sittings
CUT = 0.5
MAJORITY = "evidence accumulation (co-association, average link, cut 0.5)"
INFORMATIVE = "evidence accumulation (co-association, average link, cut of most shared information)"


@dataclass
class Agreement:
    names: list[str]
    ari: list[list[float]]
    nmi: list[list[float]]

    def as_dict(self) -> dict:
        return {"names": self.names, "ari": self.ari, "nmi": self.nmi}


@dataclass
class Consensus:
    labels: np.ndarray  # (n,) int32, -1 = noise
    confidence: np.ndarray  # (n,) float32
    landmark_labels: np.ndarray  # (m,)
    support: dict[int, list[str]] = field(default_factory=dict)  # cluster -> supporting algorithms
    stable: list[int] = field(default_factory=list)
    score: float = 0.0
    per_algorithm_ari: dict[str, float] = field(default_factory=dict)
    min_support: int = 0
    weights: dict[str, float] = field(default_factory=dict)  # each algorithm's vote
    degenerate: dict[str, str] = field(default_factory=dict)  # algorithm -> why down-weighted
    method: str = MAJORITY
    attached: int = 0  # units that joined the nearest stable cluster (untimed history)


def algorithm_weight(labels: np.ndarray) -> tuple[float, str | None]:
    """(weight in the consensus, why it is below 1 or None); see the module docstring."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return 0.0, "no points"
    clusters = len(np.unique(labels[labels >= 0]))
    noise = float(np.mean(labels < 0))
    if clusters < 2:
        return 0.0, f"collapsed to {clusters} cluster{'s' if clusters != 1 else ''}"
    if noise > 0.5:
        return round(1.0 - noise, 4), f"mostly noise ({noise:.0%} of landmarks)"
    return 1.0, None


def agreement(labels: dict[str, np.ndarray]) -> Agreement:
    """Pairwise ARI and NMI of the algorithms' labels (noise counts as one more label)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    names = list(labels)
    k = len(names)
    ari = np.eye(k)
    nmi = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            a, b = labels[names[i]], labels[names[j]]
            ari[i, j] = ari[j, i] = adjusted_rand_score(a, b)
            nmi[i, j] = nmi[j, i] = normalized_mutual_info_score(a, b)
    return Agreement(names, np.round(ari, 4).tolist(), np.round(nmi, 4).tolist())


def coassociation(
    landmark_labels: list[np.ndarray], weights: list[float] | None = None
) -> np.ndarray:
    """(m, m) float32 weighted share of algorithms that co-cluster each pair (noise: none)."""
    m = len(landmark_labels[0])
    weights = [1.0] * len(landmark_labels) if weights is None else list(weights)
    C = np.zeros((m, m), dtype=np.float32)
    for lab, w in zip(landmark_labels, weights, strict=True):
        ks = np.unique(lab[lab >= 0])
        if len(ks) == 0 or w <= 0:
            continue
        onehot = (lab[:, None] == ks[None, :]).astype(np.float32)
        C += w * (onehot @ onehot.T)
    C /= max(sum(weights), 1e-9)
    return C


def evidence_accumulation(
    landmark_labels: list[np.ndarray],
    min_size: int,
    weights: list[float] | None = None,
    *,
    informative: bool = False,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Consensus labels of the landmarks: average link on 1 - co-association, cut at 0.5
    (``informative``: at the cut of most shared information, see the module docstring;
    ``order``: each landmark's place in the history, where a cluster must also recur)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    from selflow_qt.analyze.clusterers.base import relabel_by_size

    m = len(landmark_labels[0])
    if m < 2:
        return np.zeros(m, dtype=np.int32)
    # float32 sums can put a pair's share a hair above 1: a distance is never below 0
    D = np.clip(1.0 - coassociation(landmark_labels, weights), 0.0, None)
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False).astype(np.float64), method="average")
    majority = fcluster(Z, t=CUT, criterion="distance") - 1
    labels = informative_cut(Z, landmark_labels, weights) if informative else majority
    kept = _counts(labels, min_size, order)
    if informative:  # pieces too small to count: together where most algorithms keep them
        left = ~kept
        regrouped = np.where(left, majority + labels.max() + 1, labels)
        kept |= left & _counts(np.where(left, regrouped, -1), min_size, order)
        labels = regrouped
    return relabel_by_size(np.where(kept, labels, -1))


def _counts(labels: np.ndarray, min_size: int, order: np.ndarray | None) -> np.ndarray:
    """(m,) bool: the landmark's cluster (-1: none) has ``min_size`` members or, given their
    places in the history (``order``), two in separate sittings."""
    ok = labels >= 0
    sizes = np.bincount(labels[ok], minlength=1)
    out = ok & (sizes[np.maximum(labels, 0)] >= min_size)
    if order is None:
        return out
    for c in np.unique(labels[ok & ~out]):
        members = labels == c
        if sittings(np.asarray(order)[members]) >= 2:
            out |= members
    return out


def recurs(places: np.ndarray) -> bool:
    """Units at these places in a history (arrival order) make work that recurs: at least
    ``RECURRING`` of them, or two in separate sittings (see the module docstring)."""
    return len(np.unique(places)) >= RECURRING or sittings(places) >= 2


def sittings(places: np.ndarray) -> int:
    """Separate stretches among these places in the history (consecutive ones are one)."""
    p = np.unique(places)
    return int(len(p) > 0) + int(np.count_nonzero(np.diff(p) > 1))


def informative_cut(
    tree: np.ndarray, landmark_labels: list[np.ndarray], weights: list[float] | None = None
) -> np.ndarray:
    """Labels (0..k-1) of the cut of ``tree`` that shares the most information with the
    algorithms (weighted mean NMI, noise as one more label). Only cuts at least as fine as the
    majority cut (``CUT``) are candidates: what most algorithms keep apart stays apart. Up to the
    most clusters any algorithm found; ties go to fewer clusters."""
    from scipy.cluster.hierarchy import fcluster
    from sklearn.metrics import normalized_mutual_info_score

    weights = [1.0] * len(landmark_labels) if weights is None else list(weights)
    if sum(weights) <= 0:
        weights = [1.0] * len(landmark_labels)
    m = len(landmark_labels[0])
    majority = fcluster(tree, t=CUT, criterion="distance") - 1
    fewest = len(np.unique(majority))
    most = max(len(np.unique(lab[lab >= 0])) for lab in landmark_labels)
    best, best_labels = -np.inf, majority
    for k in range(fewest, min(max(most, fewest), m - 1) + 1):
        labels = fcluster(tree, t=k, criterion="maxclust") - 1
        shared = sum(
            w * normalized_mutual_info_score(lab, labels)
            for lab, w in zip(landmark_labels, weights, strict=True)
            if w > 0
        ) / sum(weights)
        if shared > best + 1e-9:
            best, best_labels = shared, labels
    return best_labels


def supporters(
    cons_l: np.ndarray, landmark_labels: dict[str, np.ndarray], *, nested: bool = False
) -> dict[int, list[str]]:
    """For each consensus cluster, the algorithms with a cluster of Jaccard >= 0.5 to it
    (``nested``: or one that holds ``NESTED_SHARE`` of its members, a coarser grain)."""
    out: dict[int, list[str]] = {}
    for c in np.unique(cons_l[cons_l >= 0]):
        members = cons_l == c
        size = np.count_nonzero(members)
        names = []
        for name, lab in landmark_labels.items():
            best, held = 0.0, 0.0
            for k in np.unique(lab[members & (lab >= 0)]):
                other = lab == k
                inter = np.count_nonzero(members & other)
                union = np.count_nonzero(members | other)
                best = max(best, inter / union if union else 0.0)
                held = max(held, inter / size)
            if best >= JACCARD_SUPPORT or (nested and held >= NESTED_SHARE):
                names.append(name)
        out[int(c)] = names
    return out


def attach_to_nearest(labels: np.ndarray, stable: list[int], space: np.ndarray) -> np.ndarray:
    """Labels where each point in no stable cluster joins the stable cluster nearest it (cosine
    to the centroid) when it lies within that cluster's spread; see the module docstring."""
    out = np.asarray(labels).copy()
    if not stable:
        return out
    X = np.asarray(space, dtype=np.float64)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    inside = np.isin(out, stable)
    cents, floors = [], []
    for c in stable:
        cent = X[out == c].mean(axis=0)
        cent /= max(float(np.linalg.norm(cent)), 1e-12)
        cents.append(cent)
        floors.append(float((X[out == c] @ cent).min()))
    sim = X @ np.stack(cents).T
    near = sim.argmax(axis=1)
    join = ~inside & (sim.max(axis=1) >= np.asarray(floors)[near])
    out[join] = np.asarray(stable)[near[join]]
    return out


def build_consensus(
    landmark_labels: dict[str, np.ndarray],
    full_labels: dict[str, np.ndarray],
    knn_idx: np.ndarray,
    knn_w: np.ndarray,
    *,
    min_support: int = 3,
    min_size: int | None = None,
    space: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> Consensus:
    """Consensus labels for every event, each cluster's supporters, and the consensus score.

    ``space``: the landmarks' coordinates where the clusterers worked, given for untimed
    history: the informative cut, nested support and attaching (see the module docstring);
    ``order``: there, each landmark's place in the history (its unit's arrival order)."""
    from sklearn.metrics import adjusted_rand_score

    from selflow_qt.analyze.reduce import propagate

    names = list(landmark_labels)
    if not names:
        n = len(knn_idx)
        return Consensus(np.full(n, -1, np.int32), np.zeros(n, np.float32), np.zeros(0, np.int32))
    m = len(landmark_labels[names[0]])
    content = space is not None
    if min_size is None:
        min_size = max(min(5, max(2, m // 10)), m // 200)
        if content:  # units of a history are long: three, or two sittings, recur
            min_size = RECURRING
    judged = {n: algorithm_weight(landmark_labels[n]) for n in names}
    weights = {n: w for n, (w, _) in judged.items()}
    if sum(weights.values()) <= 0:  # every algorithm collapsed: count them all the same
        weights = dict.fromkeys(names, 1.0)
    degenerate = {n: why for n, (_, why) in judged.items() if why}
    cons_l = evidence_accumulation(
        [landmark_labels[n] for n in names],
        min_size,
        [weights[n] for n in names],
        informative=content,
        order=order if content else None,
    )
    voters = [n for n in names if weights[n] > 0]
    support = supporters(cons_l, {n: landmark_labels[n] for n in voters}, nested=content)
    need = max(1, min(min_support, len(voters)))
    stable = [c for c, s in support.items() if len(s) >= need]
    attached = 0
    if content:
        joined = attach_to_nearest(cons_l, stable, space)
        attached = int(np.count_nonzero(joined != cons_l))
        cons_l = joined
    # confidence of a landmark: per algorithm, the share of its consensus cluster that the
    # algorithm puts in the landmark's own cluster; averaged over algorithms
    conf_l = np.zeros(m, dtype=np.float32)
    for c in np.unique(cons_l[cons_l >= 0]):
        members = cons_l == c
        vals = []
        for name in names:
            sub = landmark_labels[name][members]
            ks, counts = np.unique(sub, return_counts=True)
            share = dict(zip(ks.tolist(), (counts / len(sub)).tolist(), strict=True))
            vals.append(np.array([share[x] if x >= 0 else 0.0 for x in sub.tolist()]))
        conf_l[members] = np.mean(vals, axis=0)
    labels, conf = propagate(cons_l, conf_l, knn_idx, knn_w)
    per_algo = {n: float(adjusted_rand_score(full_labels[n], labels)) for n in names}
    score = float(np.mean(list(per_algo.values()))) if per_algo else 0.0
    return Consensus(
        labels=labels,
        confidence=conf,
        landmark_labels=cons_l,
        support=support,
        stable=sorted(stable),
        score=score,
        per_algorithm_ari=per_algo,
        min_support=need,
        weights=weights,
        degenerate=degenerate,
        method=INFORMATIVE if content else MAJORITY,
        attached=attached,
    )
