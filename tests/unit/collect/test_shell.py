"""The live shell collector tails real history files as a shell would write them."""

from __future__ import annotations

import os
from pathlib import Path

from selflow_qt.collect.shell import ShellCollector


def _collector(path: Path) -> tuple[ShellCollector, list]:
    c = ShellCollector([path], poll_seconds=0.05)
    c._refresh_tails(first=True)
    out: list = []
    return c, out


def _append(path: Path, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    with path.open("ab") as f:
        f.write(data)


def test_only_new_bash_commands_are_emitted_with_their_time(tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("old command\n")
    c, out = _collector(hist)
    assert c.poll(out.append) == 0
    _append(hist, "#1700000000\nls -la\ngit status\n")
    c.poll(out.append)
    assert [(e.cmd, e.ts) for e in out[:1]] == [("ls -la", 1_700_000_000.0)]
    assert out[1].cmd == "git status" and out[1].ts > 1_700_000_000
    assert {(e.source, e.action) for e in out} == {("shell", "command")}
    assert out[0].meta == {"shell": "bash"}


def test_a_half_written_line_waits_for_its_end(tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("")
    c, out = _collector(hist)
    _append(hist, "#1700000001\nmake te")
    c.poll(out.append)
    assert out == []
    _append(hist, "st\n")
    c.poll(out.append)
    assert [(e.cmd, e.ts) for e in out] == [("make test", 1_700_000_001.0)]


def test_zsh_extended_history_keeps_time_and_duration(tmp_path):
    hist = tmp_path / ".zsh_history"
    hist.write_text(": 1699999999:0;echo old\n")
    c, out = _collector(hist)
    _append(hist, ": 1700000002:7;pytest -q\n: 1700000010:0;cd src\n")
    c.poll(out.append)
    assert [(e.cmd, e.ts, e.duration, e.meta["shell"]) for e in out] == [
        ("pytest -q", 1_700_000_002.0, 7.0, "zsh"),
        ("cd src", 1_700_000_010.0, 0.0, "zsh"),
    ]


def test_fish_history_is_read(tmp_path):
    hist = tmp_path / "fish_history"
    hist.write_text("- cmd: ls\n  when: 1699999999\n")
    c, out = _collector(hist)
    _append(hist, "- cmd: cargo build\n  when: 1700000003\n")
    c.poll(out.append)
    c.poll(out.append)
    # fish writes an entry's 'when' after its 'cmd': the last entry may wait for the next one
    _append(hist, "- cmd: cargo test\n  when: 1700000004\n")
    c.poll(out.append)
    assert ("cargo build", 1_700_000_003.0) in [(e.cmd, e.ts) for e in out]


def test_truncation_and_replacement_are_read_from_the_start(tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("a\nb\nc\n")
    c, out = _collector(hist)
    hist.write_text("fresh\n")  # truncated and rewritten (shorter than before)
    c.poll(out.append)
    assert [e.cmd for e in out] == ["fresh"]
    new = tmp_path / "new"
    new.write_text("rotated one\nrotated two\n")
    os.replace(new, hist)  # replaced by another file (a new inode)
    c.poll(out.append)
    assert [e.cmd for e in out] == ["fresh", "rotated one", "rotated two"]


def test_undecodable_bytes_do_not_stop_the_tail(tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("")
    c, out = _collector(hist)
    _append(hist, b"echo caf\xe9\nls\n")
    c.poll(out.append)
    assert [e.cmd for e in out][1] == "ls"
    assert out[0].cmd.startswith("echo caf")


def test_the_collector_runs_and_reports_its_files(run_collector, tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("")
    r = run_collector(ShellCollector([hist], poll_seconds=0.05))
    r.sink.wait_for(lambda e: r.collector.state == "running", timeout=5)
    _append(hist, "vim notes.md\n")
    evs = r.sink.wait_for(lambda e: len(e) >= 1, timeout=5)
    assert [e.cmd for e in evs] == ["vim notes.md"]
    assert str(hist) in r.collector.detail
