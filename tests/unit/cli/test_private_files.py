"""Every file SelFlow writes is the user's alone (0600); read-only commands create nothing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from selflow_qt.cli import main


def _modes(folder: Path) -> dict[str, int]:
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in files + dirs:
            p = Path(root, name)
            found[str(p.relative_to(folder))] = stat.S_IMODE(p.lstat().st_mode)
    return found


@pytest.mark.timeout(300)
def test_every_file_of_a_short_run_is_private(tmp_path, capsys):
    data = tmp_path / "data"
    watched = tmp_path / "w"
    watched.mkdir()
    d = ["--data-dir", str(data)]
    old = os.umask(0o022)  # a usual login umask: SelFlow must not rely on a stricter one
    try:
        assert main(["demo", "--days", "1", "--events-per-day", "400", *d]) == 0
        (data / "settings.json").write_text(json.dumps({"analysis_umap": "off"}))
        os.chmod(data / "settings.json", 0o600)  # written by hand above, not by SelFlow
        assert main(["analyze", *d]) == 0
        assert main(["export", "jsonl", "-o", str(data / "all.jsonl"), *d]) == 0
        assert main(["db", "backup", *d]) == 0
        assert main(["collect", "--seconds", "1", "--roots", str(watched), "--no-apps", *d]) in (
            0,
            3,
        )
        assert main(["status", "--json", *d]) == 0
        assert main(["agents", *d]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    modes = _modes(data)
    assert "selflow.db" in modes and any(k.startswith("backups/") for k in modes)
    assert "all.jsonl" in modes
    open_to_others = {k: oct(m) for k, m in modes.items() if m & 0o077}
    assert open_to_others == {}


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["agents"]])
def test_read_only_commands_create_no_data_folder(tmp_path, capsys, command):
    data = tmp_path / "nothing-here"
    assert main([*command, "--data-dir", str(data)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert len(out.err.strip().splitlines()) == 1 and "nothing recorded yet" in out.err
    assert not data.exists()


def test_read_only_commands_create_no_database_in_an_empty_folder(tmp_path, capsys):
    assert main(["status", "--data-dir", str(tmp_path)]) == 1
    assert main(["agents", "--data-dir", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []
