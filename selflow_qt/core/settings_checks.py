"""Range and shape checks for settings.json values, so a bad value is named, not a traceback.

``check(name, value)`` returns what is wrong with one value (empty when it is fine);
``clean_list`` drops the entries of a list setting that cannot work and says which.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable
from typing import Any

BANDIT_POLICIES = ("epsilon_greedy", "thompson", "ucb1")
UMAP_MODES = ("off", "scatter", "cluster")
CLUSTERERS = 5  # algorithms a consensus cluster can be supported by


def _at_least(low: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v >= low), f"must be at least {low:g}"


def _above(low: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v > low), f"must be above {low:g}"


def _between(low: float, high: float) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: low <= v <= high), f"must be between {low:g} and {high:g}"


def _one_of(choices: tuple[str, ...]) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: v in choices), f"must be one of {', '.join(choices)}"


RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "budget_bytes": _at_least(1024),
    "app_poll_seconds": _between(0.1, 3600),
    "trigger_fill_ratio": (lambda v: 0 < v <= 1, "must be above 0 and at most 1"),
    "trigger_min_sources": _at_least(1),
    "trigger_min_entropy": _at_least(0),
    "trigger_min_silhouette": _between(-1, 1),
    "cold_start_events": _at_least(1),
    "cold_start_minutes": _above(0),
    "cold_start_min_events": _at_least(1),
    "incremental_every_s": _above(0),
    "incremental_min_events": _at_least(2),
    "analysis_landmarks": _at_least(10),
    "analysis_algorithm_timeout_s": _above(0),
    "analysis_min_support": _between(1, CLUSTERERS),
    "analysis_umap": _one_of(UMAP_MODES),
    "specialize_min_sequences": _at_least(1),
    "max_models": _at_least(1),
    "bandit_policy": _one_of(BANDIT_POLICIES),
    "exploration_rate": _between(0, 1),
    "prediction_horizon_s": _above(0),
    "lora_r": _at_least(1),
    "lora_alpha": _at_least(1),
    "lora_dropout": (lambda v: 0 <= v < 1, "must be at least 0 and below 1"),
    "training_idle_minutes": _at_least(0),
    "eval_positions": _at_least(1),
    "lm_positions": _at_least(0),
}


def check(name: str, value: Any) -> str:
    """What is wrong with ``value`` for the setting ``name`` ("" when nothing is)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    rule = RULES.get(name)
    if rule is None or value is None:
        return ""
    ok, what = rule
    return "" if ok(value) else what


def regex_problem(pattern: str) -> str:
    """Why a redaction pattern cannot be used ("" when it compiles and matches something)."""
    try:
        compiled = re.compile(pattern, re.DOTALL)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    if compiled.fullmatch(""):
        return "matches empty text (it would redact nothing, or everything)"
    return ""


def glob_problem(glob: str) -> str:
    """Why an exclusion glob cannot be used ("" when it is fine)."""
    g = glob.strip()
    if not g:
        return "is empty"
    if g.strip("*/") == "":
        return "would exclude every file"
    try:
        re.compile(fnmatch.translate(g))
    except re.error as exc:  # pragma: no cover - fnmatch escapes nearly everything
        return f"is not a valid glob ({exc})"
    return ""


LIST_CHECKS: dict[str, Callable[[str], str]] = {
    "redact_patterns": regex_problem,
    "exclude_globs": glob_problem,
    "watch_roots": lambda root: "is empty" if not root.strip() else "",
}


def list_problems(name: str, values: list[str]) -> list[str]:
    """One message per entry of the list setting ``name`` that cannot work (the dialog's check
    as it is edited; the same tests ``clean_list`` applies on load)."""
    test = LIST_CHECKS.get(name)
    if test is None:
        return []
    return [f"{v!r} {problem}" for v in values if (problem := test(v))]


# A redaction pattern the user wrote must never be dropped quietly: what it should hide would be
# written. It stays, and the privacy filter refuses to write anything until it is fixed (one line).
KEEP_WHEN_BAD = frozenset({"redact_patterns"})


def clean_list(name: str, values: list[str]) -> tuple[list[str], list[str]]:
    """The usable entries of the list setting ``name`` and one message per dropped entry
    (entries of ``KEEP_WHEN_BAD`` settings are reported but kept)."""
    test = LIST_CHECKS.get(name)
    if test is None:
        return values, []
    kept, problems = [], []
    for v in values:
        problem = test(v)
        if problem and name in KEEP_WHEN_BAD:
            problems.append(f"{v!r} {problem} (kept: nothing is written until it is fixed)")
            kept.append(v)
        elif problem:
            problems.append(f"{v!r} {problem}; left out")
        else:
            kept.append(v)
    return kept, problems
