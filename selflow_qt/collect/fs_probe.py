"""The file watcher's self-check: a change SelFlow makes itself, in a folder of its own.

A watcher that delivers nothing looks, from the inside, exactly like a user who changes no
files (watchdog 7.1.1 did that to us). So the file collector watches a private folder of the data
directory (``<data>/probe``) for this purpose alone, writes a small file there at start and every
few minutes, and expects to see it within a few seconds. Its events never reach the collector's
handlers, so they are never recorded, and the folder is never one of the watched roots.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PROBE_SECONDS = 300.0  # how often the watcher is checked
PROBE_TIMEOUT = 5.0  # how long a test change may take to be seen
_PREFIX = "check-"


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both absolute)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class WatcherProbe:
    """Writes a test file into ``folder`` when due; ``problem`` says when it was not seen in time.

    Call :meth:`tick` from the collector's loop; the observer calls :meth:`dispatch` (this object
    is the handler scheduled on ``folder``). ``checked_at`` is the wall time the last test change
    was seen; ``note`` says why no check can run (e.g. the folder cannot be written).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        every_s: float = PROBE_SECONDS,
        timeout_s: float = PROBE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = os.path.abspath(os.fspath(folder))
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.problem = ""
        self.note = ""
        self.checked_at: float | None = None
        self.checks = 0
        self._lock = threading.Lock()
        self._pending: str | None = None  # the name of the test file not yet seen
        self._sent_at = 0.0
        self._seen: str | None = None
        self._next_at = 0.0  # due at once: the first check runs at start

    # -- set-up ----------------------------------------------------------------------------------
    def prepare(self) -> bool:
        """Create the folder and clear test files a previous run left; False if it cannot."""
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            for entry in os.scandir(self.folder):
                if entry.name.startswith(_PREFIX):
                    os.unlink(entry.path)
        except OSError as exc:
            self.note = f"the file watcher cannot be checked: {self.folder}: {exc.strerror or exc}"
            return False
        return True

    def schedule(self, observer) -> bool:
        """Watch the folder with ``observer`` (the one the collector's roots use)."""
        if not self.prepare():
            return False
        try:
            observer.schedule(self, self.folder)
        except OSError as exc:  # e.g. the inotify watch limit
            self.note = f"the file watcher cannot be checked: {self.folder}: {exc.strerror or exc}"
            return False
        return True

    # -- the observer's side -----------------------------------------------------------------------
    def dispatch(self, event) -> None:
        """Any event naming the pending test file proves the watcher delivers."""
        names = {os.path.basename(os.fsdecode(event.src_path))}
        dest = getattr(event, "dest_path", "")
        if dest:
            names.add(os.path.basename(os.fsdecode(dest)))
        with self._lock:
            if self._pending is not None and self._pending in names:
                self._seen = self._pending

    # -- the collector's side ----------------------------------------------------------------------
    def tick(self) -> bool:
        """Run the check when due and judge a pending one; True when ``problem`` changed."""
        before = self.problem
        now = self.clock()
        with self._lock:
            pending, seen = self._pending, self._seen
        if pending is not None and seen == pending:
            self._passed(pending)
        elif pending is not None and now - self._sent_at > self.timeout_s and not self.problem:
            self.problem = (
                f"File capture stopped: a test change in {self.folder} was not seen within "
                f"{self.timeout_s:g} s (the file watcher delivers nothing)"
            )
            log.error("%s", self.problem)
        if now >= self._next_at:
            self._next_at = now + self.every_s
            self._send()
        return self.problem != before

    def _passed(self, name: str) -> None:
        if self.problem:
            log.warning("the file watcher delivers again (a test change was seen)")
        self.problem = ""
        self.checked_at = time.time()
        self.checks += 1
        with self._lock:
            self._pending = self._seen = None
        self._remove(name)

    def _send(self) -> None:
        name = f"{_PREFIX}{os.getpid()}-{self.checks}-{int(time.time() * 1000)}"
        with self._lock:
            old, self._pending, self._seen = self._pending, name, None
        self._sent_at = self.clock()
        try:
            Path(self.folder, name).write_bytes(b"SelFlow checks its file watcher here.\n")
            self.note = ""
        except OSError as exc:  # a full disk: say it, and try again next time
            with self._lock:
                self._pending = None
            self.note = f"the file watcher cannot be checked: {self.folder}: {exc.strerror or exc}"
        if old is not None:
            self._remove(old)

    def _remove(self, name: str) -> None:
        try:
            os.unlink(os.path.join(self.folder, name))
        except OSError:
            pass

    def close(self) -> None:
        """Remove the test file still pending (called when the collector stops)."""
        with self._lock:
            name, self._pending = self._pending, None
        if name is not None:
            self._remove(name)
