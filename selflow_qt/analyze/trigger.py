"""When a cycle starts by itself: the buffer is full enough, diverse, and has structure.

Criteria (all must pass; each threshold is a setting):
- ``fill``: buffer bytes / budget >= ``trigger_fill_ratio`` (default 0.9).
- ``sources``: distinct sources among the buffer's events >= ``trigger_min_sources``.
- ``entropy``: Shannon entropy (bits) of the buffer's activity kinds, a kind being
  ``source/action`` plus the top folder (``~/src``) or the command verb or the app,
  >= ``trigger_min_entropy``.
- ``pilot``: on a sample of at most ``PILOT_SAMPLE`` buffer events, features + k-means for
  k in 2..8; the best silhouette >= ``trigger_min_silhouette``.
The diversity and pilot checks read the newest events of the buffer (at most ``PILOT_SAMPLE``);
the pilot's result is reused until the buffer grows by 5% of the budget, so calling this every
minute is cheap.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from selflow_qt.store.state import buffer_fill, kv_get, kv_set

PILOT_SAMPLE = 2000
PILOT_KEY = "trigger_pilot"
PILOT_REFRESH = 0.05  # re-run the pilot when the buffer has grown by this share of the budget


@dataclass
class Criterion:
    name: str
    value: float
    threshold: float
    passed: bool
    detail: str = ""


@dataclass
class TriggerReport:
    ready: bool
    criteria: list[Criterion] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "criteria": [asdict(c) for c in self.criteria],
            "summary": self.summary(),
        }

    def summary(self) -> str:
        parts = [f"{c.name} {'ok' if c.passed else 'no'} ({c.detail})" for c in self.criteria]
        return ("ready: " if self.ready else "waiting: ") + "; ".join(parts)


def activity_kind(
    source: str, action: str, path: str | None, app: str | None, cmd: str | None
) -> str:
    from selflow_qt.analyze.features import folder_prefixes

    key = ""
    if cmd:
        key = cmd.split()[0] if cmd.split() else ""
    elif path:
        prefixes = folder_prefixes(path)
        key = prefixes[1] if len(prefixes) > 1 else (prefixes[0] if prefixes else "")
    elif app:
        key = app
    return f"{source}/{action}:{key}"


def entropy_bits(counts: Counter) -> float:
    total = sum(counts.values())
    if not total:
        return 0.0
    return -sum((c / total) * math.log2(c / total) for c in counts.values() if c)


def pilot_silhouette(table, seed: int = 0) -> tuple[float, int]:
    """Best silhouette of k-means (k = 2..8) on the sample's features, and that k."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    from selflow_qt.analyze.features import build_features

    X = build_features(table, seed=seed, svd_dims=16).X
    if len(X) < 20:
        return 0.0, 0
    Z = PCA(n_components=min(8, X.shape[1], len(X) - 1), random_state=seed).fit_transform(X)
    best, best_k = -1.0, 0
    for k in range(2, min(8, len(Z) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=2, random_state=seed).fit_predict(Z)
        if len(np.unique(labels)) < 2:
            continue
        s = float(silhouette_score(Z, labels, sample_size=min(1000, len(Z)), random_state=seed))
        if s > best:
            best, best_k = s, k
    return best, best_k


def evaluate_trigger(ctx) -> TriggerReport:
    """Each criterion's value, threshold and verdict for the store in ``ctx``."""
    from selflow_qt.analyze.dataset import load_events

    s = ctx.settings
    fill = buffer_fill(ctx.db, s.budget_bytes)
    crit = [
        Criterion(
            "fill",
            round(fill.ratio, 4),
            s.trigger_fill_ratio,
            fill.ratio >= s.trigger_fill_ratio,
            f"{fill.percent:.1f}% of {s.budget_bytes / 2**20:.0f} MB",
        )
    ]
    n = min(fill.events, PILOT_SAMPLE)
    table = load_events(ctx.db, last_n=n) if n else None
    sources = len(set(table.source)) if table is not None else 0
    crit.append(
        Criterion(
            "sources",
            sources,
            s.trigger_min_sources,
            sources >= s.trigger_min_sources,
            f"{sources} sources in the newest {n} buffer events",
        )  # fmt: skip
    )
    kinds = Counter()
    if table is not None:
        for i in range(len(table)):
            kinds[
                activity_kind(
                    table.source[i], table.action[i], table.path[i], table.app[i], table.cmd[i]
                )
            ] += 1
    ent = entropy_bits(kinds)
    crit.append(
        Criterion(
            "entropy",
            round(ent, 3),
            s.trigger_min_entropy,
            ent >= s.trigger_min_entropy,
            f"{ent:.2f} bits over {len(kinds)} activity kinds",
        )  # fmt: skip
    )
    cache = kv_get(ctx.db, PILOT_KEY) or {}
    if table is None or len(table) < 20:
        sil, k = 0.0, 0
    elif (
        cache.get("cycle_started") == fill.cycle_started
        and 0 <= fill.bytes - int(cache.get("bytes", -1)) < PILOT_REFRESH * s.budget_bytes
    ):  # the buffer grew by less than 5% of the budget since the last pilot: reuse it
        sil, k = float(cache["silhouette"]), int(cache["k"])
    else:
        sil, k = pilot_silhouette(table)
        kv_set(
            ctx.db,
            PILOT_KEY,
            {"cycle_started": fill.cycle_started, "bytes": fill.bytes, "silhouette": sil, "k": k},
        )
    crit.append(
        Criterion(
            "pilot",
            round(sil, 4),
            s.trigger_min_silhouette,
            sil >= s.trigger_min_silhouette,
            f"silhouette {sil:.2f} at k={k} on {0 if table is None else len(table)} events",
        )  # fmt: skip
    )
    return TriggerReport(ready=all(c.passed for c in crit), criteria=crit)
