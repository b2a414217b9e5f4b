"""The collection service: one event writer, the enabled collectors in their own threads, and
their health in the ``collector_status`` table so another process (``selflow status``) can read it.

Plain Python (no Qt): the CLI runs it directly; the desktop app wraps it in a worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from selflow_qt.collect.base import ERROR, LIVE_STATES, RUNNING, STOPPED, Collector, CollectorHealth
from selflow_qt.collect.shell_spool import spool_dir_for
from selflow_qt.core.event import Event, local_tz_offset
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.core.settings import Settings, resolve_data_dir
from selflow_qt.store.backup import backup_if_due
from selflow_qt.store.db import connect, db_path_for, open_database
from selflow_qt.store.queries.collectors import save_collector_status
from selflow_qt.store.state import kv_get, kv_set
from selflow_qt.store.writer import EventWriter, WriterHealth, WriterStats

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
FLUSHED_KEY = "collector.flushed"
# {"pid", "started", "beat", "clean"}: a run that ended without stop() leaves clean False.
SESSION_KEY = "collector.session"
# The event writer's WriterHealth (state, problem, disk_full, counts) for `selflow status`.
WRITER_KEY = "collector.writer"


def build_collectors(
    settings: Settings,
    privacy: PrivacyFilter,
    *,
    roots: Iterable[str] | None = None,
    fs: bool | None = None,
    apps: bool | None = None,
    shell: bool | None = None,
    snapshot_dir: Path | None = None,
    probe_dir: Path | None = None,
    spool_dir: Path | None = None,
    db_path: Path | None = None,
    wait_committed: Callable[[float], bool] | None = None,
) -> list[Collector]:
    """The collectors the settings (or the overrides) enable, not yet started.

    With ``snapshot_dir`` the filesystem collector keeps a snapshot of what it reported there,
    so a restart records what changed while SelFlow was not running; with ``probe_dir`` it
    checks its watcher with test changes there (see collect.fs_probe); with ``spool_dir`` the
    shell hooks' records are read from there (see collect.shell_hook). With ``db_path`` and the
    writer's flush as ``wait_committed``, the snapshot only holds committed changes and the
    restart's catch-up leaves out what the database already holds.
    """
    out: list[Collector] = []
    if settings.collect_fs if fs is None else fs:
        from selflow_qt.collect.fs import FilesystemCollector

        out.append(
            FilesystemCollector(
                list(roots or settings.watch_roots),
                privacy,
                snapshot_dir=snapshot_dir,
                probe_dir=probe_dir,
                db_path=db_path,
                wait_committed=wait_committed,
            )
        )
    if settings.collect_apps if apps is None else apps:
        from selflow_qt.collect.apps import AppCollector

        out.append(AppCollector(poll_seconds=settings.app_poll_seconds))
    if settings.collect_shell if shell is None else shell:
        from selflow_qt.collect.shell import ShellCollector
        from selflow_qt.collect.shell_hook import ShellHookCollector

        hook = (
            ShellHookCollector(spool_dir, db_path=db_path, wait_committed=wait_committed)
            if spool_dir is not None
            else None
        )
        out.append(
            ShellCollector(
                settings.shell_history_files or None,
                history_filter=hook.dedupe.admit_history if hook else None,
            )
        )
        if hook is not None:
            out.append(hook)
    return out


class CollectionService:
    """Runs collectors into one :class:`EventWriter` and publishes their health."""

    def __init__(
        self,
        ctx_or_data_dir=None,
        settings: Settings | None = None,
        *,
        collectors: list[Collector] | None = None,
        roots: Iterable[str] | None = None,
        fs: bool | None = None,
        apps: bool | None = None,
        shell: bool | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._ctx = ctx_or_data_dir if hasattr(ctx_or_data_dir, "data_dir") else None
        if self._ctx is not None:  # a StoreContext: its database is open and migrated
            self.data_dir = Path(ctx_or_data_dir.data_dir)
            settings = settings or ctx_or_data_dir.settings
        else:
            self.data_dir = resolve_data_dir(ctx_or_data_dir)
        self.settings = settings or Settings.load(self.data_dir)
        self.db_path = db_path_for(self.data_dir)
        # SelFlow's own folder is never recorded, even inside a watched root.
        self.privacy = PrivacyFilter.from_settings(self.settings, self.data_dir)
        self.writer = EventWriter(self.db_path, self.privacy, on_flush=self._flushed)
        self.collectors = (
            collectors
            if collectors is not None
            else build_collectors(
                self.settings,
                self.privacy,
                roots=roots,
                fs=fs,
                apps=apps,
                shell=shell,
                snapshot_dir=self.data_dir / "fs-state",
                probe_dir=self.data_dir / "probe",
                spool_dir=spool_dir_for(self.data_dir),
                db_path=self.db_path,
                wait_committed=self.writer.flush,
            )
        )
        self.heartbeat_seconds = heartbeat_seconds
        self.flushed_total = 0
        self.flush_listeners: list = []  # called with no argument after each committed batch
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._heartbeat: threading.Thread | None = None
        self._started = False
        self._session_started = time.time()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> CollectionService:
        if self._started:
            return self
        if self._ctx is None:  # make sure the schema exists before any thread writes
            open_database(self.data_dir).close()
        self._started = True
        self.writer.start()
        self._begin_session()
        for c in self.collectors:
            c.set_status(RUNNING, "starting")
            t = threading.Thread(target=self._run_one, args=(c,), name=f"selflow-{c.name}")
            t.daemon = True
            t.start()
            self._threads.append(t)
        try:
            self._write_health()  # so `selflow status` sees the collectors at once
        except Exception:
            log.exception("could not record collector health")
        self._heartbeat = threading.Thread(target=self._beat, name="selflow-health", daemon=True)
        self._heartbeat.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the collectors, flush every queued event and record them as stopped."""
        if not self._started:
            return
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        if self._heartbeat is not None:
            self._heartbeat.join(max(0.1, deadline - time.monotonic()))
        self.writer.close(max(1.0, deadline - time.monotonic()))
        try:
            self._write_health(final=True)
        except Exception:  # a full or damaged disk: the exit code and stderr still say it
            log.debug("could not record the final collector health", exc_info=True)
        self._started = False

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop`` is requested (True) or the timeout passes (False)."""
        return self._stopping.wait(timeout)

    def request_stop(self) -> None:
        """Ask a blocked ``wait`` to return (safe from a signal handler)."""
        self._stopping.set()

    @property
    def stats(self) -> WriterStats:
        return self.writer.stats

    def writer_health(self) -> WriterHealth:
        return self.writer.health()

    def health(self) -> list[CollectorHealth]:
        now, pid = time.time(), os.getpid()
        out = []
        for c in self.collectors:
            state, detail = c.status()
            out.append(CollectorHealth(c.name, state, detail, pid, now, c.last_event_at))
        return out

    # -- unclean shutdowns ---------------------------------------------------------------------
    def _begin_session(self) -> None:
        """Record this run; a previous run that never reached stop() becomes a gap event."""
        now = time.time()
        db = connect(self.db_path)
        try:
            prev = kv_get(db, SESSION_KEY)
            with db.atomic():
                kv_set(
                    db,
                    SESSION_KEY,
                    {"pid": os.getpid(), "started": now, "beat": now, "clean": False},
                )
        except Exception:
            log.exception("could not record the collector session")
            return
        finally:
            db.close()
        if isinstance(prev, dict) and not prev.get("clean", True):
            since = float(prev.get("beat") or prev.get("started") or now)
            self.writer.submit(
                Event(
                    ts=now,
                    tz_offset=local_tz_offset(now),
                    source="system",
                    action="gap",
                    meta={
                        "reason": "unclean shutdown",
                        "since": since,
                        "until": now,
                        "pid": prev.get("pid"),
                    },
                )
            )
            log.warning("the previous collector run (pid %s) ended uncleanly", prev.get("pid"))

    # -- threads -------------------------------------------------------------------------------
    def _run_one(self, collector: Collector) -> None:
        try:
            collector.run(self.writer.submit, self._stopping)
        except Exception as exc:  # one broken collector must not stop the others
            log.exception("collector %s failed", collector.name)
            collector.set_status(ERROR, f"{type(exc).__name__}: {exc}")

    def has_collector(self, name: str) -> bool:
        return any(c.name == name for c in self.collectors)

    def _flushed(self, n: int, stats: WriterStats) -> None:
        self.flushed_total = stats.written
        log.info("flushed %d events (total %d)", n, stats.written)
        for listener in self.flush_listeners:
            listener()

    def _beat(self) -> None:
        last: list[tuple[str, str]] = []
        next_beat = 0.0
        try:  # the rolling daily backup, off the collectors' threads
            backup_if_due(self.db_path)
        except Exception as exc:  # a full disk or a damaged file must not stop collection
            log.warning("no backup taken: %s", exc)
        while True:
            stopping = self._stopping.wait(1.0)
            w = self.writer.health()  # a writer that starts or stops failing is news too
            now_states = [c.status() for c in self.collectors] + [(w.state, w.problem)]
            if stopping:
                return
            if now_states != last or time.monotonic() >= next_beat:
                try:
                    self._write_health()
                except Exception:  # a busy, full or damaged database: try again next beat
                    # (the writer's health says why; a traceback a second would bury it)
                    log.debug("could not record collector health", exc_info=True)
                    continue
                last = now_states
                next_beat = time.monotonic() + self.heartbeat_seconds

    def _write_health(self, final: bool = False) -> None:
        rows = self.health()
        db = connect(self.db_path)
        try:
            with db.atomic():
                for h in rows:
                    state = h.state
                    if final and state in LIVE_STATES:
                        state = STOPPED
                    save_collector_status(db, h.name, state, h.detail, h.pid, h.updated_at)
                kv_set(db, FLUSHED_KEY, {"pid": os.getpid(), "written": self.writer.stats.written})
                kv_set(db, WRITER_KEY, {**asdict(self.writer.health()), "pid": os.getpid()})
                kv_set(
                    db,
                    SESSION_KEY,
                    {
                        "pid": os.getpid(),
                        "started": self._session_started,
                        "beat": time.time(),
                        "clean": final,
                    },
                )
        finally:
            db.close()
