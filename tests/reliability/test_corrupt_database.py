"""Failure 3: damaged databases. Every command refuses a damaged file with the way out (and
writes nothing into it); `selflow db check|backup|restore|recover` get the user going again."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from reliability_helpers import assert_clean_failure, run_selflow

from selflow_qt.core.event import Event


def _damage(db: Path, how: str) -> None:
    size = db.stat().st_size
    if how == "truncated":
        os.truncate(db, size // 2 + 100)
    elif how == "garbage header":
        with db.open("r+b") as f:
            f.write(b"this is not a database at all!!!")
    else:  # garbage in the middle: pages of the events table
        with db.open("r+b") as f:
            f.seek(size // 2)
            f.write(os.urandom(16384))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data folder with 3,000 events (checkpointed into the file), made once."""
    root = tmp_path_factory.mktemp("template")
    data = root / "data"
    events = root / "events.jsonl"
    events.write_text(
        "".join(
            Event(ts=1.7e9 + i, source="shell", action="command", cmd=f"make t{i}").to_json() + "\n"
            for i in range(3_000)
        )
    )
    assert run_selflow(data, "import", "jsonl", str(events)).returncode == 0
    return data, events


@pytest.fixture
def filled(template, tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(template[0], data)
    return data, template[1]


@pytest.mark.parametrize("how", ["truncated", "garbage header", "garbage in the middle"])
def test_every_command_refuses_a_damaged_database(filled, how: str) -> None:
    data, events = filled
    db = data / "selflow.db"
    _damage(db, how)
    before = _digest(db)
    for args in (
        ("status",),
        ("import", "jsonl", str(events)),
        ("collect", "--no-fs", "--no-apps", "--no-shell", "--seconds", "1"),
        ("analyze",),
        ("agents",),
    ):
        proc = run_selflow(data, *args)
        assert_clean_failure(proc, "damaged", "selflow db")
    assert _digest(db) == before, "a command wrote into the damaged file"
    check = run_selflow(data, "db", "check")
    assert check.returncode == 1 and "damaged" in check.stdout


def test_backup_restore_and_recover_get_the_user_going_again(filled) -> None:
    data, _ = filled
    db = data / "selflow.db"
    backup = run_selflow(data, "db", "backup")
    assert backup.returncode == 0, backup.stderr
    assert oct(os.stat(next((data / "backups").iterdir())).st_mode & 0o777) == "0o600"
    _damage(db, "garbage in the middle")
    recovered = run_selflow(data, "db", "recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "recovered" in recovered.stdout and "kept as" in recovered.stdout
    status = run_selflow(data, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert 0 < json.loads(status.stdout)["events"]["total"] <= 3_000
    assert list(data.glob("selflow.db.damaged-*")), "the damaged file is kept aside"
    _damage(db, "garbage header")
    restored = run_selflow(data, "db", "restore")
    assert restored.returncode == 0, restored.stderr
    status = run_selflow(data, "status", "--json")
    assert json.loads(status.stdout)["events"]["total"] == 3_000
    assert run_selflow(data, "db", "check").returncode == 0


def test_a_truncated_database_is_salvaged_up_to_where_it_ends(filled) -> None:
    data, _ = filled
    _damage(data / "selflow.db", "truncated")
    recovered = run_selflow(data, "db", "recover")
    assert recovered.returncode == 0, recovered.stderr
    status = run_selflow(data, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert 500 < json.loads(status.stdout)["events"]["total"] < 3_000
