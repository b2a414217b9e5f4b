"""What each cluster is about: c-TF-IDF terms, dominant actions, hours, a readable name.

c-TF-IDF (Grootendorst 2022): a term's frequency in a cluster, divided by the cluster's term
total, times log(1 + A / f_t), with A the mean term total per cluster and f_t the term's total
frequency. Terms are the event tokens of ``features.event_tokens`` (folders, extensions, apps,
command verbs, actions).

Names: ``analyze.names``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.features import FeatureSet
from selflow_qt.analyze.names import distinctive_words, name_cluster
from selflow_qt.analyze.untimed import context_terms

HIDDEN_PREFIXES = ("depth:", "nargs:", "flag:")


@dataclass
class ClusterProfile:
    label: int
    name: str
    kind: str
    place: str
    event_count: int
    top_terms: list[tuple[str, float]]
    term_vector: dict[str, float]
    dominant_actions: dict[str, float]
    sources: dict[str, float]
    hour_profile: list[float]
    confidence: float
    supporters: list[str] = field(default_factory=list)
    first_ts: float | None = None  # the time of the cluster's first event
    last_ts: float | None = None  # ... and of its last


def ctfidf(counts: np.ndarray) -> np.ndarray:
    """(clusters, terms) counts -> c-TF-IDF weights."""
    totals = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(totals, 1e-12)
    A = float(totals.mean()) if len(totals) else 0.0
    f = counts.sum(axis=0)
    return tf * np.log1p(A / np.maximum(f, 1e-12))


def _share(counter: Counter, n: int, top: int = 5) -> dict[str, float]:
    return {k: round(v / max(n, 1), 3) for k, v in counter.most_common(top)}


def describe_clusters(
    table: EventTable,
    features: FeatureSet,
    labels: np.ndarray,
    confidence: np.ndarray,
    *,
    support: dict[int, list[str]] | None = None,
    n_algorithms: int = 1,
    top_n: int = 12,
) -> dict[int, ClusterProfile]:
    """A profile of every non-noise cluster in ``labels``."""
    clusters = [int(c) for c in np.unique(labels) if c >= 0]
    if not clusters:
        return {}
    n_sig = features.terms.shape[0]
    per_cluster = np.stack(
        [np.bincount(features.inverse[labels == c], minlength=n_sig) for c in clusters]
    ).astype(np.float64)
    counts = np.asarray((features.terms.T @ per_cluster.T).T)  # (k, V): events carrying each term
    weights = ctfidf(counts)
    hours = table.local_hours().astype(int) % 24
    # a shell command's app is the machine it ran on: never a name
    hosts = frozenset(
        a.lower()[:40]
        for a, src in zip(table.app, table.source, strict=True)
        if src == "shell" and a
    )
    src_act = np.array([f"{s}/{a}" for s, a in zip(table.source, table.action, strict=True)])
    where = _where(table)
    out: dict[int, ClusterProfile] = {}
    for row, c in enumerate(clusters):
        idx = np.flatnonzero(labels == c)
        n = len(idx)
        order = np.argsort(-weights[row])
        visible = [j for j in order if _shown(features.vocab[j])]
        top_terms = [(features.vocab[j], round(float(weights[row, j]), 4)) for j in visible[:top_n]]
        vector = {
            features.vocab[j]: float(weights[row, j]) for j in order[:40] if weights[row, j] > 0
        }
        shares = {
            features.vocab[j]: float(counts[row, j] / n)
            for j in np.argsort(-counts[row])[:60]
            if counts[row, j] > 0
        }
        places = Counter(t for i in idx.tolist() for t in where[i])
        name, kind, place = name_cluster(
            shares,
            [features.vocab[j] for j in visible[:30]],
            hosts,
            {t: k / n for t, k in places.items()},
        )
        hp = np.bincount(hours[idx], minlength=24).astype(float)
        sup = (support or {}).get(c, [])
        conf = float(confidence[idx].mean()) * (
            len(sup) / n_algorithms if support is not None else 1.0
        )
        out[c] = ClusterProfile(
            label=c,
            name=name,
            kind=kind,
            place=place,
            event_count=n,
            top_terms=top_terms,
            term_vector=vector,
            dominant_actions=_share(Counter(src_act[idx].tolist()), n),
            sources=_share(Counter(table.source[i] for i in idx), n),
            hour_profile=(hp / max(hp.sum(), 1.0)).round(4).tolist(),
            confidence=round(conf, 4),
            supporters=sup,
            first_ts=float(table.ts[idx].min()),
            last_ts=float(table.ts[idx].max()),
        )
    _dedupe_names(out, hosts)
    return out


def _shown(term: str) -> bool:
    """A term that may describe a pattern to its user: not how a command was typed (depth,
    argument count, flags), nor an argument that is an identifier (``best_key``, ``user_id``):
    a name from inside the user's files reads as code; its tools and folders say the work."""
    if term.startswith(HIDDEN_PREFIXES):
        return False
    return not (term.startswith("arg:") and "_" in term.strip("_"))


def _where(table: EventTable) -> list[list[str]]:
    """Per event, the folder and host terms of a shell command without a working folder (a
    history's line: followed through its ``cd`` and ``ssh`` in arrival order); [] otherwise."""
    out: list[list[str]] = [[] for _ in range(len(table))]
    pick = [
        int(i)
        for i in np.argsort(table.ids, kind="stable")
        if table.source[i] == "shell" and not table.cwd[i] and table.cmd[i]
    ]
    for i, terms in zip(pick, context_terms([table.cmd[i] for i in pick]), strict=True):
        out[i] = terms
    return out


def _dedupe_names(profiles: dict[int, ClusterProfile], hosts: frozenset[str]) -> None:
    """Two clusters with one name (or the same words in another order: "eog and inkscape",
    "inkscape and eog") get their most distinctive term appended."""
    seen: dict[frozenset[str], list[int]] = {}
    for c, p in profiles.items():
        seen.setdefault(frozenset(p.name.split()), []).append(c)
    for cs in seen.values():
        if len(cs) < 2:
            continue
        for c in cs[1:]:
            p = profiles[c]
            name = p.name
            shares = {"act:shell/command": p.sources.get("shell", 0.0)}
            words = [
                w
                for w in distinctive_words([t for t, _ in p.top_terms], shares, n=6, hosts=hosts)
                if w not in name
            ]
            p.name = f"{name} ({words[0] if words else f'#{c}'})"
