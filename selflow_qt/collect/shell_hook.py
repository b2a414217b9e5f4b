"""The shell-hook collector: commands recorded by `selflow shell-init` hooks, with folder, exit
status and duration, read from the spool (collect.shell_spool) a fraction of a second after
they finish, or at the next start for the ones typed while SelFlow was stopped.

A shell with the hook also writes its history file, which the history collector tails: a
history entry of a shell that has hook sessions is let through only if no hook record matches
it (same shell and line, a start within a few seconds when the history has times; any unmatched
one when it has none, as plain bash history written at exit). An entry seen first is held
``hold_seconds`` for its record (zsh with INC_APPEND_HISTORY writes at the start of a command).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from selflow_qt.collect.base import RUNNING, STOPPED, Collector, Emit
from selflow_qt.collect.shell_spool import HookRecord, SpoolReader, ensure_spool_dir
from selflow_qt.core.event import Event, local_tz_offset
from selflow_qt.store.db import connect
from selflow_qt.store.queries.shell import stored_hook_commands

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
MATCH_WINDOW = 5.0  # seconds between a history entry's time and the hook record's start
HOLD_SECONDS = 120.0
REMEMBER_SECONDS = 14 * 86400.0
CLEANUP_SECONDS = 600.0
COMMIT_WAIT_SECONDS = 5.0


def record_event(rec: HookRecord, now: float) -> Event:
    """The ``shell/command`` event of one hook record."""
    ts = rec.start if rec.start is not None else rec.end
    if ts is None:  # fish has no clock builtin: the record is dated when read
        ts = now - (rec.duration or 0.0)
    meta: dict = {"shell": rec.shell, "session": rec.session, "via": "hook"}
    if rec.status is not None:
        meta["exit"] = rec.status
    if rec.lossy:
        meta["undecodable"] = True  # invalid UTF-8 was replaced by U+FFFD
    return Event(
        ts=ts,
        tz_offset=local_tz_offset(ts),
        source="shell",
        action="command",
        cmd=rec.cmd,
        cwd=rec.cwd or None,
        duration=max(0.0, rec.duration) if rec.duration is not None else None,
        meta=meta,
    )


class HistoryDedupe:
    """Which history-file entries the hook already recorded (thread-safe)."""

    def __init__(self, window: float = MATCH_WINDOW, hold_seconds: float = HOLD_SECONDS) -> None:
        self.window = window
        self.hold_seconds = hold_seconds
        self.hooked: set[str] = set()  # shells with hook sessions
        self._seen: dict[tuple[str, str], deque[float]] = {}  # (shell, line) -> record starts
        self._held: list[tuple[float, Event, bool]] = []  # (arrived, event, timed)
        self._lock = threading.Lock()

    def saw_record(self, rec: HookRecord, ts: float) -> None:
        """A hook record: it takes a held entry that matches, else waits for one."""
        key = (rec.shell, rec.cmd)
        with self._lock:
            self.hooked.add(rec.shell)
            for i, (_, ev, timed) in enumerate(self._held):
                if self._key(ev) == key and (not timed or abs(ev.ts - ts) <= self.window):
                    del self._held[i]
                    return
            self._seen.setdefault(key, deque()).append(ts)

    def admit_history(self, ev: Event, timed: bool) -> bool:
        """True: emit this history entry now. False: it was recorded by the hook (dropped) or is
        held for a record (``release`` emits it if none comes)."""
        shell = (ev.meta or {}).get("shell", "bash")
        with self._lock:
            if shell not in self.hooked:
                return True
            starts = self._seen.get((shell, ev.cmd or ""))
            if starts:
                for i, t in enumerate(starts):
                    if not timed or abs(ev.ts - t) <= self.window:
                        del starts[i]
                        return False
            self._held.append((time.monotonic(), ev, timed))
            return False

    def release(self, emit: Emit, now_mono: float | None = None) -> int:
        """Emit the held entries no record claimed in time."""
        now_mono = time.monotonic() if now_mono is None else now_mono
        with self._lock:
            due = [ev for t, ev, _ in self._held if now_mono - t >= self.hold_seconds]
            self._held = [h for h in self._held if now_mono - h[0] < self.hold_seconds]
        for ev in due:
            emit(ev)
        return len(due)

    def forget_before(self, ts: float) -> None:
        with self._lock:
            for key in list(self._seen):
                starts = deque(t for t in self._seen[key] if t >= ts)
                if starts:
                    self._seen[key] = starts
                else:
                    del self._seen[key]

    @staticmethod
    def _key(ev: Event) -> tuple[str, str]:
        return ((ev.meta or {}).get("shell", "bash"), ev.cmd or "")


class ShellHookCollector(Collector):
    """Emits ``shell/command`` for each record the shell hooks append to the spool folder."""

    name = "shell-hook"

    def __init__(
        self,
        spool_dir: Path,
        dedupe: HistoryDedupe | None = None,
        poll_seconds: float = POLL_SECONDS,
        db_path: Path | None = None,
        wait_committed: Callable[[float], bool] | None = None,
    ) -> None:
        super().__init__()
        self.spool_dir = Path(spool_dir)
        self.dedupe = dedupe or HistoryDedupe()
        self.poll_seconds = poll_seconds
        self.reader: SpoolReader | None = None
        self.recorded = 0
        # With the writer's flush, the spool offsets are saved only once the events read before
        # them are committed (a kill loses nothing acknowledged); with the database, the first
        # read after a start leaves out what a killed run committed but had no time to mark.
        self.db_path = Path(db_path) if db_path is not None else None
        self.wait_committed = wait_committed
        self._first_read = True

    def start_reading(self) -> None:
        ensure_spool_dir(self.spool_dir)
        self.reader = SpoolReader(self.spool_dir)
        for rec in self.reader.already_read():  # records an earlier run emitted
            self.dedupe.saw_record(rec, self._start(rec, time.time()))

    def run(self, emit: Emit, stopping: threading.Event) -> None:
        try:
            self.start_reading()
        except OSError as exc:
            self.set_status(STOPPED, f"cannot use {self.spool_dir}: {exc}")
            return
        self._report()
        next_cleanup = time.monotonic()
        try:
            while True:
                self.poll(emit)
                if time.monotonic() >= next_cleanup:
                    assert self.reader is not None
                    self.reader.remove_finished(time.time())
                    self.dedupe.forget_before(time.time() - REMEMBER_SECONDS)
                    next_cleanup = time.monotonic() + CLEANUP_SECONDS
                if stopping.wait(self.poll_seconds):
                    break
            self.poll(emit)  # what came in while stopping
        finally:
            self.set_status(STOPPED, "")

    def poll(self, emit: Emit) -> int:
        if self.reader is None:
            self.start_reading()
        assert self.reader is not None
        now = time.time()
        n = 0
        records = self.reader.read_new(save=self.wait_committed is None)
        events = [record_event(rec, now) for rec in records]
        stored = self._already_stored(records, events) if self._first_read and events else set()
        self._first_read = False
        for rec, ev in zip(records, events, strict=True):
            self.dedupe.saw_record(rec, ev.ts)
            if (ev.ts, rec.session) in stored:
                continue
            emit(ev)
            n += 1
        if records and self.wait_committed is not None:
            if self.wait_committed(COMMIT_WAIT_SECONDS):
                self.reader.save_offsets()
            else:  # read again at the next start, where what was committed is left out
                log.warning("shell spool offsets not saved: events are not committed yet")
        n_held = self.dedupe.release(emit)
        if n:
            self.recorded += n
            self._report()
        return n + n_held

    def _already_stored(self, records: list[HookRecord], events: list[Event]) -> set:
        """(ts, session) of the timed records the database already holds (a killed run's)."""
        if self.db_path is None:
            return set()
        timed = [(ev.ts, rec.session) for rec, ev in zip(records, events, strict=True)
                 if rec.start is not None or rec.end is not None]  # fmt: skip
        try:
            db = connect(self.db_path)
            try:
                return stored_hook_commands(db, timed)
            finally:
                db.close()
        except Exception as exc:  # a locked or damaged database: twice rather than never
            log.warning("could not check the spool against the database: %s", exc)
            return set()

    @staticmethod
    def _start(rec: HookRecord, now: float) -> float:
        return rec.start if rec.start is not None else (rec.end or now)

    def _report(self) -> None:
        detail = f"reading shell hooks in {self.spool_dir}; {self.recorded} commands"
        if self.reader is not None and self.reader.skipped:
            detail += f"; {self.reader.skipped} damaged bytes skipped"
        self.set_status(RUNNING, detail)
