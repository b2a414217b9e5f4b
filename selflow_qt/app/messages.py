"""The one-line messages the service hub shows (status bar, log) for what its jobs report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from selflow_qt.core.format import count


def import_line(report: Any) -> str:
    """What an import (a drop, the welcome's history, Import…) did: events imported, folders
    now watched, each file that failed and why."""
    parts = []
    if report.imported:
        parts.append(f"imported {count(report.total, 'event')}")
    if report.watched:
        parts.append(f"now watching {len(report.watched)} more")
    for path, err in report.errors.items():
        parts.append(f"{Path(path).name or 'import'} failed: {err}")
    return "Import: " + ("; ".join(parts) or "nothing found to import")


def new_patterns_line(patterns: list) -> str:
    names = ", ".join(p.name for p in patterns)
    return f"New pattern{'s' if len(patterns) > 1 else ''}: {names}"


def found_patterns_line(patterns: list) -> str:
    """After the first import's analysis: what it found, by name."""
    names = ", ".join(p.name for p in patterns[:2]) + (", …" if len(patterns) > 2 else "")
    return f"Your history: {count(len(patterns), 'pattern')} found ({names})"


def analysis_line(result: Any) -> str:
    n = len(getattr(result, "patterns", []) or [])
    return f"Analysis finished: {count(n, 'pattern')}."


def settings_warning(warnings: tuple[str, ...]) -> tuple[str, str, str]:
    """(status line, notification title, notification body) for settings load ignored."""
    return "Settings: " + warnings[0], "Some settings were ignored", "\n".join(warnings)


def failed_training(session_id: int, error: str) -> SimpleNamespace:
    """The outcome of a training whose job raised before the runner could record one."""
    return SimpleNamespace(
        session_id=session_id, status="failed", model_id=None, final_loss=None, error=error
    )
