"""The spool offsets move only once the commands read before them are committed, and a restart
leaves out what a killed run committed but had no time to mark (issue 27)."""

from __future__ import annotations

from selflow_qt.collect.shell_hook import ShellHookCollector, record_event
from selflow_qt.collect.shell_spool import OFFSETS_FILE, SpoolReader, spool_dir_for
from selflow_qt.store.writer import insert_events


def _record(cmd: str, start: str) -> bytes:
    head = f"\x1ev1 zsh s1 {start} {start} 0 - raw".encode()
    return head + b"\0/tmp\0" + cmd.encode() + b"\0\n"


def test_offsets_are_not_saved_while_the_events_are_not_committed(data_dir):
    spool = spool_dir_for(data_dir)
    spool.mkdir(mode=0o700)
    (spool / "zsh.1.s1.spool").write_bytes(_record("make", "1700000000.5"))
    hook = ShellHookCollector(spool, wait_committed=lambda timeout: False)
    got: list = []
    assert hook.poll(got.append) == 1
    assert not (spool / OFFSETS_FILE).exists()  # a kill now reads it again at the next start
    committed = ShellHookCollector(spool, wait_committed=lambda timeout: True)
    assert committed.poll([].append) == 1
    assert (spool / OFFSETS_FILE).exists()


def test_a_restart_leaves_out_what_the_killed_run_committed(store):
    spool = spool_dir_for(store.data_dir)
    spool.mkdir(mode=0o700)
    path = spool / "zsh.1.s1.spool"
    path.write_bytes(_record("make", "1700000000.5") + _record("make test", "1700000001.5"))
    # The killed run committed the first command, but not its offset:
    first = SpoolReader(spool).read_new(save=False)[0]
    with store.db.atomic():
        insert_events(store.db, [record_event(first, 0.0)])
    hook = ShellHookCollector(spool, db_path=store.db_path, wait_committed=lambda t: True)
    got: list = []
    hook.poll(got.append)
    assert [e.cmd for e in got] == ["make test"]
