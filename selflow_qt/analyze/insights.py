"""Data Insights as plain functions: learning progress, trends and optimization suggestions.

Everything here reads the store with plain SQL and returns dataclasses; the Insights dock only
draws them. No Qt.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from peewee import SqliteDatabase

DAY = 86_400.0
WEEK = 7 * DAY
TREND_TEST = (
    "exact two-sided binomial test: with no change, this week's count is Binomial(this + last, 1/2);"
    " rising or falling when p < 0.05"
)
FOLLOW_WINDOW_S = 600.0  # a command "follows" edits when it comes within 10 minutes of the last one
MULTI_WORD_TOOLS = {"git", "npm", "yarn", "pnpm", "cargo", "docker", "kubectl", "make", "go", "uv"}
_HOME_RE = re.compile(r"^(/home/[^/]+|/Users/[^/]+|[A-Za-z]:\\Users\\[^\\]+)")


@dataclass
class RunPoint:
    """One analysis run on the learning-progress chart."""

    started_at: float
    n_events: int
    consensus_score: float
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
    direction: str  # rising / falling / steady

    @property
    def change(self) -> float:
        """Relative change, e.g. 0.5 for +50 %; inf when last week had none."""
        if self.last_week == 0:
            return math.inf if self.this_week else 0.0
        return self.this_week / self.last_week - 1.0


@dataclass
class OptimizationTip:
    """A suggestion derived from the data, with the numbers that support it."""

    kind: str  # command-after-edits / folder-growth / repeated-command
    text: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


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
def short_path(path: str, home: str | None = None) -> str:
    """``~/...`` for paths in a home folder (the given one, else any /home/<user>)."""
    if home and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")) :]
    return _HOME_RE.sub("~", path, count=1)


def command_key(cmd: str) -> str:
    """The program a command line runs, with its subcommand for tools like git or npm."""
    words = cmd.strip().split()
    if not words:
        return ""
    if words[0] in ("sudo", "env") and len(words) > 1:
        words = words[1:]
    prog = words[0].rsplit("/", 1)[-1]
    if prog in MULTI_WORD_TOOLS and len(words) > 1 and not words[1].startswith("-"):
        return f"{prog} {words[1]}"
    if prog in ("python", "python3") and len(words) > 2 and words[1] == "-m":
        return f"{prog} -m {words[2]}"
    return prog


def _parent(path: str) -> str:
    sep = "\\" if "\\" in path and "/" not in path else "/"
    head = path.rstrip(sep).rsplit(sep, 1)[0]
    return head or sep


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips (sum of outcomes as unlikely)."""
    if n <= 0:
        return 1.0

    def logpmf(i: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2)

    # The pmf is symmetric and unimodal: the outcomes at least as unlikely are the two tails.
    tail = min(k, n - k)
    p = 2.0 * sum(math.exp(logpmf(i)) for i in range(tail + 1))
    return min(1.0, p)


