"""The shell hooks' spool: records as the hooks write them, torn ones, restarts, dedupe with the
history files (real files, the real collectors; the real shells are in test_shell_hook_shells)."""

from __future__ import annotations

import os
from urllib.parse import quote_from_bytes

from selflow_qt.collect.shell import ShellCollector
from selflow_qt.collect.shell_hook import HistoryDedupe, ShellHookCollector
from selflow_qt.collect.shell_hook_scripts import hook_script
from selflow_qt.collect.shell_spool import parse_records, spool_dir_for


def _raw(shell="zsh", cmd=b"ls -la", cwd=b"/tmp", start=b"1700000000.25", end=b"1700000001.75"):
    enc = b"hist" if shell == "bash" else b"raw"
    line = b"   12  " + cmd + b"\n" if shell == "bash" else cmd
    head = b"\x1ev1 " + shell.encode() + b" 42.1700000000 " + start + b" " + end + b" 2 - " + enc
    return head + b"\0" + cwd + b"\0" + line + b"\0\n"


def _fish(cmd: bytes, cwd=b"/home/u"):
    c, d = quote_from_bytes(cmd, safe=b""), quote_from_bytes(cwd, safe=b"")
    return f"\x1ev1 fish 7.99 - - 0 1500 url {d} {c}\n".encode()


def test_bash_zsh_and_fish_records_parse_with_folder_status_and_duration():
    data = _raw("bash", b"make test") + _raw("zsh", b"git status") + _fish(b"cargo build")
    recs, used, skipped = parse_records(data)
    assert (used, skipped) == (len(data), 0)
    assert [(r.shell, r.cmd, r.cwd, r.status) for r in recs[:2]] == [
        ("bash", "make test", "/tmp", 2),
        ("zsh", "git status", "/tmp", 2),
    ]
    assert recs[0].start == 1_700_000_000.25 and recs[0].duration == 1.5
    assert (recs[2].cmd, recs[2].cwd, recs[2].start, recs[2].duration) == (
        "cargo build",
        "/home/u",
        None,
        1.5,
    )


def test_hostile_lines_parse_whole():
    lines = [b"echo 'a\nb' \"q\" \x1e x", b"\xff\xfe not utf-8", b"x" * (1 << 20)]
    data = b"".join(_raw("zsh", c) for c in lines) + _fish(b"printf '%s\\n' \"a b\"\n done")
    recs, used, _ = parse_records(data)
    assert used == len(data)
    assert recs[0].cmd == "echo 'a\nb' \"q\" \x1e x"
    assert recs[1].lossy and recs[1].cmd.endswith(" not utf-8")
    assert len(recs[2].cmd) == 1 << 20
    assert recs[3].cmd == "printf '%s\\n' \"a b\"\n done"


def test_a_record_still_being_written_waits_and_a_torn_one_is_skipped():
    whole = _raw("zsh", b"first")
    recs, used, _ = parse_records(whole[:-3])
    assert (recs, used) == ([], 0)  # read again when the rest is there
    torn = _raw("zsh", b"killed mid-write")[:-9]
    recs, used, skipped = parse_records(torn + whole + _raw("bash", b"after"))
    assert [r.cmd for r in recs] == ["first", "after"]
    assert skipped == len(torn)


