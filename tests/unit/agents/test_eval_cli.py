"""`selflow eval next-event --json`: every predictor's hit1, hit5, mrr, hit1_full and p50_ms."""

from __future__ import annotations

import json

from selflow_qt.cli import main


def test_eval_reports_full_line_hits_and_the_agents_margin(agent_store, routine, tmp_path, capsys):
    agent_store.settings.lm_positions = 2
    agent_store.settings.save(agent_store.data_dir)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(ev.to_json() + "\n" for ev in routine(12, seed=5)))
    argv = ["--data-dir", str(agent_store.data_dir), "eval", "next-event", "--events", str(events)]
    assert main([*argv, "--max-steps", "1", "--max-positions", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    preds = out["predictors"]
    agent = next(k for k in preds if k.startswith("agent") and not k.endswith("-lm"))
    assert {"markov-2", "most-recent", agent, f"{agent}-lm"} <= set(preds)
    for m in preds.values():
        assert {"hit1", "hit5", "mrr", "hit1_full", "p50_ms"} <= set(m) and m["n"] == 6
    assert preds[agent]["hit1"] >= 0 and out["margin_over_best_baseline"] is not None
    assert out["agent"]["lm_positions"] == 2 and "fallback" in out["agent"]