# -- learning progress ---------------------------------------------------------------------------
def learning_progress(db: SqliteDatabase) -> list[RunPoint]:
    """Patterns and consensus score per analysis run, oldest first (empty before the first run)."""
    try:
        from selflow_qt.analyze.read import runs_history
    except ModuleNotFoundError:
        return []
    points = [
        RunPoint(
            started_at=float(r.get("started_at") or 0.0),
            n_events=int(r.get("n_events") or 0),
            consensus_score=float(r.get("consensus_score") or 0.0),
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
    rows = db.execute_sql(
        "SELECT model_id, timestamp, success FROM user_interactions "
        "WHERE success IS NOT NULL AND model_id IS NOT NULL AND timestamp >= ? ORDER BY timestamp",
        (start,),
    ).fetchall()
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
        keys.append(("folder", short_path(_parent(path), home)))
    return keys


def _pattern_weeks(db: SqliteDatabase, now: float) -> Counter:
    """(pattern name, week) counts from the latest analysis run's consensus clusters."""
    counts: Counter = Counter()
    try:
        from selflow_qt.analyze.read import latest_projection
    except ModuleNotFoundError:
        return counts
    proj = latest_projection(db, max_points=10_000_000)
    if proj is None or len(proj.event_ids) == 0:
        return counts
    label_of = dict(zip(proj.event_ids.tolist(), proj.consensus.tolist(), strict=False))
    ids = list(label_of)
    first = db.execute_sql(
        "SELECT min(ts) FROM events WHERE id IN (SELECT event_id FROM cluster_assignments "
        "WHERE run = ?)",
        (proj.run_id,),
    ).fetchone()[0]
    if first is None or first > now - 2 * WEEK + DAY:
        return counts  # the run does not cover last week: its counts cannot be compared
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        q = ",".join("?" * len(chunk))
        sql = f"SELECT id, ts FROM events WHERE id IN ({q}) AND ts >= ?"
        for eid, ts in db.execute_sql(sql, (*chunk, now - 2 * WEEK)).fetchall():
            label = label_of[eid]
            if label < 0:
                continue
            name = proj.cluster_names.get(label, f"cluster {label}")
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
    counts: Counter = Counter()
    rows = db.execute_sql(
        "SELECT ts, source, action, path, app, cmd FROM events WHERE ts >= ? AND ts < ?",
        (now - 2 * WEEK, now),
    )
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
        p = binomial_two_sided_p(a, a + b)
        direction = "steady" if p >= alpha else ("rising" if a > b else "falling")
        trends.append(Trend(key, kind, a, b, p, direction))
    trends.sort(key=lambda t: (t.direction == "steady", t.p_value, -abs(t.this_week - t.last_week)))
    return trends


# -- optimization suggestions --------------------------------------------------------------------
def _commands_after_edits(
    edits: list[tuple[float, str]],
    commands: list[tuple[float, str, str]],
    home: str | None,
    min_sessions: int,
    min_share: float,
) -> list[OptimizationTip]:
    by_cwd: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for ts, cwd, key in commands:
        by_cwd[cwd].append((ts, key))
    tips = []
    for cwd, cmds in by_cwd.items():
        if len(cmds) < min_sessions:
            continue
        prefix = cwd.rstrip("/") + "/"
        timeline = [(ts, 0, "") for ts, p in edits if p.startswith(prefix)]
        if len(timeline) < min_sessions:
            continue
        timeline += [(ts, 1, key) for ts, key in cmds]
        timeline.sort()
        sessions, followed = 0, Counter()
        in_session, last_edit = False, 0.0
        for ts, is_cmd, key in timeline:
            if not is_cmd:
                if in_session and ts - last_edit > FOLLOW_WINDOW_S:
                    sessions += 1  # the previous edit session ended with no command
                in_session, last_edit = True, ts
            elif in_session:
                sessions += 1
                if ts - last_edit <= FOLLOW_WINDOW_S:
                    followed[key] += 1
                in_session = False
        sessions += 1 if in_session else 0
        if sessions < min_sessions or not followed:
            continue
        key, n = followed.most_common(1)[0]
        share = n / sessions
        if share >= min_share:
            where = short_path(cwd, home)
            tips.append(
                OptimizationTip(
                    "command-after-edits",
                    f"You run `{key}` after {share:.0%} of edit sessions in {where}: "
                    "an agent could suggest it",
                    score=share * math.log1p(sessions),
                    evidence={"command": key, "folder": where, "sessions": sessions, "followed": n},
                )
            )
    return tips


def _growing_folders(
    rows: list[tuple[float, str, str, str | None]],
    span_days: float,
    home: str | None,
    min_per_day: float,
) -> list[OptimizationTip]:
    added: Counter = Counter()
    removed: Counter = Counter()
    for _ts, action, path, dest in rows:
        if action == "create":
            added[_parent(path)] += 1
        elif action == "delete":
            removed[_parent(path)] += 1
        elif action == "move":
            removed[_parent(path)] += 1
            if dest:
                added[_parent(dest)] += 1
    tips = []
    for folder, n_add in added.items():
        net = n_add - removed[folder]
        per_day = net / span_days
        if per_day >= min_per_day:
            where = short_path(folder, home)
            tips.append(
                OptimizationTip(
                    "folder-growth",
                    f"{where} accumulates {per_day:.0f} files/day ({n_add} added, "
                    f"{removed[folder]} removed in {span_days:.0f} days): a rule could file them away",
                    score=math.log1p(per_day),
                    evidence={"folder": where, "added": n_add, "removed": removed[folder]},
                )
            )
    return tips


def optimization_suggestions(
    db: SqliteDatabase,
    *,
    now: float | None = None,
    days: int = 14,
    home: str | None = None,
    min_sessions: int = 5,
    min_share: float = 0.5,
    min_files_per_day: float = 3.0,
    min_repeats_per_day: float = 5.0,
    limit: int = 8,
) -> list[OptimizationTip]:
    """Suggestions derived from the last ``days`` days of events, best supported first."""
    now = time.time() if now is None else now
    rows = db.execute_sql(
        "SELECT ts, source, action, path, dest, cmd, cwd FROM events "
        "WHERE ts >= ? AND ts < ? AND source IN ('fs', 'shell') ORDER BY ts",
        (now - days * DAY, now),
    ).fetchall()
    if not rows:
        return []
    span_days = max(1.0, (rows[-1][0] - rows[0][0]) / DAY)
    edits, commands, fs_rows, full_cmds = [], [], [], Counter()
    for ts, source, action, path, dest, cmd, cwd in rows:
        if source == "fs" and path:
            fs_rows.append((ts, action, path, dest))
            if action in ("create", "modify"):
                edits.append((ts, path))
        elif source == "shell" and cmd:
            full_cmds[cmd.strip()] += 1
            if cwd:
                commands.append((ts, cwd, command_key(cmd)))
    tips = _commands_after_edits(edits, commands, home, min_sessions, min_share)
    folders = _growing_folders(fs_rows, span_days, home, min_files_per_day)
    tips += sorted(folders, key=lambda t: -t.score)[:3]  # the three fastest-growing folders
    for cmd, n in full_cmds.most_common(3):
        per_day = n / span_days
        if per_day >= min_repeats_per_day:
            tips.append(
                OptimizationTip(
                    "repeated-command",
                    f"You typed `{cmd}` {n} times in {span_days:.0f} days ({per_day:.0f}/day): "
                    "an alias or a suggestion in the tray would save typing",
                    score=0.5 * math.log1p(per_day),
                    evidence={"command": cmd, "count": n},
                )
            )
    tips.sort(key=lambda t: -t.score)
    return tips[:limit]


def build_insights(
    db: SqliteDatabase, *, now: float | None = None, home: str | None = None
) -> InsightsReport:
    """Everything the Data Insights dock shows, in one call (run it off the GUI thread)."""
    now = time.time() if now is None else now
    n_events = db.execute_sql("SELECT count(*) FROM events").fetchone()[0]
    progress = learning_progress(db)
    return InsightsReport(
        computed_at=now,
        progress=progress,
        agents=agent_performance_over_time(db, now=now),
        trends=detect_trends(db, now=now, home=home),
        tips=optimization_suggestions(db, now=now, home=home),
        n_events=int(n_events),
    )
