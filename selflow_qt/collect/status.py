"""What `selflow status` reports, as one plain dict (the CLI prints it; the UI can show it).

JSON shape (keys are stable)::

    {"data_dir": str,
     "database": {"path": str, "bytes": int (file + wal), "schema_version": int},
     "events": {"total": int, "today": int, "today_by_source": {source: int}},
     "buffer": {"bytes": int, "events": int, "budget_bytes": int, "percent": float},
     "collectors": [{"name", "state", "detail", "updated_at", "problem"}],
     "writer": {"state", "problem", "disk_full", "last_problem", "written", "dropped",
                "queued", "pid"} or null,
     ...one key per extra section the caller asks for, e.g. "trigger"}

``today`` is the local calendar day. A collector whose heartbeat is older than ``STALE_SECONDS``,
or whose process is gone, is reported as ``stopped``. A collector that stopped seeing events
(``stalled``: its self-check failed; ``error``; ``unavailable``) has ``problem``: one line that
says which and why (collect.base.problem_line), else null.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from selflow_qt.collect.base import LIVE_STATES, problem_line
from selflow_qt.collect.service import HEARTBEAT_SECONDS, WRITER_KEY
from selflow_qt.core.child import pid_alive
from selflow_qt.core.format import human_bytes
from selflow_qt.store.queries.collectors import (
    collector_rows,
    event_counts_by_source,
    schema_user_version,
)
from selflow_qt.store.queries.events import event_count
from selflow_qt.store.state import buffer_fill, kv_get

STALE_SECONDS = 3 * HEARTBEAT_SECONDS


def local_day_start(now: float | None = None) -> float:
    """Unix time of the start of the local calendar day containing ``now``."""
    dt = datetime.fromtimestamp(time.time() if now is None else now).astimezone()
    return dt.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _db_bytes(path: Path) -> int:
    total = 0
    for p in (path, Path(str(path) + "-wal")):
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def collectors_health(db, now: float | None = None) -> list[dict[str, Any]]:
    """Rows of collector_status, with stale or orphaned live rows shown as stopped."""
    now = time.time() if now is None else now
    out = []
    for name, state, detail, pid, updated in collector_rows(db):
        if state in LIVE_STATES and (now - updated > STALE_SECONDS or not pid_alive(pid)):
            state = "stopped"
            detail = f"not running (last heartbeat {now - updated:.0f} s ago)"
        out.append(
            {
                "name": name,
                "state": state,
                "detail": detail,
                "updated_at": updated,
                "problem": problem_line(name, state, detail),
            }
        )
    return out


def writer_health(db) -> dict[str, Any] | None:
    """The last recorded event-writer health (see store.writer.WriterHealth), or None.

    ``state`` is running, error, dead or stopped; a writer whose process is gone is stopped,
    but its ``problem`` (e.g. a full disk) and ``dropped`` count stay visible.
    """
    w = kv_get(db, WRITER_KEY)
    if not isinstance(w, dict):
        return None
    if w.get("state") in ("running", "error") and not pid_alive(w.get("pid")):
        w = {**w, "state": "stopped"}
    return w


def collect_status(ctx, sections: dict[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    """The whole status report for the store in ``ctx`` (a StoreContext)."""
    from selflow_qt.store.db import schema_version

    db = ctx.db
    version = schema_user_version(db)
    total = event_count(db)
    by_source = event_counts_by_source(db, local_day_start())
    fill = buffer_fill(db, ctx.settings.budget_bytes)
    report: dict[str, Any] = {
        "data_dir": str(ctx.data_dir),
        "database": {
            "path": str(ctx.db_path),
            "bytes": _db_bytes(ctx.db_path),
            "schema_version": int(version or schema_version()),
        },
        "events": {
            "total": int(total),
            "today": int(sum(by_source.values())),
            "today_by_source": {k: int(v) for k, v in by_source.items()},
        },
        "buffer": {
            "bytes": fill.bytes,
            "events": fill.events,
            "budget_bytes": fill.budget_bytes,
            "percent": round(fill.percent, 2),
        },
        "collectors": collectors_health(db),
        "writer": writer_health(db),
    }
    for key, provider in (sections or {}).items():
        try:
            report[key] = provider(ctx)
        except Exception as exc:  # one broken section must not hide the rest
            report[key] = {"error": f"{type(exc).__name__}: {exc}"}
    return report


def format_status(report: dict[str, Any]) -> str:
    """The report as a few human-readable lines."""
    ev, buf, db = report["events"], report["buffer"], report["database"]
    by = ", ".join(f"{k} {v}" for k, v in ev["today_by_source"].items()) or "none"
    lines = [
        f"data folder  {report['data_dir']}",
        f"database     {db['path']} ({human_bytes(db['bytes'])}, schema v{db['schema_version']})",
        f"events       {ev['total']} in total; today {ev['today']} ({by})",
        f"buffer       {human_bytes(buf['bytes'])} of {human_bytes(buf['budget_bytes'])} "
        f"({buf['percent']:.1f}%), {buf['events']} events this cycle",
    ]
    if report["collectors"]:
        for c in report["collectors"]:  # a collector that stopped seeing events: the one line
            text = problem_line(c["name"], c["state"], c["detail"]) or c["detail"]
            lines.append(f"collector    {c['name']:<6} {c['state']:<11} {text}")
    else:
        lines.append("collector    none has run yet (start one with `selflow collect`)")
    w = report.get("writer")
    if w:
        text = w.get("problem") or w.get("last_problem") or f"{w.get('written', 0)} events saved"
        if w.get("dropped"):
            text += f"; {w['dropped']} events could not be saved (recorded as a gap)"
        lines.append(f"writer       {w.get('state', '?'):<11} {text}")
    known = {"data_dir", "database", "events", "buffer", "collectors", "writer"}
    for key, value in report.items():
        if key not in known:
            if isinstance(value, dict) and "summary" in value:  # e.g. the analysis trigger
                value = value["summary"]
            lines.append(f"{key:<12} {value}")
    return "\n".join(lines)
