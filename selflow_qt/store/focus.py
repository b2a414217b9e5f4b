"""Focus time: how long an app was in the foreground today, away time removed."""

from __future__ import annotations

import time

from peewee import SqliteDatabase

from selflow_qt.store.day import LocalDay, local_day

FOCUS_GAP_CAP_S = 15 * 60  # a focus span with no known end counts at most this long
FOCUS_TIME_DEFINITION = (
    "Focus Time: how long an application was in the foreground today while you were at the "
    "computer: the sum of today's app focus spans (each focus event's duration, else the time "
    f"to the next focus change, at most {FOCUS_GAP_CAP_S // 60} min), minus time marked away (afk)."
)


def focus_time_today(
    db: SqliteDatabase, day: LocalDay | None = None, now: float | None = None
) -> float:
    """Seconds of foreground-app time today, away time removed (see FOCUS_TIME_DEFINITION)."""
    day = day or local_day(now)
    where, params = day.sql()
    rows = db.execute_sql(
        f"SELECT ts, tz_offset, action, duration FROM events WHERE "
        f"((source = 'app' AND action = 'focus') OR action = 'afk') AND {where} ORDER BY ts",
        params,
    ).fetchall()
    t_now = time.time() if now is None else now
    spans: list[tuple[float, float]] = []
    away: list[tuple[float, float]] = []
    focus = [(ts, dur) for ts, _tz, action, dur in rows if action == "focus"]
    for i, (ts, dur) in enumerate(focus):
        if dur is not None and dur >= 0:
            end = ts + dur
        else:
            nxt = focus[i + 1][0] if i + 1 < len(focus) else t_now
            end = min(nxt, ts + FOCUS_GAP_CAP_S)
        spans.append((ts, max(ts, end)))
    for ts, _tz, action, dur in rows:
        if action == "afk" and dur:
            away.append((ts, ts + dur))
    return max(0.0, _covered(spans) - _overlap(spans, away))


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _covered(spans: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in _merge(spans))


def _overlap(a_spans: list[tuple[float, float]], b_spans: list[tuple[float, float]]) -> float:
    total = 0.0
    for a0, a1 in _merge(a_spans):
        for b0, b1 in _merge(b_spans):
            total += max(0.0, min(a1, b1) - max(a0, b0))
    return total