def _spool(data_dir, name="zsh.999999.1700000000.spool"):
    d = spool_dir_for(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    return d / name


def test_the_collector_reads_new_records_and_resumes_after_a_restart(tmp_path):
    f = _spool(tmp_path)
    f.write_bytes(_raw("zsh", b"typed while stopped"))
    c = ShellHookCollector(f.parent)
    out: list = []
    c.poll(out.append)
    assert [(e.cmd, e.cwd, e.meta["exit"], e.duration) for e in out] == [
        ("typed while stopped", "/tmp", 2, 1.5)
    ]
    assert out[0].ts == 1_700_000_000.25 and out[0].meta["via"] == "hook"
    with f.open("ab") as fh:
        fh.write(_raw("zsh", b"second"))
    again = ShellHookCollector(f.parent)  # a new run: only what the last one did not read
    out2: list = []
    again.poll(out2.append)
    assert [e.cmd for e in out2] == ["second"]
    assert oct(f.parent.stat().st_mode & 0o777) == "0o700"


def test_history_entries_the_hook_recorded_are_not_emitted_twice(tmp_path):
    hist = tmp_path / ".bash_history"
    hist.write_text("")
    spool = _spool(tmp_path, "bash.999999.1700000000.spool")
    spool.write_bytes(_raw("bash", b"make test") + _raw("bash", b"make test"))
    hook = ShellHookCollector(spool.parent)
    shell = ShellCollector([hist], history_filter=hook.dedupe.admit_history)
    shell._refresh_tails(first=True)
    out: list = []
    hook.poll(out.append)
    # bash writes its history at exit, without times: both seen by the hook, a third is new
    hist.write_text("make test\nmake test\nmake test\nls\n")
    shell.poll(out.append)
    assert [e.cmd for e in out] == ["make test", "make test"]
    hook.dedupe.hold_seconds = 0.0
    hook.poll(out.append)
    assert [e.cmd for e in out[2:]] == ["make test", "ls"]


def test_a_history_entry_seen_first_waits_for_its_record(tmp_path):
    dedupe = HistoryDedupe(hold_seconds=60)
    hist = tmp_path / ".zsh_history"
    hist.write_text("")
    shell = ShellCollector([hist], history_filter=dedupe.admit_history)
    shell._refresh_tails(first=True)
    spool = _spool(tmp_path)
    spool.write_bytes(b"")
    hook = ShellHookCollector(spool.parent, dedupe)
    out: list = []
    dedupe.hooked.add("zsh")
    hist.write_text(": 1700000000:0;ls -la\n: 1700000100:0;cd other\n")  # at start
    shell.poll(out.append)
    spool.write_bytes(_raw("zsh", b"ls -la"))  # at the end: the same command
    hook.poll(out.append)
    assert [e.cmd for e in out] == ["ls -la"] and out[0].cwd == "/tmp"
    assert dedupe.release(out.append, now_mono=10**9) == 1  # no record for 'cd other'
    assert out[-1].cmd == "cd other"


def test_history_of_a_shell_without_the_hook_passes_at_once(tmp_path):
    dedupe = HistoryDedupe()
    dedupe.hooked.add("zsh")
    hist = tmp_path / ".bash_history"
    hist.write_text("")
    shell = ShellCollector([hist], history_filter=dedupe.admit_history)
    shell._refresh_tails(first=True)
    hist.write_text("ls\n")
    out: list = []
    shell.poll(out.append)
    assert [e.cmd for e in out] == ["ls"]


def test_the_hook_names_its_folder_quoted_for_each_shell(tmp_path):
    odd = tmp_path / "it's a $dir"
    for shell in ("bash", "zsh"):
        assert "__selflow_dir='" + str(tmp_path) + "/it'\\''s a $dir'" in hook_script(shell, odd)
    assert "set -g __selflow_dir '" + str(tmp_path) + "/it\\'s a $dir'" in hook_script("fish", odd)


def test_dead_sessions_read_to_the_end_are_removed(tmp_path):
    f = _spool(tmp_path, "bash.999999999.1700000000.spool")  # no such pid
    f.write_bytes(_raw("bash", b"ls"))
    live = _spool(tmp_path, f"bash.{os.getpid()}.1700000000.spool")
    live.write_bytes(_raw("bash", b"pwd"))
    c = ShellHookCollector(f.parent)
    c.poll([].append)
    os.utime(f, (1, 1))
    os.utime(live, (1, 1))
    assert c.reader.remove_finished(now=10**10) == 1
    assert not f.exists() and live.exists()
