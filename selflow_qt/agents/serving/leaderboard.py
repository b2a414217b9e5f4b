"""The one ranking of predictors (baselines and micro-agents) that the tray, the docks and
`selflow agents` show, and the Training Center's whole read.

Ranked by posterior mean success (``core.ranking.rank_key``): one lucky hit does not outrank a
long record, and untried predictors come last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.agents.ranking.predictors import BASELINE_IDS
from selflow_qt.agents.serving.bandit import Bandit
from selflow_qt.analyze import trigger
from selflow_qt.core.ranking import beta_interval, medal, rank_key
from selflow_qt.core.settings import Settings
from selflow_qt.core.wording import predictor_name
from selflow_qt.store.context import StoreContext
from selflow_qt.store.queries.agents import (
    agent_records,
    suggestions_by_model,
    training_metrics,
)
from selflow_qt.store.queries.training import (
    BufferView,
    ClusteringSummary,
    QueuedSession,
    buffer_view,
    clustering_summary,
    training_queue,
)
from selflow_qt.store.queries.tray import AgentLine
from selflow_qt.store.state import kv_get


@dataclass
class AgentRow:
    """One micro-agent or baseline as the rankings show it (rates in 0..1)."""

    arm_id: str
    kind: str  # agent / baseline
    specialization: str
    success_rate: float
    ci_low: float
    ci_high: float
    mean_latency_ms: float
    queries: int
    successes: int
    active: bool = True
    hit1: float | None = None
    mrr: float | None = None


@dataclass
class BanditView:
    """How the bandit splits suggestions: observed exploitation of the current best arm."""

    policy: str
    epsilon: float  # the configured exploration rate (epsilon-greedy)
    suggestions: int  # suggestions logged so far
    exploitation: float | None  # share of them served by the current best arm
    best: AgentRow | None


@dataclass
class TrainingCenterData:
    """Everything the Training Center shows besides the live training stream."""

    buffer: BufferView
    queue: list[QueuedSession]
    recent: list[QueuedSession]
    ranking: list[AgentRow]
    bandit: BanditView
    clustering: ClusteringSummary | None
    trigger: list[tuple[str, bool, str]] = field(default_factory=list)  # name, passed, detail


def _agent_rows(db: SqliteDatabase) -> dict[str, AgentRow]:
    out = {}
    for a in agent_records(db):
        successes = round(a.success_rate * a.total_queries)
        lo, hi = beta_interval(successes, a.total_queries)
        out[a.model_id] = AgentRow(
            a.model_id, "agent", a.specialization, a.success_rate, lo, hi, a.avg_latency_ms,
            a.total_queries, successes, a.is_active,
        )  # fmt: skip
    return out


def agent_ranking(db: SqliteDatabase, settings: Settings) -> tuple[list[AgentRow], BanditView]:
    """Agents and baselines in medal order: by posterior mean success, untried last.

    Counts come from the bandit's arms, or from micro_agents where those saw more queries.
    """
    agents = _agent_rows(db)
    rows: list[AgentRow] = []
    bandit = Bandit.load(db, settings.bandit_policy, settings.exploration_rate)
    for s in bandit.stats():
        meta = agents.pop(s.arm_id, None)
        if meta is not None and meta.queries > s.attempts:
            rows.append(meta)  # the agent's own record is the longer one
            continue
        rows.append(
            AgentRow(
                s.arm_id,
                s.kind,
                meta.specialization if meta else _baseline_spec(s.kind),
                float(s.success_rate),
                float(s.ci_low),
                float(s.ci_high),
                float(s.mean_latency_ms),
                int(s.attempts),
                int(s.successes),
                meta.active if meta else True,
            )  # fmt: skip
        )
    rows += list(agents.values())  # agents the bandit does not hold (retired, not tried)
    _attach_offline_metrics(db, rows)
    rows.sort(key=lambda r: rank_key(r.successes, r.queries, r.mean_latency_ms, r.mrr, r.arm_id))
    tried = [r for r in rows if r.queries > 0]
    best = tried[0] if tried else None
    return rows, BanditView(
        settings.bandit_policy,
        settings.exploration_rate,
        *_served_shares(db, best.arm_id if best else None),
        best,
    )


def _baseline_spec(kind: str) -> str:
    return "all activity (baseline)" if kind == "baseline" else ""


def _served_shares(db: SqliteDatabase, best: str | None) -> tuple[int, float | None]:
    """(suggestions logged, share served by ``best``): observed exploitation."""
    served = suggestions_by_model(db)
    total = sum(served.values())
    if not total or best is None:
        return total, None
    return total, served.get(best, 0) / total


def _attach_offline_metrics(db: SqliteDatabase, rows: list[AgentRow]) -> None:
    """hit@1 and MRR: an agent's held-out scores from its latest completed training, else the
    last saved offline evaluation (kv_state "offline_eval")."""
    saved = kv_get(db, "offline_eval") or {}
    metrics = dict(saved.get("metrics", {})) if isinstance(saved, dict) else {}
    metrics.update(training_metrics(db, also=BASELINE_IDS))
    for r in rows:
        m = metrics.get(r.arm_id)
        if isinstance(m, dict):
            r.hit1 = m.get("hit1")
            r.mrr = m.get("mrr")


def trigger_criteria(
    db: SqliteDatabase, data_dir: Path, settings: Settings
) -> list[tuple[str, bool, str]] | None:
    return criteria_of(trigger.evaluate_trigger(StoreContext(Path(data_dir), settings, db)))


def criteria_of(report) -> list[tuple[str, bool, str]]:
    """(name, passed, detail) of an analyze.trigger.TriggerReport."""
    return [(c.name, bool(c.passed), str(c.detail)) for c in getattr(report, "criteria", [])]


def training_center_data(
    db: SqliteDatabase,
    data_dir: Path,
    settings: Settings,
    with_trigger: bool = True,
    now: float | None = None,
) -> TrainingCenterData:
    """One read for the Training Center; ``with_trigger=False`` when the app's own minutely
    trigger check already reports the criteria."""
    queue, recent = training_queue(db)
    ranking, bandit = agent_ranking(db, settings)
    clustering = clustering_summary(db)
    criteria = trigger_criteria(db, data_dir, settings) if with_trigger else None
    return TrainingCenterData(
        buffer=buffer_view(db, settings, now),
        queue=queue,
        recent=recent,
        ranking=ranking,
        bandit=bandit,
        clustering=clustering,
        trigger=criteria or [],
    )


def model_share_text(model: dict) -> str:
    """What the language model added to an agent, in words (its record: agents.training.runner)."""
    share = model.get("share")
    added = f"{share:+.3f}" if isinstance(share, int | float) else "nothing measurable"
    if model.get("skipped"):
        return f"no adapter trained: {model['skipped']}"
    if not model.get("judged"):
        return "too few held-out positions to judge the language model; its lines are not used"
    novel5 = model.get("novel5")
    mix = model.get("mix_share")
    weighs = f" at {mix:.0%} of the next line's chance" if isinstance(mix, int | float) else ""
    if model.get("useful") and isinstance(share, int | float) and share > 0:
        return (
            f"the language model adds {added} to hit@1 on whole lines; the agent uses its "
            f"lines{weighs}"
        )
    if model.get("useful") and isinstance(novel5, int | float) and novel5 > 0:
        return (
            f"the agent uses the language model's lines{weighs}: they changed its hit@1 on whole "
            f"lines by {added} and show {novel5:.0%} more of the never-typed next lines among "
            "the five suggested"
        )
    if model.get("useful"):
        return (
            f"the agent uses the language model's lines, yet they changed its hit@1 on whole lines "
            f"by {added}; the adapter is not trained again until this pattern's data grows by half"
        )
    return (
        f"the language model added {added} to hit@1 on whole lines; its lines are not used, "
        "and its adapter is not trained again until this pattern's data grows by half"
    )


def model_lines(sessions: list[QueuedSession]) -> list[str]:
    """One line per recently trained agent: what the language model added to it."""
    return [
        f"{predictor_name(s.model_id, s.pattern_name, 'agent')}: {model_share_text(s.model)}"
        for s in sessions
        if s.status == "completed" and s.model
    ]


def active_agent_lines(rows: list[AgentRow]) -> list[AgentLine]:
    """The tray's "Micro-Agents" lines: active micro-agents in leaderboard order, with medals."""
    agents = [r for r in rows if r.kind == "agent" and r.active]
    return [
        AgentLine(r.arm_id, r.specialization, r.success_rate, r.queries, medal(i))
        for i, r in enumerate(agents, 1)
    ]
