"""The leaderboard's offline columns: what the latest completed training measured."""

from __future__ import annotations

from selflow_qt.agents.serving.leaderboard import agent_ranking
from selflow_qt.core.settings import Settings
from selflow_qt.store.db import open_database
from selflow_qt.store.models import TrainingSession


def test_baselines_show_the_scores_of_the_latest_completed_training(data_dir):
    db = open_database(data_dir)
    try:
        for i, hit1 in enumerate((0.2, 0.3)):
            TrainingSession.create(
                model_id=f"agent-{i}",
                status="completed",
                metadata={
                    "metrics": {
                        f"agent-{i}": {"hit1": 0.5, "mrr": 0.6},
                        "markov-1": {"hit1": hit1, "mrr": hit1 + 0.1},
                    }
                },
            )
        rows, _ = agent_ranking(db, Settings.load(data_dir))
        by_id = {r.arm_id: r for r in rows}
        assert by_id["markov-1"].hit1 == 0.3  # the later training's score
        assert by_id["markov-1"].mrr == 0.4
    finally:
        db.close()
