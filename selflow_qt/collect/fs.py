"""The filesystem collector: create/modify/delete/move under the watched roots, through watchdog.

Excluded folders are neither watched nor walked. Every reported change also updates a model of
what was reported (:class:`TreeModel`), so that after an inotify queue overflow, or when the watch
limit forces polling, a rescan reports exactly what was missed (meta ``rescan: true``).

With a probe folder the collector also proves, at start and every few minutes, that the watcher
delivers (:mod:`selflow_qt.collect.fs_probe`); when it does not, the status says so in one line.
With a snapshot folder it remembers what it reported across restarts
(:mod:`selflow_qt.collect.fs_snapshot`).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent

from selflow_qt.collect.base import (
    ERROR,
    RUNNING,
    STOPPED,
    UNAVAILABLE,
    Collector,
    Emit,
    clock_time,
)
from selflow_qt.collect.fs_probe import PROBE_SECONDS, PROBE_TIMEOUT, WatcherProbe, inside
from selflow_qt.collect.fs_snapshot import Snapshots
from selflow_qt.collect.fs_tree import DEFAULT_MAX_ENTRIES, Change, TreeModel, _entry_stat
from selflow_qt.collect.fs_watch import make_observer
from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter

log = logging.getLogger(__name__)

_WATCHED_TYPES = ("created", "deleted", "modified", "moved")


def _max_user_watches() -> str:
    try:
        return Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip()
    except OSError:
        return "?"


class _RootHandler:
    """Receives watchdog's events for one root and hands them to the collector."""

    def __init__(self, collector: FilesystemCollector, root: str) -> None:
        self.collector = collector
        self.root = root

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self.collector.handle(self.root, event)
        except Exception:  # never let one odd event kill the observer's thread
            log.exception("fs event %r could not be handled", event)


