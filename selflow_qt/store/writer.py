"""The one event writer: a bounded queue drained by one thread in batched transactions."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.core.event import Event, clip_event, local_tz_offset
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.errors import DbProblem, describe

# The row encoding lives in store.rows; these names stay importable from here.
from selflow_qt.store.rows import (  # noqa: F401
    INSERT_SQL,
    TS,
    _encode_meta,
    coalesce_modifies,
    event_row,
    insert_events,
    insert_rows,
    repeats_a_modify,
)
from selflow_qt.store.writer_connection import WriterConnection
from selflow_qt.store.writer_health import WriterHealth, WriterStats

log = logging.getLogger(__name__)


class _FlushRequest:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.committed = False  # set before ``done``: False when a closing writer gave up


_STOP = object()


class EventWriter:
    """Owns SQLite writes of events. ``submit`` never blocks longer than ``put_timeout``.

    Privacy rules are applied in ``submit``, before an event can reach the queue. Repeated
    ``modify`` events of one path inside a batch collapse into one (with a count in meta). If the
    queue is ever full, dropped events are counted and recorded as one ``system/gap`` event.
    A batch that cannot be written (a full disk, a read-only folder, a damaged file) is held in
    memory, counted against ``max_queue``, and retried until it commits or the writer closes.
    The queue is a deque (appends are atomic under the GIL): a submit costs well under a
    microsecond, and the writer thread takes everything queued at once.
    """

    def __init__(
        self,
        db_path: Path,
        privacy: PrivacyFilter | None = None,
        *,
        max_queue: int = 100_000,
        flush_interval: float = 0.5,
        batch_max: int = 20_000,
        put_timeout: float = 0.25,
        on_flush: Callable[[int, WriterStats], None] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.privacy = privacy
        self.flush_interval = min(flush_interval, 1.0)
        self.batch_max = batch_max
        self.max_queue = max(1, max_queue)
        # A burst wakes the writer early so SQLite works while producers keep submitting.
        self._wake_at = max(1, min(batch_max, 4096))
        self.put_timeout = put_timeout
        self.on_flush = on_flush
        self.stats = WriterStats()
        self._buf: deque = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._dropped_pending = 0
        self._first_drop_ts = 0.0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._problem: DbProblem | None = None
        self._last_problem: DbProblem | None = None
        self._drop_reason = "writer queue full"
        self._closing = False
        self._started = False
        self._running = False  # the thread is between start() and the end of _run
        self._held: list[tuple] = []  # a batch that failed; written before anything newer
        self._held_waiters: list[_FlushRequest] = []
        self.connection = WriterConnection(self.db_path)

    # -- producer side -------------------------------------------------------------------------
    def start(self) -> EventWriter:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="selflow-writer", daemon=True)
            self._started = self._running = True
            self._thread.start()
        return self

    def submit(self, event: Event) -> bool:
        """Queue one event (after privacy rules); False if it was filtered or had to be dropped."""
        event = clip_event(event)  # a 50 MB field is cut (and marked) before anything reads it
        if self.privacy is not None:
            filtered = self.privacy.apply(event)
            if filtered is None:
                with self._lock:
                    self.stats.filtered += 1
                return False
            event = filtered
        row = event_row(event)  # built here, in the producer's thread, while SQLite works
        buf = self._buf
        if self._started and not self._running:  # a flag: Thread.is_alive costs more per event
            self._count_dropped(1, event.ts, "writer stopped")  # nobody would ever write it
            return False
        if len(buf) + len(self._held) >= self.max_queue and not self._wait_for_room():
            problem = self._problem
            reason = f"not written: {problem.message}" if problem else "writer queue full"
            self._count_dropped(1, event.ts, reason)
            return False
        buf.append(row)
        # Wake the writer only for a full batch; otherwise it wakes at its flush deadline.
        if len(buf) >= self._wake_at and not self._wake.is_set():
            self._wake.set()
        return True

    def _wait_for_room(self) -> bool:
        if self._thread is None or not self._thread.is_alive() or self._problem is not None:
            return False  # nobody will make room soon: do not make the producer wait
        deadline = time.monotonic() + self.put_timeout
        self._wake.set()
        while len(self._buf) + len(self._held) >= self.max_queue:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    def submit_many(self, events: Iterable[Event]) -> int:
        return sum(1 for ev in events if self.submit(ev))

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything submitted before this call is committed; False when it is not
        (the timeout passed, or a closing writer gave those events up and counted them as a gap):
        callers mark what they read as stored only on True."""
        if self._thread is None or not self._thread.is_alive():
            return False
        req = _FlushRequest()
        self._buf.append(req)
        self._wake.set()
        return req.done.wait(timeout) and req.committed

    def close(self, timeout: float = 30.0) -> None:
        """Flush what is queued and stop the thread; what could not be written is counted."""
        if self._thread is None:
            return
        self._closing = True  # a failing database is retried briefly, not for minutes
        self._buf.append(_STOP)
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():  # still stuck on a batch: what is queued is lost
            left = sum(1 for x in list(self._buf) if x.__class__ is tuple) + len(self._held)
            self._held = []
            if left:
                self._count_dropped(left, time.time(), "writer did not finish before exit")
        self._running = False  # what is submitted from now on is counted, never queued
        self._thread = None

    @property
    def error(self) -> BaseException | None:
        return self._error

    def health(self) -> WriterHealth:
        """Plain data for status displays: state, the last problem, counts."""
        alive = self._thread is not None and self._thread.is_alive()
        if alive:
            state = "error" if self._error is not None else "running"
        elif self._started and self._thread is not None:
            state = "dead"
        else:
            state = "error" if self._error is not None else "stopped"
        p = self._problem
        return WriterHealth(
            state=state,
            problem=p.message if p is not None else "",
            disk_full=bool(p and p.disk_full),
            last_problem=self._last_problem.message if self._last_problem is not None else "",
            written=self.stats.written,
            dropped=self.stats.dropped,
            queued=self.queued,
        )

    def _count_dropped(self, n: int, first_ts: float, reason: str) -> None:
        with self._lock:
            if self._dropped_pending == 0:
                self._first_drop_ts = first_ts
                self._drop_reason = reason
            self._dropped_pending += n
            self.stats.dropped += n

    @property
    def queued(self) -> int:
        """Events waiting to be written: the queue and a batch held after a failure."""
        return len(self._buf) + len(self._held)

    # -- writer thread -------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # the thread must report, not vanish
            self._error = exc
            self._problem = self._last_problem = describe(exc, self.db_path)
            log.exception("event writer stopped")
        finally:
            self._running = False
            self._drop_connection()

    def _drop_connection(self) -> None:
        self.connection.drop()

    def _loop(self) -> None:
        buf, wake, popleft = self._buf, self._wake, self._buf.popleft
        stopping = False
        failures = 0
        while not stopping:
            # A held batch goes first (it stays counted in ``queued`` while it is retried);
            # while the database fails, the loop waits a backoff before the next try.
            batch = self._held
            waiters, self._held_waiters = self._held_waiters, []
            if failures:
                self._pause(min(2.0, 0.25 * 2 ** min(failures - 1, 3)))
            deadline = time.monotonic() + self.flush_interval
            while True:
                take = min(len(buf), self.batch_max - len(batch))
                if take > 0:  # in bulk: a Python loop per row costs as much as SQLite's insert
                    items = [popleft() for _ in range(take)]
                    rows = [x for x in items if x.__class__ is tuple]
                    batch += rows
                    if len(rows) != len(items):  # a flush request or the stop marker
                        for x in items:
                            if x.__class__ is _FlushRequest:
                                waiters.append(x)
                            elif x is _STOP:
                                stopping = True
                if stopping or waiters or failures or len(batch) >= self.batch_max:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wake.clear()
                if len(buf) < self._wake_at:
                    wake.wait(remaining)
            if stopping:  # drain what is left
                while buf:
                    x = popleft()
                    if x.__class__ is tuple:
                        batch.append(x)
                    elif x.__class__ is _FlushRequest:
                        waiters.append(x)
            try:
                if repeats_a_modify(batch):  # only batches with a repeated modify pay
                    batch, n = coalesce_modifies(batch)
                    self.stats.coalesced += n
            except Exception:  # a row that cannot be coalesced is still written as it is
                log.exception("could not coalesce a batch")
            self._held = batch
            committed = True
            if stopping:
                self._held = []
                committed = self._write_retrying(batch, tries=2)
            elif not self._write_once(batch):
                failures += 1
                self._held_waiters = waiters  # told only once their events commit
                continue
            self._held, failures = [], 0
            for w in waiters:
                w.committed = committed
                w.done.set()
        if self._dropped_pending:  # a last try to record the loss before the thread ends
            self._write_retrying([], tries=2)

    def _pause(self, seconds: float) -> None:
        """Wait before retrying a held batch; a close cuts the wait short."""
        deadline = time.monotonic() + seconds
        while not self._closing and time.monotonic() < deadline:
            time.sleep(0.05)

    def _write_once(self, batch: list[tuple]) -> bool:
        """Write a batch; False (the problem in :meth:`health`, said once in the log) if the
        database refused it. Every exception class counts (sqlite3's, Peewee's, OSError)."""
        if not batch and not self._dropped_pending:
            return True
        try:
            self._write(self.connection.get(), batch)
        except Exception as exc:
            self._error = exc
            problem = describe(exc, self.db_path)
            if self._problem is None or problem.message != self._problem.message:
                log.info("events not saved (kept in memory, retrying): %s", problem.message)
            self._problem = self._last_problem = problem
            self._drop_connection()
            return False
        if self._problem is not None:
            log.info("events saved again (%d waited in memory)", len(batch))
        self._error, self._problem = None, None
        return True

    def _write_retrying(self, batch: list[tuple], tries: int = 8) -> bool:
        """Write a batch; any database error is retried, then the batch is counted as a gap.
        False when events were given up.

        Every exception class counts (sqlite3's, Peewee's, OSError): the thread must outlive a
        full disk, a damaged file or a lock, and say so in :meth:`health`.
        """
        owed = self._dropped_pending
        if not batch and not owed:
            return True
        for attempt in range(tries):
            try:
                self._write(self.connection.get(), batch)
                self._error, self._problem = None, None
                return True
            except Exception as exc:
                self._error = exc
                self._problem = self._last_problem = describe(exc, self.db_path)
                self._drop_connection()
                log.info(
                    "event batch not written (try %d of %d): %s",
                    attempt + 1,
                    tries,
                    self._problem.message,
                )
                if self._closing and attempt >= 1:
                    break
                time.sleep(min(2.0, 0.25 * 2**attempt) if not self._closing else 0.1)
        if batch:  # given up: the loss is recorded as a gap with the next batch that commits
            reason = f"not written: {self._problem.message}" if self._problem else "not written"
            self._count_dropped(len(batch), batch[0][TS], reason)
        return not batch  # a gap record alone that failed loses no event

    def _write(self, db: SqliteDatabase, batch: list[tuple]) -> None:
        with self._lock:
            dropped, first = self._dropped_pending, self._first_drop_ts
            reason = self._drop_reason
            self._dropped_pending = 0
        rows = batch
        if dropped:
            now = time.time()
            gap = Event(
                ts=now,
                tz_offset=local_tz_offset(now),
                source="system",
                action="gap",
                meta={"count": dropped, "since": first, "reason": reason},
            )
            rows = [*batch, event_row(gap)]
        if not rows:
            return
        try:
            with db.atomic():
                n, nbytes = insert_rows(db, rows)
        except BaseException:
            if dropped:  # the gap is still owed
                with self._lock:
                    if self._dropped_pending == 0 or first < self._first_drop_ts:
                        self._first_drop_ts = first
                        self._drop_reason = reason
                    self._dropped_pending += dropped
            raise
        self.stats.written += n
        self.stats.bytes += nbytes
        self.stats.batches += 1
        if self.on_flush is not None:
            try:  # committed: a listener's failure must not make the batch written again
                self.on_flush(n, self.stats)
            except Exception:
                log.exception("a flush listener failed")
