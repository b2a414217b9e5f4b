"""Refit a ranking agent's trees on the newest events, in a child process.

The tray's ranking agents learn every event online (their counts and their record of who guessed
right lately), but their trees are fitted once. ``SuggestionService`` starts this module as a child
process after every ``REFIT_EVERY`` new events, so scikit-learn never enters the tray process and a
slow fit never holds a suggestion back; the new trees replace the old files atomically and the
service reloads the agent when ``ranker.json`` changes. The trees are fitted on the stream the
agent serves (the newest ``HISTORY_EVENTS`` events of every workflow), as its counts already are.

    python -m selflow_qt.agents.refit DATA_DIR AGENT_FOLDER
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from selflow_qt.agents.ranking_agent import MODEL_FILE, STATE_FILE, fit_ranking_agent

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
    tmp.mkdir(exist_ok=True)
    agent.save(tmp)
    if (tmp / MODEL_FILE).exists():
        os.replace(tmp / MODEL_FILE, folder / MODEL_FILE)
    else:
        (folder / MODEL_FILE).unlink(missing_ok=True)
    os.replace(tmp / STATE_FILE, folder / STATE_FILE)  # last: its change tells serving to reload
    tmp.rmdir()
    return agent.report


def start_refit(data_dir: Path, folder: Path) -> subprocess.Popen:
    """Run ``main`` for one agent in a child process (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "-m", "selflow_qt.agents.refit", str(data_dir), str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, OMP_NUM_THREADS="1"),  # a background job: one core at most
    )


def main(argv: list[str] | None = None) -> int:
    from selflow_qt.agents.serving import read_history
    from selflow_qt.store.db import open_database

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m selflow_qt.agents.refit DATA_DIR AGENT_FOLDER", file=sys.stderr)
        return 2
    db = open_database(Path(argv[0]))
    try:
        stream = read_history(db)
    finally:
        db.close()
    report = refit(Path(argv[1]), stream)
    print(json.dumps({k: report.get(k) for k in ("fit_positions", "fallback", "refit_events")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