class FilesystemCollector(Collector):
    """Watches ``roots`` recursively; emits source ``fs`` events through ``emit``."""

    name = "fs"
    event_noun = "file change"

    def __init__(
        self,
        roots: Iterable[str | os.PathLike],
        privacy: PrivacyFilter | None = None,
        *,
        poll_seconds: float = 60.0,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        snapshot_dir: Path | None = None,
        snapshot_seconds: float = 30.0,
        probe_dir: Path | None = None,
        probe_seconds: float = PROBE_SECONDS,
        probe_timeout: float = PROBE_TIMEOUT,
        db_path: Path | None = None,
        wait_committed: Callable[[float], bool] | None = None,
    ) -> None:
        super().__init__()
        self.roots = [os.path.abspath(os.path.expanduser(os.fspath(r))) for r in roots]
        self.privacy = privacy or PrivacyFilter()
        self.poll_seconds = poll_seconds
        self.max_entries = max_entries
        self.models: dict[str, TreeModel] = {}
        self.polled: set[str] = set()
        self.observer = None
        self.rescans = 0
        self.ready = threading.Event()
        self._emit: Emit = lambda ev: None
        self._model_lock = threading.RLock()
        self._problems: list[str] = []
        # The watcher's self-check (a folder of SelFlow's own, never recorded): see fs_probe.
        self.probe = (
            WatcherProbe(probe_dir, probe_seconds, probe_timeout) if probe_dir is not None else None
        )
        self._excluded = self._is_excluded
        # With a snapshot folder, the model is saved (every snapshot_seconds when it changed, and
        # at stop) and a restart diffs the disk against it: changes made while SelFlow was not
        # running are recorded with meta offline: true. The database the events go to and the
        # writer's flush: a snapshot is saved only once every event it reflects is committed,
        # and the restart's catch-up leaves out what the database already holds.
        self.snapshots = (
            Snapshots(snapshot_dir, self.privacy, db_path, wait_committed)
            if snapshot_dir is not None
            else None
        )
        self.snapshot_seconds = snapshot_seconds
        self._dirty = False
        self.offline_changes = 0

    @property
    def already_recorded(self) -> int:
        """Changes the restart's catch-up left out because the database already held them."""
        return 0 if self.snapshots is None else self.snapshots.already_recorded

    # -- lifecycle -----------------------------------------------------------------------------
    def run(self, emit: Emit, stopping: threading.Event) -> None:
        self._emit = emit
        self.observer = make_observer(self._observer_excludes)
        self.observer.start()
        try:
            for root in self.roots:
                self._watch_root(root)
            if self.probe is not None and self.models:
                self.probe.schedule(self.observer)
            if not self.models:
                self.set_status(UNAVAILABLE, "; ".join(self._problems) or "no folders to watch")
                self.ready.set()
                return
            self._report()
            self.save_snapshots()  # a crash from here on can be reconciled at the next start
            self.ready.set()
            next_poll = time.monotonic() + self.poll_seconds
            next_save = time.monotonic() + self.snapshot_seconds
            tick = 1.0 if self.probe is None else min(1.0, self.probe.timeout_s / 5)
            self._check_watcher()
            while not stopping.wait(tick):
                self._check_watcher()
                if self.polled and time.monotonic() >= next_poll:
                    for root in list(self.polled):
                        self.rescan(root, "poll")
                    next_poll = time.monotonic() + self.poll_seconds
                if self._dirty and time.monotonic() >= next_save:
                    self.save_snapshots()
                    next_save = time.monotonic() + self.snapshot_seconds
        finally:
            self.ready.set()
            self._drain()
            if self.probe is not None:
                self.probe.close()
            self.observer.stop()
            self.observer.join(10)
            self.save_snapshots()
            if self.state == RUNNING:
                self.set_status(STOPPED, f"stopped; was watching {', '.join(self.models)}")

    def _is_excluded(self, path: str) -> bool:
        """Not recorded: what the privacy rules exclude, and the probe folder."""
        if self.probe is not None and inside(path, self.probe.folder):
            return True
        return self.privacy.is_excluded(path)

    def _observer_excludes(self, path: str) -> bool:
        """Not watched or walked: the excluded folders, except the probe folder itself."""
        if self.probe is not None and inside(path, self.probe.folder):
            return False
        return self._excluded(path)

    def _check_watcher(self) -> None:
        """Run the probe when due; a change in its verdict shows in the status at once."""
        if self.probe is None:
            return
        before = (self.probe.checked_at, self.probe.note)
        if self.probe.tick():
            if self.probe.problem:
                self.set_problem(self.probe.problem)
            else:
                self.clear_problem()
        if (self.probe.checked_at, self.probe.note) != before:
            self._report()

    def _drain(self, timeout: float = 2.0) -> None:
        """Let events the kernel already reported reach ``emit`` before stopping."""
        q = self.observer.event_queue
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3 and time.monotonic() < deadline:
            quiet = quiet + 1 if q.unfinished_tasks == 0 else 0
            time.sleep(0.05)

    def _watch_root(self, root: str) -> None:
        if not os.path.isdir(root):
            self._problems.append(f"{root}: not a folder")
            return
        if self._excluded(root):
            self._problems.append(f"{root}: excluded by the privacy rules")
            return
        model = TreeModel(root, self._excluded, self.max_entries)
        # This run's live events come after this moment: the catch-up weighs only earlier ones
        # (a file created while starting is reported by the catch-up, its later write live).
        started = time.time()
        with self._model_lock:
            self.models[root] = model
            try:
                self.observer.schedule(_RootHandler(self, root), root, recursive=True)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    del self.models[root]
                    self._problems.append(f"{root}: cannot watch ({exc.strerror or exc})")
                    return
                self.polled.add(root)
            snapshots = self.snapshots
            if snapshots is None or not model.load(snapshots.path(root)):
                model.build()
                self._dirty = True
                return
            # What changed while SelFlow was not running, queued before any live event of this
            # run is (the lock holds them back): the writer commits in queue order, so a kill
            # never leaves a file's live write committed without its caught-up create, which
            # the next catch-up would take for proof that the file was recorded.
            changes = snapshots.not_yet_recorded(model.rescan(), model.saved_ns, started)
            for c in changes:
                self._send(c.action, c.path, c.is_dir, c.size, rescan="offline")
            self.offline_changes += len(changes)

    def save_snapshots(self) -> None:
        """Persist what was reported under every root (so a restart can reconcile).

        Under the model lock (no change is reported meanwhile) and after the writer committed
        what was queued: a snapshot never holds a change whose event could still be lost.
        """
        if self.snapshots is None:
            return
        with self._model_lock:
            if not self.snapshots.committed():
                log.warning("file snapshot not saved: queued events are not committed yet")
                return  # still dirty: the next save tries again
            # a root that could not be written (a full disk): the next save tries again
            self._dirty = not self.snapshots.save(self.models)

    def _report(self) -> None:
        entries = sum(m.entry_count() for m in self.models.values())
        detail = f"watching {', '.join(self.models)} ({entries} entries)"
        if self.polled:
            detail += (
                f"; inotify watch limit reached (fs.inotify.max_user_watches={_max_user_watches()}),"
                f" polling every {self.poll_seconds:g} s: {', '.join(sorted(self.polled))}"
            )
        for root, m in self.models.items():
            if not m.complete:
                detail += (
                    f"; {root} has over {m.max_entries} entries: not modelled, so a rescan"
                    " finds changed files but not deletions"
                )
        if self.rescans:
            detail += f"; {self.rescans} rescan(s)"
        if self.offline_changes:
            detail += f"; {self.offline_changes} change(s) made while stopped recorded"
        if self._problems:
            detail += "; " + "; ".join(self._problems)
        if self.probe is not None:
            if self.probe.note:
                detail += "; " + self.probe.note
            elif self.probe.checked_at is not None:
                detail += f"; file watcher checked {clock_time(self.probe.checked_at)}"
            else:
                detail += "; checking the file watcher"
        self.set_status(RUNNING, detail)

    # -- events --------------------------------------------------------------------------------
    def handle(self, root: str, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind == "overflow":
            log.warning("inotify queue overflow under %s: rescanning", root)
            self.rescan(root, "overflow")
            return
        if kind == "watch_limit":
            log.warning("inotify watch limit reached under %s: polling it", root)
            self.polled.add(root)
            self._report()
            return
        if kind not in _WATCHED_TYPES:
            return  # opened, closed, attrib: not user actions we record
        model = self.models.get(root)
        if model is None:
            return
        src = os.fsdecode(event.src_path)
        is_dir = event.is_directory
        if kind == "moved":
            self._moved(model, src, os.fsdecode(event.dest_path), is_dir)
            return
        if self._excluded(src):
            return
        # The model changes and its event is queued under one lock hold, so a snapshot (saved
        # under that lock once the queue is committed) never holds a change still in flight.
        if kind == "modified":
            if is_dir:
                return  # watchdog's "folder contents changed" echo
            st = _entry_stat(src)
            with self._model_lock:
                model.touch(src, st[1] if st else 0)
                self._send("modify", src, False, st[2] if st else None)
        elif kind == "created":
            st = _entry_stat(src)
            with self._model_lock:
                if model.add(src, is_dir, st[1] if st else 0):
                    self._send("create", src, is_dir, None if is_dir or not st else st[2])
        else:  # deleted
            with self._model_lock:
                if model.remove(src):
                    self._send("delete", src, is_dir, None)

    def _moved(self, model: TreeModel, src: str, dest: str, is_dir: bool) -> None:
        src_out, dest_out = self._excluded(src), self._excluded(dest)
        if src_out and dest_out:
            return
        if src_out:  # appeared from a place we do not record
            st = _entry_stat(dest)
            with self._model_lock:
                if model.add(dest, is_dir, st[1] if st else 0):
                    self._send("create", dest, is_dir, None if is_dir or not st else st[2])
            return
        if dest_out:  # went somewhere we do not record
            with self._model_lock:
                if model.remove(src):
                    self._send("delete", src, is_dir, None)
            return
        with self._model_lock:
            known = model.move(src, dest)
            if not known:
                if model.contains(dest):
                    return  # already reported (a file inside a folder that moved as a whole)
                st = _entry_stat(dest)
                model.add(dest, is_dir, st[1] if st else 0)
            self._send("move", src, is_dir, None, dest=dest)

    def rescan(self, root: str, reason: str) -> list[Change]:
        """Diff the disk against what was reported under ``root`` and emit the differences."""
        model = self.models.get(root)
        if model is None:
            return []
        with self._model_lock:
            changes = model.rescan()
            for c in changes:
                self._send(c.action, c.path, c.is_dir, c.size, rescan=reason)
        self.rescans += 1
        self._report()
        return changes

    def _send(
        self,
        action: str,
        path: str,
        is_dir: bool,
        size: int | None,
        *,
        dest: str | None = None,
        rescan: str | None = None,
    ) -> None:
        meta: dict = {}
        if is_dir:
            meta["is_dir"] = True
        if size is not None:
            meta["size"] = size
        if rescan == "offline":
            meta["offline"] = True  # happened while SelFlow was not running; time unknown
        elif rescan:
            meta["rescan"] = True
            meta["reason"] = rescan
        self._dirty = True
        ev = Event.now("fs", action, path=path, dest=dest, meta=meta)
        self.saw_event(ev.ts)
        self._emit(ev)

    def fail(self, message: str) -> None:
        self.set_status(ERROR, message)
