"""The spool offsets move only once the commands read before them are committed, and a restart
leaves out what a killed run committed but had no time to mark (issue 27)."""

from __future__ import annotations

import os
import threading
import time

from selflow_qt.collect.shell_hook import ShellHookCollector, record_event
from selflow_qt.collect.shell_spool import OFFSETS_FILE, SpoolReader, spool_dir_for
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter, insert_events


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


def test_offsets_are_not_saved_past_commands_a_closing_writer_gave_up(data_dir):
    open_database(data_dir).close()
    db = db_path_for(data_dir)
    spool = spool_dir_for(data_dir)
    spool.mkdir(mode=0o700)
    (spool / "zsh.1.s1.spool").write_bytes(_record("make", "1700000000.5"))
    writer = EventWriter(db, flush_interval=0.05).start()
    db.write_bytes(os.urandom(64 * 1024))  # every write fails from now on: the batch is held
    hook = ShellHookCollector(spool, wait_committed=writer.flush)
    polled = threading.Thread(target=hook.poll, args=(writer.submit,))
    polled.start()  # it waits for the command to be committed
    deadline = time.monotonic() + 20  # hang guard
    while writer.health().state != "error" and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.close(timeout=10)  # closing, the writer gives the held batch up (a gap)
    polled.join(20)
    assert writer.health().dropped == 1
    assert not (spool / OFFSETS_FILE).exists()  # the next start reads the command again


def test_a_dead_shells_file_stays_while_its_commands_are_not_committed(data_dir):
    spool = spool_dir_for(data_dir)
    spool.mkdir(mode=0o700)
    done = spool / "zsh.999999999.s1.spool"  # no such pid: the shell exited
    done.write_bytes(_record("make", "1700000000.5"))
    os.utime(done, (1, 1))  # quiet for long
    hook = ShellHookCollector(spool, wait_committed=lambda timeout: False)
    assert hook.poll([].append) == 1  # read to its end, not committed yet
    assert hook.reader.remove_finished(now=10**10) == 0
    assert done.exists() and not (spool / OFFSETS_FILE).exists()  # a kill reads it again
    hook.wait_committed = lambda timeout: True
    done.write_bytes(done.read_bytes() + _record("make test", "1700000001.5"))
    os.utime(done, (1, 1))
    assert hook.poll([].append) == 1  # committed: now it may go
    assert hook.reader.remove_finished(now=10**10) == 1
