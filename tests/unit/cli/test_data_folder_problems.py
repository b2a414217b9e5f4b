"""A data folder that cannot be used is named in one line, the same for every command."""

from __future__ import annotations

import pytest

from selflow_qt.cli import main as selflow
from selflow_qt.core.data_folder import folder_problem

COMMANDS = (["status"], ["import", "jsonl", "/dev/null"], ["analyze"], ["export", "jsonl"],
            ["agents"], ["demo", "--days", "1"])  # fmt: skip


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    f = tmp_path / "data"
    f.write_text("not a folder")
    line = folder_problem(f)
    assert line == (
        f"the data folder {f} is a file, not a folder: move the file away, or choose another "
        "with --data-dir or SELFLOW_DATA_DIR"
    )
    inside = folder_problem(f / "sub")
    assert inside is not None and f"is inside {f}, which is a file" in inside
    assert folder_problem(tmp_path) is None  # a usable folder


def test_an_error_about_another_file_is_not_the_folder_s(tmp_path):
    exc = FileNotFoundError(2, "No such file or directory", str(tmp_path / "elsewhere.jsonl"))
    assert folder_problem(tmp_path / "data", exc) is None


def test_every_command_says_the_same_line(tmp_path, capsys):
    f = tmp_path / "data"
    f.write_text("not a folder")
    lines = set()
    for cmd in COMMANDS:
        rc = selflow(["--data-dir", str(f), *cmd])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc != 0 and len(err) >= 1, (cmd, err)
        assert "Traceback" not in "\n".join(err) and "Errno" not in err[0], (cmd, err)
        lines.add(err[0])
    assert lines == {f"selflow: {folder_problem(f)}"}
    assert f.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid"), reason="POSIX only")
def test_a_folder_the_user_cannot_write_is_named(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes in any folder; the read-only mount case is in tests/reliability")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    line = folder_problem(ro / "data")
    assert line is not None and "cannot write" in line or "read-only" in line


def test_status_in_a_demo_folder_says_collection_is_off_as_the_tray_does(tmp_path, capsys):
    from selflow_qt.core.wording import collection_line

    data = tmp_path / "demo"
    assert selflow(["--data-dir", str(data), "demo", "--days", "1"]) == 0
    out = capsys.readouterr()
    assert "(1 day ending now" in out.out + out.err  # not '1 days'
    assert selflow(["--data-dir", str(data), "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    line = next(x for x in lines if x.startswith("collection"))
    assert line.split(None, 1)[1] == collection_line(None, live_capture=False).split(": ", 1)[1]
    assert any(x.startswith("analyses     0 analysis runs, 0 patterns") for x in lines)
