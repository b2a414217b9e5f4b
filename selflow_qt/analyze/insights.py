"""Data Insights as plain functions: learning progress, trends and optimization suggestions.

Everything here reads the store with plain SQL and returns dataclasses; the Insights dock only
draws them. No Qt.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from peewee import SqliteDatabase

from selflow_qt.analyze.insights_tips import (  # noqa: F401 (re-exported)
    OptimizationTip,
    command_key,
    optimization_suggestions,
    parent_folder,
    short_path,
)
from selflow_qt.core.wording import unnamed_group
from selflow_qt.store.queries.events import event_count
from selflow_qt.store.queries.insights import (
    activity_between,
    first_ts_before,
    first_ts_of_run,
    resolved_predictions,
    times_of,
)

DAY = 86_400.0
WEEK = 7 * DAY
TREND_TEST = (
    "exact two-sided binomial test: with no change, this week's count is Binomial(this + last, "
    "this week's recorded days / both weeks' recorded days); rising or falling when p < 0.05; "
    "'new' when less than a day of the week before was recorded (nothing to compare with)"
)
MIN_PREVIOUS = DAY  # recorded time of the week before below which no trend is claimed


@dataclass
class RunPoint:
    """One analysis run on the learning-progress chart."""

    started_at: float
    n_events: int
    consensus_score: float | None  # None: one method grouped (few workflow units)
    n_patterns: int


@dataclass
class AgentDay:
    """One agent's observed predictions on one day."""

    model_id: str
    day_start: float
    attempts: int
    successes: int

    @property
    def success_rate(self) -> float:
        return self.successes / self.attempts if self.attempts else 0.0


@dataclass
class Trend:
    """How often a workflow, app, command or folder shows up this week compared with last."""

    key: str
    kind: str  # pattern / app / command / folder
    this_week: int
    last_week: int
    p_value: float
    direction: str  # rising / falling / steady / new (no week before recorded to compare with)
    this_days: float = 7.0  # days of each week that were recorded (day one: less than a week)
    last_days: float = 7.0

    @property
    def change(self) -> float:
        """Relative change of the daily rate, e.g. 0.5 for +50 %; inf when last week had none."""
        if self.last_week == 0 or self.last_days <= 0 or self.this_days <= 0:
            return math.inf if self.this_week else 0.0
        return (self.this_week / self.this_days) / (self.last_week / self.last_days) - 1.0


@dataclass
class InsightsReport:
    """Everything the Data Insights dock shows, computed at ``computed_at``."""

    computed_at: float
    progress: list[RunPoint]
    agents: dict[str, list[AgentDay]]
    trends: list[Trend]
    tips: list[OptimizationTip]
    n_events: int


