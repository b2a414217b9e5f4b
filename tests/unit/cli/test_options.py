"""Global options, help text and range checks of the `selflow` command line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from selflow_qt.cli import build_parser, main
from selflow_qt.cli.options import command_parsers

REPO = Path(__file__).resolve().parents[3]
EVENT = {"ts": 1_700_000_000, "source": "fs", "action": "create", "path": "/w/a"}


def _selflow(*argv: str, env_home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "selflow_qt", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(env_home), "XDG_DATA_HOME": str(env_home)},
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--json", "--data-dir", "{d}"],
        ["--data-dir", "{d}", "status", "--json"],
        ["status", "--data-dir", "{d}", "--json", "-v"],
        ["-v", "status", "--json", "--data-dir", "{d}"],
    ],
)
def test_data_dir_and_verbose_work_before_or_after_the_command(argv, tmp_path, capsys):
    data = tmp_path / "data"
    main(["--data-dir", str(data), "import", "jsonl", str(_events(tmp_path))])
    capsys.readouterr()
    assert main([a.replace("{d}", str(data)) for a in argv]) == 0
    assert json.loads(capsys.readouterr().out)["data_dir"] == str(data)


def test_data_dir_after_a_nested_command_is_used(tmp_path, capsys):
    data = tmp_path / "data"
    main(["import", "jsonl", str(_events(tmp_path)), "--data-dir", str(data)])
    capsys.readouterr()
    assert main(["db", "check", "--data-dir", str(data)]) == 0
    assert str(data) not in capsys.readouterr().err


def test_the_value_after_the_command_wins(tmp_path):
    args = build_parser().parse_args(["--data-dir", "a", "predict", "--data-dir", "b"])
    assert args.data_dir == "b"
    args = build_parser().parse_args(["--data-dir", "a", "-v", "predict"])
    assert (args.data_dir, args.verbose) == ("a", True)


def test_verbose_after_the_command_shows_debug_logs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    quiet = _selflow("db", "check", "--data-dir", str(data), env_home=tmp_path)
    loud = _selflow("db", "check", "--data-dir", str(data), "-v", env_home=tmp_path)
    assert quiet.returncode == loud.returncode == 0, loud.stderr
    assert "DEBUG" not in quiet.stderr
    assert "DEBUG selflow_qt.cli: selflow" in loud.stderr


def test_verbose_shows_import_progress_off_a_terminal(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["import", "jsonl", str(_events(tmp_path)), "--data-dir", str(data)]) == 0
    assert "events" not in capsys.readouterr().err
    assert main(["import", "jsonl", str(_events(tmp_path)), "-v", "--data-dir", str(data)]) == 0
    assert "writing 1/1 events" in capsys.readouterr().err


def _all_options(parser: argparse.ArgumentParser):
    for p in [parser, *command_parsers(parser)]:
        for action in p._actions:
            if action.option_strings:
                yield p.prog, action


def test_every_option_of_every_command_has_help():
    missing = [
        f"{prog} {'/'.join(a.option_strings)}"
        for prog, a in _all_options(build_parser())
        if not a.help or a.help == argparse.SUPPRESS
    ]
    assert missing == []


def test_every_command_takes_the_global_options():
    for p in command_parsers(build_parser()):
        flags = {s for a in p._actions for s in a.option_strings}
        assert {"--data-dir", "-v", "--verbose"} <= flags, p.prog


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "-k", "0"],
        ["predict", "-k", "-3"],
        ["demo", "--days", "0"],
        ["demo", "--events-per-day", "-1"],
        ["train", "--max-steps", "0"],
        ["collect", "--seconds", "0"],
        ["db", "backup", "--keep", "0"],
        ["eval", "next-event", "--events", "x.jsonl", "--split", "1.5"],
        ["eval", "next-event", "--events", "x.jsonl", "--max-positions", "0"],
        ["predict", "-k", "many"],
    ],
)
def test_out_of_range_values_are_refused_in_one_line(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--data-dir", str(tmp_path / "never")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("selflow ") and argv[-1] in err
    assert not (tmp_path / "never").exists()


def _events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n", encoding="utf-8")
    return path
