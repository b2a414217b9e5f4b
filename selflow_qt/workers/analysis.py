"""The analysis jobs for Workers: they run in the data folder's analysis process (analyze.service),
so the app never imports scikit-learn, scipy or pandas. The periodic checks skip that process
while nothing they read has changed (no new event, run, pattern or setting), so an idle app lets
it exit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selflow_qt.store.context import StoreContext
from selflow_qt.store.queries.analysis import store_signature

Progress = Callable[[Any], None]
ShouldStop = Callable[[], bool]

_last: dict[tuple[str, str], tuple[tuple, Any]] = {}


def _store_signature(ctx: StoreContext) -> tuple:
    return (*store_signature(ctx.db), repr(ctx.settings))


def _unchanged(kind: str, ctx: StoreContext) -> tuple[tuple, Any] | None:
    """(signature, last result) when the store is as it was at the last ``kind`` check."""
    sig = _store_signature(ctx)
    last = _last.get((kind, str(ctx.data_dir)))
    return (sig, last[1]) if last is not None and last[0] == sig else None


def close_analysis(data_dir: Path) -> None:
    """Stop the data folder's analysis process (the app is quitting)."""
    from selflow_qt.analyze.service import close_service

    close_service(data_dir)
    for key in [k for k in _last if k[1] == str(data_dir)]:
        del _last[key]


def trigger_job(ctx: StoreContext):
    """The trigger policy's report (is the buffer full, diverse and patterned enough?)."""
    from selflow_qt.analyze.service import service_for

    same = _unchanged("trigger", ctx)
    if same is not None:
        return same[1]
    report = service_for(ctx.data_dir).run("trigger", ctx.settings)
    _last[("trigger", str(ctx.data_dir))] = (_store_signature(ctx), report)
    return report


def incremental_job(ctx: StoreContext, should_stop: ShouldStop | None = None):
    """Between cycles: assign the newest events to known patterns, name an emerging group
    (None: nothing changed since the last check)."""
    from selflow_qt.analyze.service import service_for

    if _unchanged("incremental", ctx) is not None:
        return None
    result = service_for(ctx.data_dir).run("incremental", ctx.settings, should_stop=should_stop)
    _last[("incremental", str(ctx.data_dir))] = (_store_signature(ctx), None)
    return result


def analysis_job(
    ctx: StoreContext,
    trigger: str = "manual",
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
):
    from selflow_qt.analyze.service import service_for

    def report(p) -> None:
        if progress is not None:
            progress((p[0], float(p[1])))

    return service_for(ctx.data_dir).run(
        "cycle", ctx.settings, progress=report, should_stop=should_stop, trigger=trigger
    )