# -- helpers -------------------------------------------------------------------------------------
def binomial_two_sided_p(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided p-value of k successes in n flips of a coin with P(success) = ``p``
    (the sum of the outcomes as unlikely as k)."""
    if n <= 0:
        return 1.0
    if p != 0.5:
        from scipy.stats import binomtest

        return float(binomtest(k, n, p).pvalue)

    def logpmf(i: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)

    # The pmf is symmetric and unimodal: the outcomes at least as unlikely are the two tails.
    tail = min(k, n - k)
    p = 2.0 * sum(math.exp(logpmf(i)) for i in range(tail + 1))
    return min(1.0, p)


# -- learning progress ---------------------------------------------------------------------------
def learning_progress(db: SqliteDatabase) -> list[RunPoint]:
    """Patterns and consensus score per analysis run, oldest first (empty before the first run)."""
    from selflow_qt.store.queries.analysis import runs_history

    points = [
        RunPoint(
            started_at=float(r.get("started_at") or 0.0),
            n_events=int(r.get("n_events") or 0),
            consensus_score=r.get("consensus_score"),
            n_patterns=int(r.get("n_patterns") or 0),
        )
        for r in runs_history(db)
    ]
    return sorted(points, key=lambda p: p.started_at)


def agent_performance_over_time(
    db: SqliteDatabase, *, days: int = 28, now: float | None = None
) -> dict[str, list[AgentDay]]:
    """Per predictor, its resolved predictions' success per day over the last ``days`` days."""
    now = time.time() if now is None else now
    start = now - days * DAY
    rows = resolved_predictions(db, start)
    buckets: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for model_id, ts, success in rows:
        b = buckets[(model_id, int((ts - start) // DAY))]
        b[0] += 1
        b[1] += 1 if success else 0
    out: dict[str, list[AgentDay]] = defaultdict(list)
    for (model_id, day), (attempts, successes) in sorted(buckets.items()):
        out[model_id].append(AgentDay(model_id, start + day * DAY, attempts, successes))
    return dict(out)


# -- trends --------------------------------------------------------------------------------------
def _event_keys(
    source: str, action: str, path, app, cmd, home: str | None
) -> list[tuple[str, str]]:
    keys = []
    if app and source in ("app", "aw"):
        keys.append(("app", app))
    if cmd and source == "shell":
        k = command_key(cmd)
        if k:
            keys.append(("command", k))
    if path and source == "fs":
        keys.append(("folder", short_path(parent_folder(path), home)))
    return keys


def _pattern_weeks(db: SqliteDatabase, now: float) -> Counter:
    """(pattern name, week) counts from the latest analysis run's consensus clusters."""
    counts: Counter = Counter()
    from selflow_qt.store.queries.analysis import latest_projection

    proj = latest_projection(db, max_points=10_000_000)
    if proj is None or len(proj.event_ids) == 0:
        return counts
    label_of = dict(zip(proj.event_ids.tolist(), proj.consensus.tolist(), strict=False))
    ids = list(label_of)
    first = first_ts_of_run(db, proj.run_id)
    if first is None or first > now - 2 * WEEK + DAY:
        return counts  # the run does not cover last week: its counts cannot be compared
    for eid, ts in times_of(db, ids, now - 2 * WEEK):
        label = label_of[eid]
        if label < 0:
            continue
        name = proj.cluster_names.get(label, unnamed_group(label))
        counts[(name, 0 if ts >= now - WEEK else 1)] += 1
    return counts


def detect_trends(
    db: SqliteDatabase,
    *,
    now: float | None = None,
    alpha: float = 0.05,
    min_total: int = 10,
    home: str | None = None,
    include_patterns: bool = True,
) -> list[Trend]:
    """Events per pattern, app, command and folder in the last 7 days vs the 7 before.

    Keys with fewer than ``min_total`` events in the two weeks are skipped; see ``TREND_TEST``.
    Sorted: significant changes first, then by size of change.
    """
    now = time.time() if now is None else now
    this_s, last_s = recorded_weeks(db, now)
    counts: Counter = Counter()
    rows = activity_between(db, now - 2 * WEEK, now)
    for ts, source, action, path, app, cmd in rows:
        week = 0 if ts >= now - WEEK else 1
        for kind, key in _event_keys(source, action, path, app, cmd, home):
            counts[(kind, key, week)] += 1
    if include_patterns:
        for (name, week), n in _pattern_weeks(db, now).items():
            counts[("pattern", name, week)] += n
    keys = {(kind, key) for kind, key, _ in counts}
    trends = []
    for kind, key in keys:
        a, b = counts[(kind, key, 0)], counts[(kind, key, 1)]
        if a + b < min_total:
            continue
        if last_s < MIN_PREVIOUS:  # day one: an empty week before is no evidence of a rise
            p, direction = 1.0, "new"
        else:
            share = this_s / (this_s + last_s)  # this week's share of the recorded time
            p = binomial_two_sided_p(a, a + b, share)
            direction = "steady" if p >= alpha else ("rising" if a > share * (a + b) else "falling")
        trends.append(Trend(key, kind, a, b, p, direction, this_s / DAY, last_s / DAY))
    trends.sort(
        key=lambda t: (
            t.direction in ("steady", "new"),
            t.p_value,
            -abs(t.this_week - t.last_week),
        )
    )
    return trends


def recorded_weeks(db: SqliteDatabase, now: float) -> tuple[float, float]:
    """Seconds of this week and of the week before since the first recorded event."""
    first = first_ts_before(db, now)
    if first is None:
        return 0.0, 0.0
    this_s = min(max(now - float(first), 0.0), WEEK)
    last_s = min(max(now - WEEK - float(first), 0.0), WEEK)
    return this_s, last_s


def build_insights(
    db: SqliteDatabase, *, now: float | None = None, home: str | None = None
) -> InsightsReport:
    """Everything the Data Insights dock shows, in one call (run it off the GUI thread)."""
    now = time.time() if now is None else now
    n_events = event_count(db)
    progress = learning_progress(db)
    return InsightsReport(
        computed_at=now,
        progress=progress,
        agents=agent_performance_over_time(db, now=now),
        trends=detect_trends(db, now=now, home=home),
        tips=optimization_suggestions(db, now=now, home=home),
        n_events=int(n_events),
    )
