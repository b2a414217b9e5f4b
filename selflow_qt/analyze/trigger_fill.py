"""The trigger's fill criterion: the byte budget, the cold start before the first cycle, the
wait after a failed automatic cycle, and when the fill will pass (see ``analyze.trigger``)."""

from __future__ import annotations

from dataclasses import dataclass

from selflow_qt.store.queries.analysis import last_automatic_run
from selflow_qt.store.state import BufferFill

RETRY_GROWTH = 1.25  # after a failed automatic cycle, wait for this much more data
ACTIVE_GAP_S = 300.0  # gaps longer than this count as 5 minutes of activity, not more


@dataclass
class Criterion:
    name: str
    value: float
    threshold: float
    passed: bool
    detail: str = ""


def budget_text(nbytes: int, events: int, target_bytes: float, settings) -> str:
    """What the byte budget means in events, and what happens between full analyses."""
    from selflow_qt.core.format import human_bytes, human_duration

    per_event = nbytes / events if events else 160.0  # a typical event's stored size
    every = human_duration(settings.incremental_every_s).replace(" 00 s", "")
    return (
        f"Budget: a full re-analysis after {human_bytes(target_bytes)} of new activity "
        f"(~{int(target_bytes / per_event):,} events of ~{per_event:.0f} B). Between analyses, "
        f"new events join your patterns every {every} and a new workflow is announced "
        "within minutes."
    )


def active_seconds(ts) -> float:
    """Time spent active over sorted timestamps: the gaps, each capped at ``ACTIVE_GAP_S``."""
    if ts is None or len(ts) < 2:
        return 0.0
    ts = [float(t) for t in ts]
    return sum(min(b - a, ACTIVE_GAP_S) for a, b in zip(ts, ts[1:], strict=False))


def budget_fill(s, fill: BufferFill) -> Criterion:
    return Criterion(
        "fill",
        round(fill.ratio, 4),
        s.trigger_fill_ratio,
        fill.ratio >= s.trigger_fill_ratio,
        f"{fill.percent:.1f}% of {s.budget_bytes / 2**20:.0f} MB",
    )


def cold_fill(s, fill: BufferFill, table) -> Criterion:
    """Before the first cycle: the budget, or enough events, or enough active time with events."""
    if fill.ratio >= s.trigger_fill_ratio:
        return budget_fill(s, fill)
    minutes = active_seconds(None if table is None else table.ts) / 60.0
    by_events = fill.events >= s.cold_start_events
    by_time = minutes >= s.cold_start_minutes and fill.events >= s.cold_start_min_events
    value = max(fill.events / max(s.cold_start_events, 1), min(
        minutes / max(s.cold_start_minutes, 1e-9),
        fill.events / max(s.cold_start_min_events, 1),
    ))  # fmt: skip
    return Criterion(
        "fill",
        round(min(value, 1.0), 4),
        1.0,
        by_events or by_time,
        f"first analysis: {fill.events:,} of {s.cold_start_events:,} events, or "
        f"{minutes:.0f} of {s.cold_start_minutes:.0f} active minutes with "
        f"{s.cold_start_min_events} events",
    )


def after_failure(fill_crit: Criterion, fill: BufferFill) -> Criterion:
    """An automatic cycle that failed on this buffer is retried only with a quarter more events.

    Otherwise a cycle that cannot run on this data (too few sessions, say) would start again
    every minute, at full CPU.
    """
    last = last_automatic_run(fill.cycle_started)
    if last is None or last.status != "failed" or not fill_crit.passed:
        return fill_crit
    need = int(RETRY_GROWTH * last.n_events) + 1
    if fill.events >= need:
        return fill_crit
    error = last.error.split(": ", 1)[-1][:120]
    fill_crit.passed = False
    fill_crit.detail = f"the last automatic analysis failed ({error}); retrying at {need:,} events"
    return fill_crit


def fill_eta_s(s, fill: BufferFill, table=None, cold: bool = False) -> float | None:
    """Seconds until the fill criterion passes (0: it passes now; None: no rate yet).

    The rate is the buffer's events over the time its newest events span (nights included), so
    an import's burst or a test's batch does not make it look like minutes.
    """
    if table is None or len(table) < 2 or fill.events < 2:
        return None
    span = float(table.ts[-1] - table.ts[0])
    if span <= 0:
        return None
    events_per_s = len(table) / span
    if cold and fill.ratio < s.trigger_fill_ratio:
        minutes = active_seconds(table.ts) / 60.0
        if fill.events >= s.cold_start_events or (
            minutes >= s.cold_start_minutes and fill.events >= s.cold_start_min_events
        ):
            return 0.0
        by_events = (s.cold_start_events - fill.events) / events_per_s
        active_share = minutes * 60.0 / span
        by_time = max(
            (s.cold_start_minutes - minutes) * 60.0 / max(active_share, 1e-6),
            (s.cold_start_min_events - fill.events) / events_per_s,
        )
        return max(0.0, min(by_events, by_time))
    target = s.trigger_fill_ratio * s.budget_bytes
    if fill.bytes >= target:
        return 0.0
    bytes_per_s = events_per_s * fill.bytes / fill.events
    return (target - fill.bytes) / bytes_per_s if bytes_per_s > 0 else None
