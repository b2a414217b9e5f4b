"""Refit a ranking agent's trees on the newest events, in a child process.

The tray's ranking agents learn every event online (their counts and their record of who guessed
right lately), but their trees are fitted once. ``SuggestionService`` starts this module as a child
process after every ``REFIT_EVERY`` new events, so scikit-learn never enters the tray process and a
slow fit never holds a suggestion back; the new trees replace the old files atomically and the
service reloads the agent when ``ranker.json`` changes. The trees are fitted on the stream the
agent serves (the newest ``HISTORY_EVENTS`` events of every workflow), as its counts already are.
The child ends with the tray (``core.child``); its output goes to ``logs/refit-AGENT.log`` in the
data folder, and a refit that fails becomes a notification naming the reason and that log.

    python -m selflow_qt.agents.refit DATA_DIR AGENT_FOLDER
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from selflow_qt.agents import registry
from selflow_qt.agents.ranking_agent import MODEL_FILE, STATE_FILE, fit_ranking_agent
from selflow_qt.core.child import child_env, end_with_parent, exit_reason
from selflow_qt.core.privacy import redact_text
from selflow_qt.store.files import open_private, private_mkdir

REFIT_EVERY = 1000  # new events since the agent was loaded or last refitted


def refit(folder: Path, stream: list) -> dict:
    """Fit the agent in ``folder`` anew on ``stream`` (keyed, oldest first) and replace its
    files; keeps the language model's weight. Returns the new report."""
    folder = Path(folder)
    old = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    agent = fit_ranking_agent(folder.name, stream)
    agent.lm_weight = float(old.get("lm_weight") or 0.0)
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


def log_path(data_dir: Path, folder: Path) -> Path:
    """Where the refit child of the agent in ``folder`` writes its output (the last run's)."""
    return Path(data_dir) / "logs" / f"refit-{Path(folder).name}.log"


class RefitProcess(subprocess.Popen):
    """The refit child; the first ``poll``/``wait`` that sees it fail records a notification."""

    def __init__(self, args: list[str], *, agent: str, log: Path, **kwargs) -> None:
        self.agent, self.log, self.recorded = agent, log, False
        super().__init__(args, **kwargs)

    def poll(self) -> int | None:
        return self._record(super().poll())

    def wait(self, timeout: float | None = None) -> int:
        return self._record(super().wait(timeout))

    def _record(self, code: int | None) -> int | None:
        if code and not self.recorded:
            self.recorded = True
            try:
                tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            except OSError:
                tail = ""
            reason = redact_text(exit_reason(code, tail, "the refit process"))
            registry.notify(
                "agents",
                f"Refit failed: {self.agent}",
                f"{reason} (log: {self.log})",
                {"model_id": self.agent, "exit_code": code, "log": str(self.log)},
            )
        return code


def start_refit(data_dir: Path, folder: Path) -> RefitProcess:
    """Run ``main`` for one agent in a child process (not waited for); its output goes to
    ``log_path``."""
    log = log_path(data_dir, folder)
    private_mkdir(log.parent)
    with open_private(log) as out:  # the child holds its own copy of the file
        return RefitProcess(
            [sys.executable, "-m", __name__, str(data_dir), str(folder)],
            agent=Path(folder).name,
            log=log,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # a background job: one core at most; it ends with this process (core.child)
            env=child_env({**os.environ, "OMP_NUM_THREADS": "1"}),
        )


def main(argv: list[str] | None = None) -> int:
    from selflow_qt.agents.serving import read_history
    from selflow_qt.store.db import open_database

    end_with_parent()
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m selflow_qt.agents.refit DATA_DIR AGENT_FOLDER", file=sys.stderr)
        return 2
    try:
        db = open_database(Path(argv[0]))
        try:
            stream = read_history(db)
        finally:
            db.close()
        report = refit(Path(argv[1]), stream)
    except Exception as exc:  # the last line is the reason the tray's notification gives
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"refit failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({k: report.get(k) for k in ("fit_positions", "fallback", "refit_events")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
