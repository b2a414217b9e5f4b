"""The one event writer: a bounded queue drained by one thread in batched transactions."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.core.event import Event, local_tz_offset
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.db import connect
from selflow_qt.store.state import add_to_buffer

log = logging.getLogger(__name__)

INSERT_SQL = (
    "INSERT INTO events (ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta, size) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _clean(text: str | None) -> str | None:
    # Undecodable file names arrive as surrogate escapes; store them losslessly as \udcXX-free text.
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# One encoder, built once: json.dumps with non-default options builds a new one on every call.
_encode_meta = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def event_row(ev: Event) -> tuple:
    meta = _encode_meta(ev.meta) if ev.meta else "{}"
    if meta.isascii():
        size = 96 + len(ev.source) + len(ev.action) + len(meta)
    else:
        meta = _clean(meta)
        size = 96 + len(ev.source) + len(ev.action) + len(meta)
    path, dest, cmd = _clean(ev.path), _clean(ev.dest), _clean(ev.cmd)
    cwd, app = _clean(ev.cwd), _clean(ev.app)
    if path:
        size += len(path)
    if dest:
        size += len(dest)
    if app:
        size += len(app)
    if cmd:
        size += len(cmd)
    if cwd:
        size += len(cwd)
    return (
        ev.ts,
        ev.tz_offset,
        ev.source,
        ev.action,
        path,
        dest,
        app,
        cmd,
        cwd,
        ev.duration,
        meta,
        size,
    )


def insert_events(db: SqliteDatabase, events: Iterable[Event]) -> tuple[int, int]:
    """Insert events with the raw executemany fast path; call inside a transaction.

    Returns (count, bytes) and accounts the bytes in the buffer budget.
    """
    rows = [event_row(ev) for ev in events]
    if not rows:
        return 0, 0
    db.connection().executemany(INSERT_SQL, rows)
    nbytes = sum(r[-1] for r in rows)
    add_to_buffer(db, nbytes, len(rows))
    return len(rows), nbytes


@dataclass
class WriterStats:
    written: int = 0
    dropped: int = 0
    coalesced: int = 0
    filtered: int = 0
    batches: int = 0
    bytes: int = 0


class _FlushRequest:
    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class EventWriter:
    """Owns SQLite writes of events. ``submit`` never blocks longer than ``put_timeout``.

    Privacy rules are applied in ``submit``, before an event can reach the queue. Repeated
    ``modify`` events of one path inside a batch collapse into one (with a count in meta). If the
    queue is ever full, dropped events are counted and recorded as one ``system/gap`` event.
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

    # -- producer side -------------------------------------------------------------------------
    def start(self) -> EventWriter:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="selflow-writer", daemon=True)
            self._thread.start()
        return self

    def submit(self, event: Event) -> bool:
        """Queue one event (after privacy rules); False if it was filtered or had to be dropped."""
        if self.privacy is not None:
            filtered = self.privacy.apply(event)
            if filtered is None:
                with self._lock:
                    self.stats.filtered += 1
                return False
            event = filtered
        buf = self._buf
        if len(buf) >= self.max_queue and not self._wait_for_room():
            with self._lock:
                if self._dropped_pending == 0:
                    self._first_drop_ts = event.ts
                self._dropped_pending += 1
                self.stats.dropped += 1
            return False
        buf.append(event)
        if not self._wake.is_set():
            self._wake.set()
        return True

    def _wait_for_room(self) -> bool:
        deadline = time.monotonic() + self.put_timeout
        self._wake.set()
        while len(self._buf) >= self.max_queue:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    def submit_many(self, events: Iterable[Event]) -> int:
        return sum(1 for ev in events if self.submit(ev))

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything submitted before this call is committed."""
        if self._thread is None or not self._thread.is_alive():
            return False
        req = _FlushRequest()
        self._buf.append(req)
        self._wake.set()
        return req.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Flush what is queued and stop the thread."""
        if self._thread is None:
            return
        self._buf.append(_STOP)
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def queued(self) -> int:
        return len(self._buf)

    # -- writer thread -------------------------------------------------------------------------
    def _run(self) -> None:
        db = connect(self.db_path)
        try:
            self._loop(db)
        except BaseException as exc:  # the thread must report, not vanish
            self._error = exc
            log.exception("event writer stopped")
        finally:
            db.close()

    def _loop(self, db: SqliteDatabase) -> None:
        buf, wake = self._buf, self._wake
        stopping = False
        while not stopping:
            batch: list[Event] = []
            modify_index: dict[str, int] = {}
            waiters: list[_FlushRequest] = []
            deadline = time.monotonic() + self.flush_interval
            while True:
                while buf and len(batch) < self.batch_max:
                    item = buf.popleft()
                    if item.__class__ is _FlushRequest:
                        waiters.append(item)
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    self._add(batch, modify_index, item)
                if stopping or waiters or len(batch) >= self.batch_max:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wake.clear()
                if not buf:
                    wake.wait(remaining)
            if stopping:  # drain what is left
                while buf:
                    item = buf.popleft()
                    if item.__class__ is _FlushRequest:
                        waiters.append(item)
                    elif item is not _STOP:
                        self._add(batch, modify_index, item)
            self._write(db, batch)
            for w in waiters:
                w.done.set()

    def _add(self, batch: list[Event], modify_index: dict[str, int], ev: Event) -> None:
        if ev.action == "modify" and ev.source == "fs" and ev.path:
            i = modify_index.get(ev.path)
            if i is not None:
                prev = batch[i]
                count = int(prev.meta.get("coalesced", 1)) + 1
                prev.meta = {**prev.meta, "coalesced": count}
                prev.ts = ev.ts
                self.stats.coalesced += 1
                return
            modify_index[ev.path] = len(batch)
        elif ev.path:
            modify_index.pop(ev.path, None)
        batch.append(ev)

    def _write(self, db: SqliteDatabase, batch: list[Event]) -> None:
        with self._lock:
            dropped, first = self._dropped_pending, self._first_drop_ts
            self._dropped_pending = 0
        if dropped:
            now = time.time()
            batch.append(
                Event(
                    ts=now,
                    tz_offset=local_tz_offset(now),
                    source="system",
                    action="gap",
                    meta={"count": dropped, "since": first, "reason": "writer queue full"},
                )
            )
        if not batch:
            return
        with db.atomic():
            n, nbytes = insert_events(db, batch)
        self.stats.written += n
        self.stats.bytes += nbytes
        self.stats.batches += 1
        if self.on_flush is not None:
            self.on_flush(n, self.stats)
