"""`selflow db scrub`: a secret no rule caught, then a rule added, is gone from every byte of the
data folder (database, WAL, backups, exports, agents' files, logs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reliability_helpers import run_selflow

from selflow_qt.core.event import Event
from selflow_qt.store.db import open_database
from selflow_qt.store.models import Pattern

SECRET = "zebraplum-7731"
SECRET_BYTES = SECRET.encode()


def grep_bytes(folder: Path, needle: bytes = SECRET_BYTES) -> list[str]:
    """Every file under ``folder`` whose bytes hold ``needle`` (what `grep -rl` would say)."""
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if needle in path.read_bytes():
                found.append(str(path.relative_to(folder)))
    return sorted(found)


def _plant(data: Path, tmp: Path) -> None:
    events = [
        Event(
            ts=1.7e9,
            source="shell",
            action="command",
            cmd=f"deploy --target {SECRET}",
            cwd=f"/home/u/{SECRET}",
        ),
        Event(ts=1.7e9 + 1, source="fs", action="modify", path=f"/home/u/notes-{SECRET}.txt"),
        Event(
            ts=1.7e9 + 2,
            source="app",
            action="focus",
            app=f"app-{SECRET}",
            meta={
                "title": f"ticket {SECRET}",
                "url": f"https://x.test/?q={SECRET}",
                f"key-{SECRET}": 1,
                "deep": {"list": [{"v": SECRET}]},
            },
        ),
    ] + [
        Event(ts=1.7e9 + 10 + i, source="shell", action="command", cmd=f"make t{i}")
        for i in range(200)
    ]
    src = tmp / "events.jsonl"
    src.write_text("".join(ev.to_json() + "\n" for ev in events))
    assert run_selflow(data, "import", "jsonl", str(src)).returncode == 0
    db = open_database(data)
    Pattern.create(name=f"deploy {SECRET}", metadata={"labels": [f"label {SECRET}"]})
    db.close()
    out = data / "exports" / "all.jsonl"
    out.parent.mkdir()
    assert run_selflow(data, "export", "jsonl", "-o", str(out)).returncode == 0
    assert run_selflow(data, "db", "backup").returncode == 0
    agent = data / "agents" / "a1"
    agent.mkdir(parents=True)
    (agent / "agent.json").write_text(
        json.dumps(
            {
                "model_id": "a1",
                "top_targets": [f"deploy --target {SECRET}"],
                "prompts": {f"cwd {SECRET}": [f"prompt {SECRET}"]},
            },
            indent=2,
        )
    )
    (agent / "dataset.json").write_text(
        json.dumps(
            {"train": [{"prompt": f"$ deploy --target {SECRET}", "target": "ls"}], "val": []}
        )
    )
    (data / "logs").mkdir()
    (data / "logs" / "refit-a1.log").write_text(f"step 1\nprompt was deploy {SECRET}\ndone\n")


def test_scrub_removes_a_secret_found_after_the_fact_from_every_byte(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _plant(data, tmp_path)
    before = grep_bytes(data)
    assert "selflow.db" in before
    assert {
        "exports/all.jsonl",
        "agents/a1/agent.json",
        "agents/a1/dataset.json",
        "logs/refit-a1.log",
    } <= set(before)
    assert any(p.startswith("backups/") for p in before)

    (data / "settings.json").write_text(json.dumps({"redact_patterns": ["zebraplum-[0-9]{4}"]}))
    proc = run_selflow(data, "db", "scrub")
    assert proc.returncode == 0, proc.stderr
    print("before:", before, "\nscrub:\n" + proc.stdout)
    lines = proc.stdout.splitlines()
    assert "events: 3 rewritten, 0 removed (excluded by today's rules)" in lines
    assert any(line.startswith("analysis tables: 1 rows") for line in lines)
    assert "exports: 1 of 1 files rewritten" in lines
    assert "agents' files: 2 of 2 files rewritten" in lines
    assert "logs: 1 of 1 files rewritten" in lines
    assert any(line.startswith("backups: 1 of 1") for line in lines)

    # Only settings.json (the rule itself, not the secret) may name it; the secret is gone.
    after = grep_bytes(data)
    print("after:", after)
    assert after == []

    # The database still works: every event is there, the text redacted around the secret.
    proc = run_selflow(data, "export", "jsonl")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 203
    assert rows[0]["cmd"] == "deploy --target [REDACTED]"
    assert rows[2]["meta"]["deep"] == {"list": [{"v": "[REDACTED]"}]}
    assert json.loads((data / "agents" / "a1" / "agent.json").read_text())["model_id"] == "a1"
    assert run_selflow(data, "db", "check").returncode == 0


def test_scrub_of_a_clean_folder_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    src = tmp_path / "events.jsonl"
    src.write_text(Event(ts=1.7e9, source="shell", action="command", cmd="ls").to_json() + "\n")
    assert run_selflow(data, "import", "jsonl", str(src)).returncode == 0
    proc = run_selflow(data, "db", "scrub")
    assert proc.returncode == 0, proc.stderr
    assert "events: 0 rewritten, 0 removed (excluded by today's rules)" in proc.stdout.splitlines()
