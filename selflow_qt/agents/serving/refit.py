"""Refit a ranking agent's trees on the newest events, in a child process.

The tray's ranking agents learn every event online (their counts and their record of who guessed
right lately), but their trees are fitted once. ``SuggestionService`` refits them in a child
process (``core.supervisor``) after every ``REFIT_EVERY`` new events, so scikit-learn never enters
the tray process and a slow fit never holds a suggestion back; the new trees replace the old files
atomically and the service reloads the agent when ``ranker.json`` changes. The trees are fitted on the stream the
agent serves (the newest ``HISTORY_EVENTS`` events of every workflow), as its counts already are.
The child ends with the tray; its output goes to ``logs/refit-<stamp>.log`` in the data folder,
and a refit that fails is recorded as a failed session (shown like a failed training) and becomes
a notification naming the reason and that log.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np

from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.ranking.ranking_agent import MODEL_FILE, STATE_FILE, fit_ranking_agent
from selflow_qt.agents.serving import registry
from selflow_qt.core import supervisor
from selflow_qt.core.privacy import redact_text
from selflow_qt.store.queries.events import newest_written
from selflow_qt.store.queries.training import record_failed_run

log = logging.getLogger(__name__)
REFIT_EVERY = 1000  # new events since the agent was loaded or last refitted
HISTORY_EVENTS = 20_000  # the stream a served agent learns and is refitted on


def read_history(db, up_to_id: int | None = None, limit: int = HISTORY_EVENTS) -> list:
    """The newest ``limit`` non-system events (up to ``up_to_id``), keyed, oldest first: what a
    served ranking agent learns (serving) and is refitted on (here)."""
    return keyed([ev for _, ev in newest_written(db, limit, up_to_id)])


def refit(folder: Path, stream: list) -> dict:
    """Fit the agent in ``folder`` anew on ``stream`` (keyed, oldest first) and replace its
    files; keeps what the language model earned at training (its weight and the trust in its
    lines: fitted on a slice this does not replay). Returns the new report."""
    folder = Path(folder)
    old = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    agent = fit_ranking_agent(folder.name, stream)
    agent.lm_weight = float(old.get("lm_weight") or 0.0)
    if old.get("lm_trust"):
        agent.trust = np.asarray(old["lm_trust"], dtype=float)
    agent.report.update(refit_at=time.time(), refit_events=len(stream))
    tmp = folder / ".refit"
    shutil.rmtree(tmp, ignore_errors=True)  # a killed refit's leftovers
    tmp.mkdir()
    agent.save(tmp)
    if (tmp / MODEL_FILE).exists():
        os.replace(tmp / MODEL_FILE, folder / MODEL_FILE)
    else:
        (folder / MODEL_FILE).unlink(missing_ok=True)
    os.replace(tmp / STATE_FILE, folder / STATE_FILE)  # last: its change tells serving to reload
    tmp.rmdir()
    return agent.report


def refit_child(channel, data_dir: str, folder: str) -> dict:
    """The refit child's work (``core.supervisor`` runs it): read the served stream, refit."""
    from selflow_qt.store.db import open_database

    db = open_database(Path(data_dir))
    try:
        stream = read_history(db)
    finally:
        db.close()
    report = refit(Path(folder), stream)
    return {k: report.get(k) for k in ("fit_positions", "fallback", "refit_events")}


def start_refit(data_dir: Path, folder: Path) -> supervisor.Child:
    """Refit the agent in ``folder`` in a child process (not waited for: ``poll`` it). Its output
    goes to ``<data>/logs/refit-<stamp>.log``; a refit that fails is recorded like a failed
    training (a failed session in the Training Center) and notified, naming the reason and log."""
    agent = Path(folder).name
    return supervisor.start(
        refit_child,
        str(data_dir),
        str(folder),
        kind="refit",
        data_dir=Path(data_dir),
        what="the refit process",
        env={"OMP_NUM_THREADS": "1"},  # a background job: one core at most
        on_exit=lambda out: _record(agent, out),
    )


def _record(agent: str, out: supervisor.ChildExit) -> None:
    if out.ok:
        return
    reason = redact_text(f"refit failed: {out.message}") or "refit failed"
    try:
        _store_failure(agent, out, reason)
    except Exception as exc:  # a refit that failed must not also break the suggestions
        log.warning("refit of %s failed (%s); it could not be recorded: %s", agent, reason, exc)


def _store_failure(agent: str, out: supervisor.ChildExit, reason: str) -> None:
    record_failed_run(
        agent,
        reason,
        {"reason": "refit", "pattern_name": f"refit of {agent}", "log": str(out.log)},
        status="cancelled" if out.reason == supervisor.CANCELLED else "failed",
    )
    registry.notify(
        "agents",
        f"Refit failed: {agent}",
        f"{reason} (log: {out.log})",
        {"model_id": agent, "exit_code": out.code, "log": str(out.log), "reason": out.reason},
    )
