"""The analysis jobs run in a child process: the app's process never loads the analysis
libraries, a failure keeps its type and message, a stop request cancels, and an idle child exits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selflow_qt.analyze.service import AnalysisService
from selflow_qt.core.cancel import Cancelled

APP_SIDE = """
import json, sys
from pathlib import Path
from selflow_qt.store.context import StoreContext
from selflow_qt.workers import analysis as jobs

def main():
    ctx = StoreContext.open(Path(sys.argv[1]))
    report = jobs.trigger_job(ctx)
    cycle = jobs.analysis_job(ctx, "manual")
    incremental = jobs.incremental_job(ctx)
    again = jobs.incremental_job(ctx)  # nothing new: the child is not asked
    heavy = [m for m in ("sklearn", "scipy", "pandas", "umap", "numba", "hdbscan") if m in sys.modules]
    print(json.dumps({
        "criteria": [c.name for c in report.criteria], "patterns": len(cycle.patterns),
        "incremental": type(incremental).__name__, "again": again, "heavy": heavy,
    }))
    jobs.close_analysis(ctx.data_dir)

if __name__ == "__main__":
    main()
"""


@pytest.mark.timeout(300)
def test_the_app_process_never_loads_the_analysis_libraries(tmp_path, open_demo):
    ctx = open_demo(tmp_path / "data", days=2, events_per_day=1500)
    ctx.settings.save(ctx.data_dir)
    ctx.close()
    script = tmp_path / "app_side.py"
    script.write_text(APP_SIDE)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "fill" in got["criteria"] and got["patterns"] > 0
    assert got["incremental"] == "IncrementalResult" and got["again"] is None
    assert got["heavy"] == [], "the analysis libraries were loaded into the app's process"


def test_a_failure_keeps_its_type_and_message_and_the_next_job_runs(store):
    service = AnalysisService(store.data_dir, idle_s=30)
    try:
        with pytest.raises(RuntimeError) as err:
            service.run("no-such-job", store.settings)
        assert type(err.value).__name__ == "ValueError"
        assert "unknown analysis job 'no-such-job'" in str(err.value)
        report = service.run("trigger", store.settings)
        assert not report.ready and report.criteria
    finally:
        service.close()


def test_a_stop_request_cancels_the_cycle(open_demo, tmp_path):
    ctx = open_demo(tmp_path / "data", days=2, events_per_day=1500)
    service = AnalysisService(ctx.data_dir, idle_s=30)
    try:
        with pytest.raises(Cancelled):
            service.run("cycle", ctx.settings, should_stop=lambda: True)
    finally:
        service.close()
        ctx.close()


def test_an_idle_child_exits_and_a_new_one_takes_the_next_job(store):
    service = AnalysisService(Path(store.data_dir), idle_s=1.0)
    try:
        service.run("trigger", store.settings)
        deadline = time.monotonic() + 30
        while service.alive and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not service.alive, "the child outlived its idle time"
        assert service.run("trigger", store.settings).criteria
    finally:
        service.close()
