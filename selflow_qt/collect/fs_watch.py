"""The file watcher: public APIs only, so a library's next release cannot silently stop capture.

On Linux, :class:`InotifyTreeWatcher` reads the kernel's inotify events through ``inotify_simple``
(a thin, documented wrapper of the three inotify syscalls) with one watch per folder, so excluded
folders are never watched or walked, an ``IN_Q_OVERFLOW`` becomes an :class:`OverflowEvent` in
order with the events read before it, and running out of watches (``ENOSPC``) becomes a
:class:`WatchLimitEvent`. Events reach the handlers as watchdog's public event classes.

Elsewhere watchdog's public ``Observer`` watches each root recursively; its ``EventsLostEvent``
(watchdog >= 7.1.1) is handed on as an :class:`OverflowEvent`. watchdog's inotify observer was
subclassed here before; its private internals changed in 7.1.1 and capture died without a word.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)

log = logging.getLogger(__name__)


class OverflowEvent(FileSystemEvent):
    """The OS dropped events under ``src_path``: rescan it."""

    event_type = "overflow"


class WatchLimitEvent(FileSystemEvent):
    """No more inotify watches could be added under ``src_path`` (fs.inotify.max_user_watches)."""

    event_type = "watch_limit"


class Handler(Protocol):
    def dispatch(self, event: FileSystemEvent) -> None: ...


def _never(path: str) -> bool:
    return False


try:  # Linux only
    import inotify_simple
    from inotify_simple import flags as F

    HAVE_INOTIFY = True
except (ImportError, OSError):  # pragma: no cover - other platforms
    HAVE_INOTIFY = False


# How long an IN_MOVED_FROM waits for its IN_MOVED_TO before it counts as a move out of the tree.
MOVE_PAIR_SECONDS = 0.25


def _created(path: str, is_dir: bool) -> FileSystemEvent:
    return DirCreatedEvent(path) if is_dir else FileCreatedEvent(path)


def _deleted(path: str, is_dir: bool) -> FileSystemEvent:
    return DirDeletedEvent(path) if is_dir else FileDeletedEvent(path)


def _moved(src: str, dest: str, is_dir: bool) -> FileSystemEvent:
    return DirMovedEvent(src, dest) if is_dir else FileMovedEvent(src, dest)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class InotifyTreeWatcher:
    """Watches folder trees with one inotify watch per folder that is not excluded.

    A reader thread turns the kernel's events into watchdog events and queues them; a dispatcher
    thread hands them to the handler of each root that holds the path, so slow handlers never
    keep the kernel queue from being read.
    """

    if HAVE_INOTIFY:
        MASK = (
            F.CREATE
            | F.DELETE
            | F.MODIFY
            | F.MOVED_FROM
            | F.MOVED_TO
            | F.DONT_FOLLOW
            | F.EXCL_UNLINK
            | F.ONLYDIR
        )

    def __init__(self, is_excluded: Callable[[str], bool] = _never) -> None:
        self.is_excluded = is_excluded
        self.event_queue: queue.Queue[FileSystemEvent | None] = queue.Queue()
        self.reading = threading.Lock()  # held while one batch of kernel events is handled
        self._inotify = inotify_simple.INotify()
        self._lock = threading.RLock()
        self._path_by_wd: dict[int, str] = {}
        self._wd_by_path: dict[str, int] = {}
        self._roots: dict[str, Handler] = {}
        self._limit_reported: set[str] = set()
        self._pending_moves: dict[int, tuple[float, str, bool]] = {}
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_loop, name="selflow-inotify", daemon=True),
            threading.Thread(target=self._dispatch_loop, name="selflow-fs-events", daemon=True),
        ]

    # -- the observer interface the collector uses ---------------------------------------------
    def schedule(self, handler: Handler, path: str, recursive: bool = True) -> None:
        """Watch ``path`` (and, if recursive, every folder below it that is not excluded).

        Raises ``OSError`` when the root itself cannot be watched (``ENOSPC``: the watch limit).
        """
        root = os.path.abspath(path)
        with self._lock:
            self._add_watch(root, root)
            self._roots[root] = handler
        if recursive:
            self._watch_tree(root, root, report=False)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stopping.set()
        self.event_queue.put(None)

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            if t.is_alive():
                t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if not any(t.is_alive() for t in self._threads):
            self._inotify.close()

    def watched_paths(self) -> set[str]:
        """The folders that hold an inotify watch now."""
        with self._lock:
            return set(self._wd_by_path)

    def process(self, events: list) -> None:
        """Handle one batch of raw kernel events (``inotify_simple.Event``), in order."""
        for ev in events:
            try:
                self._process_one(ev)
            except Exception:  # one odd event never stops the watcher
                log.exception("inotify event %r could not be handled", ev)
        self._expire_moves(time.monotonic())

    # -- watches -------------------------------------------------------------------------------
    def _add_watch(self, folder: str, root: str) -> int:
        wd = self._inotify.add_watch(os.fsencode(folder), self.MASK)
        old = self._path_by_wd.get(wd)
        if old is not None and old != folder:
            self._wd_by_path.pop(old, None)
        self._path_by_wd[wd] = folder
        self._wd_by_path[folder] = wd
        return wd

    def _watch_folder(self, folder: str, root: str) -> bool:
        """Watch one folder below ``root``; False when it is gone or the watch limit is hit."""
        try:
            with self._lock:
                self._add_watch(folder, root)
            return True
        except OSError as exc:
            if exc.errno == errno.ENOSPC and root not in self._limit_reported:
                self._limit_reported.add(root)
                log.warning("inotify watch limit reached under %s", root)
                self.event_queue.put(WatchLimitEvent(root))
            return False

    def _watch_tree(self, top: str, root: str, *, report: bool) -> None:
        """Watch every folder below ``top`` (watched already), pruned at excluded ones.

        Each folder is watched before it is listed, so what appears in it meanwhile is either
        listed or reported by the kernel. With ``report``, what is listed is reported as created
        (made before its folder was watched: ``mkdir -p``, an archive, a tree moved in).
        """
        stack = [top]
        while stack:
            current = stack.pop()
            try:
                with os.scandir(current) as it:
                    entries = [(e.path, e.is_dir(follow_symlinks=False)) for e in it]
            except OSError:
                continue
            for path, is_dir in entries:
                if not is_dir:
                    if report:
                        self.event_queue.put(FileCreatedEvent(path))
                    continue
                if self.is_excluded(path) or not self._watch_folder(path, root):
                    continue
                if report:
                    self.event_queue.put(DirCreatedEvent(path))
                stack.append(path)

    def _root_of(self, path: str) -> str | None:
        for root in self._roots:
            if _under(path, root):
                return root
        return None

    def _forget_tree(self, folder: str, *, unwatch: bool) -> None:
        with self._lock:
            for path in [p for p in self._wd_by_path if _under(p, folder)]:
                wd = self._wd_by_path.pop(path)
                self._path_by_wd.pop(wd, None)
                if unwatch:
                    try:
                        self._inotify.rm_watch(wd)
                    except OSError:
                        pass

    def _rename_tree(self, src: str, dest: str) -> None:
        with self._lock:
            for path in [p for p in self._wd_by_path if _under(p, src)]:
                wd = self._wd_by_path.pop(path)
                new = dest + path[len(src) :]
                self._wd_by_path[new] = wd
                self._path_by_wd[wd] = new

    # -- kernel events -------------------------------------------------------------------------
    def _process_one(self, ev) -> None:
        mask = ev.mask
        if mask & F.Q_OVERFLOW:
            self._overflowed()
            return
        with self._lock:
            folder = self._path_by_wd.get(ev.wd)
        if mask & F.IGNORED:
            if folder is not None:
                with self._lock:
                    if self._path_by_wd.get(ev.wd) == folder:
                        self._path_by_wd.pop(ev.wd, None)
                        self._wd_by_path.pop(folder, None)
            return
        if folder is None or not ev.name:
            return  # events on a watched folder itself (DELETE_SELF...) come from its parent too
        path = os.path.join(folder, ev.name)
        is_dir = bool(mask & F.ISDIR)
        if mask & F.CREATE:
            self._appeared(path, is_dir)
        elif mask & F.MODIFY:
            if not is_dir:
                self.event_queue.put(FileModifiedEvent(path))
        elif mask & F.DELETE:
            self.event_queue.put(_deleted(path, is_dir))
        elif mask & F.MOVED_FROM:
            self._pending_moves[ev.cookie] = (time.monotonic(), path, is_dir)
        elif mask & F.MOVED_TO:
            pending = self._pending_moves.pop(ev.cookie, None)
            if pending is None:
                self._appeared(path, is_dir)  # moved in from outside the watched trees
            else:
                self._moved_within(pending[1], path, is_dir)

    def _appeared(self, path: str, is_dir: bool) -> None:
        self.event_queue.put(_created(path, is_dir))
        if not is_dir or self.is_excluded(path):
            return
        root = self._root_of(path)
        if root is not None and self._watch_folder(path, root):
            self._watch_tree(path, root, report=True)

    def _moved_within(self, src: str, dest: str, is_dir: bool) -> None:
        if is_dir:
            if self.is_excluded(dest):
                self._forget_tree(src, unwatch=True)
            elif src in self._wd_by_path:
                self._rename_tree(src, dest)
            else:  # moved out of an excluded folder: watch it now
                self._appeared(dest, True)
                self.event_queue.put(DirDeletedEvent(src))
                return
        self.event_queue.put(_moved(src, dest, is_dir))

    def _expire_moves(self, now: float) -> None:
        """A move whose other half never came went out of the watched trees: a deletion."""
        for cookie, (t, path, is_dir) in list(self._pending_moves.items()):
            if now - t >= MOVE_PAIR_SECONDS:
                del self._pending_moves[cookie]
                if is_dir:
                    self._forget_tree(path, unwatch=True)
                self.event_queue.put(_deleted(path, is_dir))

    def _overflowed(self) -> None:
        """Events were dropped: watch any folder made meanwhile, then ask each root for a rescan."""
        log.warning("inotify queue overflow: rescanning %s", ", ".join(self._roots))
        for root in list(self._roots):
            self._watch_tree(root, root, report=False)  # adding a watch again is harmless
            self.event_queue.put(OverflowEvent(root))

    # -- threads -------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                events = self._inotify.read(timeout=100 if self._pending_moves else 500)
            except OSError as exc:  # the fd was closed under us: stopping
                if not self._stopping.is_set():
                    log.error("inotify read failed: %s", exc)
                return
            with self.reading:
                if events:
                    self.process(events)
                elif self._pending_moves:
                    self._expire_moves(time.monotonic())

    def _dispatch_loop(self) -> None:
        while True:
            event = self.event_queue.get()
            try:
                if event is None:
                    return
                paths = [event.src_path]
                if getattr(event, "dest_path", ""):
                    paths.append(event.dest_path)
                for root, handler in list(self._roots.items()):
                    if any(_under(os.fsdecode(p), root) for p in paths):
                        handler.dispatch(event)
            except Exception:
                log.exception("fs event %r could not be dispatched", event)
            finally:
                self.event_queue.task_done()


class _LossAsOverflow:
    """Hands watchdog's ``EventsLostEvent`` on as an :class:`OverflowEvent` (other platforms)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type == "events_lost":
            event = OverflowEvent(event.src_path)
        self.handler.dispatch(event)


class PortableObserver:  # pragma: no cover - macOS and Windows
    """watchdog's platform observer through its public API: one recursive watch a root."""

    def __init__(self, is_excluded: Callable[[str], bool] = _never) -> None:
        from watchdog.observers import Observer

        self._observer = Observer()
        self.event_queue = self._observer.event_queue

    def schedule(self, handler: Handler, path: str, recursive: bool = True) -> None:
        self._observer.schedule(_LossAsOverflow(handler), path, recursive=recursive)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()

    def join(self, timeout: float | None = None) -> None:
        self._observer.join(timeout)


def make_observer(is_excluded: Callable[[str], bool]):
    """The best watcher for this platform (inotify per folder on Linux, watchdog elsewhere)."""
    if HAVE_INOTIFY:
        return InotifyTreeWatcher(is_excluded)
    return PortableObserver(is_excluded)  # pragma: no cover
