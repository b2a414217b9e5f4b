"""How SelFlow writes numbers for people: bytes, durations, counts and percentages.

One home, so the tray, the docks and the CLI say the same thing (sizes are binary: 1 MB here
is 1,048,576 bytes, the unit the data budget is set in).
"""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """``512 B``, ``3.4 MB``: binary units, one decimal above bytes."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover (the loop returns)


def human_duration(seconds: float | None) -> str:
    """``3 h 20 min``, ``45 s``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86_400:
        return f"{s // 3600} h {(s % 3600) // 60} min"
    return f"{s // 86_400} d {(s % 86_400) // 3600} h"


def clock_duration(seconds: float) -> str:
    """A time spent, to the minute: ``45m``, ``3h 05m`` (the tray's focus time)."""
    m = int(round(seconds / 60))
    return f"{m // 60}h {m % 60:02d}m" if m >= 60 else f"{m}m"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 event``, ``2,500 events``."""
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"


def pct(x: float | None, unknown: str = "—") -> str:
    """A 0..1 rate as a whole percentage; ``unknown`` when there is none."""
    return unknown if x is None else f"{100 * x:.0f}%"


def consensus_text(score: float | None, bold: bool = False) -> str:
    """'consensus score 0.89', or what a run grouped by one method has instead (no consensus)."""
    if score is None:
        return "one grouping by similarity (too few workflow units for a consensus)"
    value = f"<b>{score:.2f}</b>" if bold else f"{score:.2f}"
    return f"consensus score {value}"
