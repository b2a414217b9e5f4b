"""watchdog's inotify observer, taught three things: skip excluded folders, say when the kernel
queue overflowed, and say when the inotify watch limit ran out.

watchdog (7.x) handles ``IN_Q_OVERFLOW`` inside ``InotifyWatchGroup.on_queue_overflow``: it drops
the pending events and re-adds the watches, but tells no handler. Our watch group also puts an
overflow marker into the same ordered queue the real events travel through, and our emitter turns
it into an :class:`OverflowEvent`, so the collector rescans exactly after the events it did get.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent

log = logging.getLogger(__name__)


class OverflowEvent(FileSystemEvent):
    """The OS dropped events under ``src_path``: rescan it."""

    event_type = "overflow"


class WatchLimitEvent(FileSystemEvent):
    """No more inotify watches could be added under ``src_path`` (fs.inotify.max_user_watches)."""

    event_type = "watch_limit"


def _never(path: str) -> bool:
    return False


try:  # Linux only
    from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent
    from watchdog.observers.inotify_move_event_grouper import PathedInotifyEvent

    HAVE_INOTIFY = True
except (ImportError, OSError):  # pragma: no cover - other platforms
    HAVE_INOTIFY = False


if HAVE_INOTIFY:

    def overflow_event() -> InotifyEvent:
        """The event the kernel queues when it drops events (wd -1, IN_Q_OVERFLOW)."""
        return InotifyEvent(-1, InotifyConstants.IN_Q_OVERFLOW, 0, b"")

    @dataclass
    class PrunedWatchGroup(InotifyWatchGroup):
        """A recursive watch group that never watches (or walks) excluded folders."""

        is_excluded: Callable[[str], bool] = field(default=_never)
        on_watch_limit: Callable[[], None] | None = None

        def _pruned_walk(self, path: bytes):
            for root, dirnames, filenames in os.walk(path, followlinks=self.follow_symlink):
                keep = []
                for d in dirnames:
                    full = os.path.join(root, d)
                    if self.is_excluded(os.fsdecode(full)):
                        continue
                    if not self.follow_symlink and os.path.islink(full):
                        continue
                    keep.append(d)
                dirnames[:] = keep
                yield root, dirnames, filenames

        def _add_all_callbacks(self, path: bytes) -> None:
            self._add_callback(path)
            if self.is_recursive and os.path.isdir(path):
                for root, dirnames, _ in self._pruned_walk(path):
                    for d in dirnames:
                        self._add_callback(os.path.join(root, d))

        def _add_callback(self, path: bytes) -> None:
            try:
                wd = self._inotify_fd.add_callback(path, self.event_mask, self._callback, self._id)
            except OSError as exc:
                if exc.errno == errno.ENOSPC and self.on_watch_limit is not None:
                    self.on_watch_limit()
                if path == self.path:
                    raise
                return
            self._active_callbacks_by_path[path] = wd
            self._active_callbacks_by_watch[wd] = path

        def _recursive_simulate(self, src_path: bytes) -> list[InotifyEvent]:
            events = []
            for root, dirnames, filenames in self._pruned_walk(src_path):
                wd_root = self._active_callbacks_by_path.get(root)
                if wd_root is None:
                    continue
                for d in dirnames:
                    mask = InotifyConstants.IN_CREATE | InotifyConstants.IN_ISDIR
                    events.append(InotifyEvent(wd_root, mask, 0, d))
                for f in filenames:
                    events.append(InotifyEvent(wd_root, InotifyConstants.IN_CREATE, 0, f))
            return events

        def on_queue_overflow(self) -> None:
            super().on_queue_overflow()
            with self._lock:
                if self.is_active:  # after the events already read, before any later one
                    marker = PathedInotifyEvent(overflow_event(), self.path)
                    self._move_event_grouper.put_event(marker)

    class PrunedInotifyEmitter(InotifyEmitter):
        """An inotify emitter that uses :class:`PrunedWatchGroup` and emits overflow markers."""

        def __init__(self, event_queue, watch, *, is_excluded=_never, **kwargs) -> None:
            super().__init__(event_queue, watch, **kwargs)
            self._is_excluded = is_excluded
            self._limit_reported = False

        def _watch_limit(self) -> None:
            if not self._limit_reported:
                self._limit_reported = True
                self.queue_event(WatchLimitEvent(self.watch.path))

        def on_thread_start(self) -> None:
            self._inotify = PrunedWatchGroup(
                self._inotify_fd,
                os.fsencode(self.watch.path),
                is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(),
                follow_symlink=self.watch.follow_symlink,
                is_excluded=self._is_excluded,
                on_watch_limit=self._watch_limit,
            )

        def build_and_queue_event(self, event, *, full_events: bool = False) -> None:
            if isinstance(event, PathedInotifyEvent) and event.ev.is_queue_overflow:
                self.queue_event(OverflowEvent(self.watch.path))
                return
            super().build_and_queue_event(event, full_events=full_events)

    class PrunedObserver(InotifyObserver):
        """The inotify observer with pruning, overflow markers and watch-limit reports."""

        def __init__(self, is_excluded: Callable[[str], bool] = _never, **kwargs) -> None:
            super().__init__(**kwargs)
            self._emitter_class = PrunedInotifyEmitter
            self._emitter_kwargs = {**self._emitter_kwargs, "is_excluded": is_excluded}

        def inject_kernel_event(self, event: InotifyEvent) -> None:
            """Feed one raw inotify event through the path the kernel's events take."""
            self._inotify_fd.handle_event(event)


def make_observer(is_excluded: Callable[[str], bool]):
    """The best observer for this platform (pruned inotify on Linux, watchdog's default elsewhere)."""
    if HAVE_INOTIFY:
        return PrunedObserver(is_excluded=is_excluded)
    from watchdog.observers import Observer  # pragma: no cover - other platforms

    return Observer()  # pragma: no cover
