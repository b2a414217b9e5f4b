"""A run left "running" by an analysis process that was killed is recorded as failed."""

from __future__ import annotations

import os
import subprocess
import sys

from selflow_qt.core.child import pid_alive
from selflow_qt.store.db import open_database
from selflow_qt.store.models import AnalysisRun
from selflow_qt.store.queries.analysis import fail_interrupted_runs


def test_runs_of_a_dead_process_are_failed_and_a_live_ones_kept(data_dir):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    db = open_database(data_dir)
    try:
        dead = AnalysisRun.create(status="running", metrics={"pid": gone.pid})
        legacy = AnalysisRun.create(status="running")  # written before runs stored their pid
        live = AnalysisRun.create(status="running", metrics={"pid": os.getpid()})
        assert fail_interrupted_runs(pid_alive) == 2
        dead, legacy, live = (AnalysisRun.get_by_id(r.id) for r in (dead, legacy, live))
        assert dead.status == legacy.status == "failed"
        assert "interrupted" in dead.metrics["error"] and dead.completed_at
        assert live.status == "running"
    finally:
        db.close()
