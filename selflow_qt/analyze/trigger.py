"""When a cycle starts by itself: the buffer is full enough, diverse, and has structure.

Criteria (all must pass; each threshold is a setting):
- ``fill``: buffer bytes / budget >= ``trigger_fill_ratio`` (default 0.9). Cold start: until the
  first cycle has completed, "enough structure" replaces the budget: ``cold_start_events`` buffer
  events, or ``cold_start_minutes`` of active time with ``cold_start_min_events`` events (the
  budget assumes ~1 KB events; real ones are ~160 B, so day one would otherwise wait for months).
- ``sources``: distinct sources among the buffer's events >= ``trigger_min_sources``.
- ``entropy``: Shannon entropy (bits) of the buffer's activity kinds, a kind being
  ``source/action`` plus the top folder (``~/src``) or the command verb or the app,
  >= ``trigger_min_entropy``.
- ``pilot``: on a sample of at most ``PILOT_SAMPLE`` buffer events, features + k-means for
  k in 2..8; the best silhouette >= ``trigger_min_silhouette``.
- ``units``: the cycle can name something on these events (``few_units.readiness``, the same
  check the cycle refuses by): enough workflow units for the clusterers, or, with fewer, a group
  of units with ``incremental_min_events`` varied events. So a cycle that would refuse is never
  started, and a first hour of one kind of work still gets its analysis.
The diversity and pilot checks read the newest events of the buffer (at most ``PILOT_SAMPLE``);
the pilot's result is reused until the buffer grows by 5% of the budget or by a fifth of its
events, so calling this every minute is cheap. ``eta_s`` estimates when the fill will pass at the
buffer's rate so far (None: no rate yet).

Each full check stores its report in kv_state; ``quick_trigger`` (what ``selflow status`` shows)
recomputes only fill, sources and entropy and takes pilot and units from that stored report, so
the CLI never builds features or loads scikit-learn.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from selflow_qt.analyze.paths import folder_prefixes
from selflow_qt.analyze.trigger_fill import (  # noqa: F401 (budget_text: the Training Center's)
    Criterion,
    after_failure,
    budget_fill,
    budget_text,
    cold_fill,
    fill_eta_s,
)
from selflow_qt.store.queries.analysis import any_completed_run
from selflow_qt.store.queries.events import analysis_rows
from selflow_qt.store.state import BufferFill, buffer_fill, kv_get, kv_set

PILOT_SAMPLE = 2000
PILOT_KEY = "trigger_pilot"
REPORT_KEY = "trigger_report"  # the last full report, for ``quick_trigger`` (selflow status)
PILOT_REFRESH = 0.05  # re-run the pilot when the buffer has grown by this share of the budget
PILOT_REFRESH_EVENTS = 0.2  # ... or by this share of its events (cold start: a small buffer)


@dataclass
class TriggerReport:
    ready: bool
    criteria: list[Criterion] = field(default_factory=list)
    cold_start: bool = False  # no cycle has completed yet: structure, not the budget, decides
    eta_s: float | None = None  # seconds until the fill passes at the current rate

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "criteria": [asdict(c) for c in self.criteria],
            "summary": self.summary(),
            "cold_start": self.cold_start,
            "eta_s": self.eta_s,
        }

    def first_analysis_text(self) -> str:
        """Before the first analysis: what it waits for, and when it is expected."""
        from selflow_qt.core.format import human_duration

        fill = next((c for c in self.criteria if c.name == "fill"), None)
        waiting = [c.name for c in self.criteria if not c.passed and c.name != "fill"]
        if fill is not None and fill.passed:
            if self.ready:
                return "first analysis: starting"
            return f"first analysis: enough activity; waiting for {', '.join(waiting)}"
        when = "" if self.eta_s is None else f" (expected in ~{human_duration(self.eta_s)})"
        return (fill.detail if fill is not None else "first analysis: gathering activity") + when

    def summary(self) -> str:
        parts = [f"{c.name} {'ok' if c.passed else 'no'} ({c.detail})" for c in self.criteria]
        return ("ready: " if self.ready else "waiting: ") + "; ".join(parts)


def activity_kind(
    source: str, action: str, path: str | None, app: str | None, cmd: str | None
) -> str:

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
    """Each criterion's value, threshold and verdict for the store in ``ctx``; the report is
    also stored (``REPORT_KEY``) for ``quick_trigger``."""
    s = ctx.settings
    fill, table, cold = _buffer(ctx)
    crit = _cheap_criteria(s, fill, table, cold)
    crit.append(_pilot(ctx, fill, table))
    crit.append(_units(s, table))
    report = TriggerReport(
        ready=all(c.passed for c in crit),
        criteria=crit,
        cold_start=cold,
        eta_s=fill_eta_s(s, fill, table, cold),
    )
    kv_set(
        ctx.db,
        REPORT_KEY,
        {**report.as_dict(), "checked_at": time.time(), "cycle_started": fill.cycle_started},
    )
    return report


def quick_trigger(ctx, now: float | None = None) -> TriggerReport:
    """The report for ``selflow status``, in well under a second on any buffer: the cheap
    criteria (fill, sources, entropy) computed now, the costly ones (pilot, units: features and
    workflow units) as the analysis process last stored them for this buffer, else unchecked."""
    s = ctx.settings
    fill, table, cold = _buffer(ctx, cheap=True)
    crit = _cheap_criteria(s, fill, table, cold)
    stored = kv_get(ctx.db, REPORT_KEY)
    same_buffer = isinstance(stored, dict) and stored.get("cycle_started") == fill.cycle_started
    by_name = {c["name"]: c for c in stored.get("criteria", [])} if same_buffer else {}
    age = (
        max(0.0, (time.time() if now is None else now) - float(stored.get("checked_at", 0.0)))
        if same_buffer
        else 0.0
    )
    for name in ("pilot", "units"):
        c = by_name.get(name)
        if c is None:
            crit.append(
                Criterion(
                    name,
                    0,
                    s.trigger_min_silhouette if name == "pilot" else _min_units(),
                    False,
                    "not checked yet for this buffer (the analysis process checks it)",
                )
            )
        else:
            crit.append(
                Criterion(
                    name,
                    c["value"],
                    c["threshold"],
                    bool(c["passed"]),
                    f"{c['detail']}; checked {_ago(age)}",
                )
            )
    return TriggerReport(
        ready=all(c.passed for c in crit),
        criteria=crit,
        cold_start=cold,
        eta_s=fill_eta_s(s, fill, table, cold),
    )


def _ago(seconds: float) -> str:
    from selflow_qt.core.format import human_duration

    return "just now" if seconds < 60 else f"{human_duration(seconds)} ago"


def _min_units() -> int:
    from selflow_qt.analyze.few_units import MIN_UNITS  # numpy: only while nothing is stored

    return MIN_UNITS


@dataclass
class _Sample:
    """The newest buffer events as plain columns: what the cheap criteria read (no numpy)."""

    ts: list[float]
    source: list[str]
    action: list[str]
    path: list[str | None]
    app: list[str | None]
    cmd: list[str | None]

    def __len__(self) -> int:
        return len(self.ts)


def _buffer(ctx, cheap: bool = False) -> tuple[BufferFill, object, bool]:
    """The buffer's fill, its newest events (at most ``PILOT_SAMPLE``; an EventTable, or with
    ``cheap`` plain columns) and whether no cycle has completed yet."""
    fill = buffer_fill(ctx.db, ctx.settings.budget_bytes)
    n = min(fill.events, PILOT_SAMPLE)
    if not n:
        table = None
    elif cheap:
        rows = analysis_rows(ctx.db, last_n=n, with_truth=False)
        table = _Sample(*([r[i] for r in rows] for i in (1, 3, 4, 5, 7, 8)))
    else:
        from selflow_qt.analyze.dataset import load_events

        table = load_events(ctx.db, last_n=n)
    cold = not any_completed_run()
    return fill, table, cold


def _cheap_criteria(s, fill: BufferFill, table, cold: bool) -> list[Criterion]:
    """fill, sources and entropy: counts over the newest buffer events, no model."""
    crit = [cold_fill(s, fill, table) if cold else budget_fill(s, fill)]
    crit[0] = after_failure(crit[0], fill)
    n = 0 if table is None else len(table)
    sources = len(set(table.source)) if table is not None else 0
    crit.append(
        Criterion(
            "sources",
            sources,
            s.trigger_min_sources,
            sources >= s.trigger_min_sources,
            f"{sources} sources in the newest {min(fill.events, PILOT_SAMPLE)} buffer events",
        )  # fmt: skip
    )
    kinds = Counter()
    for i in range(n):
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
    return crit


def _pilot(ctx, fill: BufferFill, table) -> Criterion:
    """k-means silhouette on the sample, reused until the buffer grows (``PILOT_REFRESH``)."""
    s = ctx.settings
    cache = kv_get(ctx.db, PILOT_KEY) or {}
    if table is None or len(table) < 20:
        sil, k = 0.0, 0
    elif (
        cache.get("cycle_started") == fill.cycle_started
        and 0 <= fill.bytes - int(cache.get("bytes", -1)) < PILOT_REFRESH * s.budget_bytes
        and fill.events - int(cache.get("events", 0)) < PILOT_REFRESH_EVENTS * fill.events
    ):  # the buffer grew little since the last pilot: reuse it
        sil, k = float(cache["silhouette"]), int(cache["k"])
    else:
        sil, k = pilot_silhouette(table)
        kv_set(
            ctx.db,
            PILOT_KEY,
            {
                "cycle_started": fill.cycle_started,
                "bytes": fill.bytes,
                "events": fill.events,
                "silhouette": sil,
                "k": k,
            },
        )
    return Criterion(
        "pilot",
        round(sil, 4),
        s.trigger_min_silhouette,
        sil >= s.trigger_min_silhouette,
        f"silhouette {sil:.2f} at k={k} on {0 if table is None else len(table)} events",
    )


def _units(s, table) -> Criterion:
    from selflow_qt.analyze.few_units import MIN_UNITS, readiness

    if table is None:
        return Criterion("units", 0, MIN_UNITS, False, "no events yet")
    r = readiness(table, int(s.incremental_min_events))
    return Criterion("units", r.units, MIN_UNITS, r.ok, r.reason)
