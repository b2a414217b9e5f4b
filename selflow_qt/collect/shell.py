"""The live shell collector: tails bash/zsh/fish history files and emits each new command.

Only bytes appended since the collector started are read (the old history is `selflow import
shell`'s job). A file that shrinks or is replaced (truncation, rotation, ``history -w``) is read
again from its start. Commands are redacted by the writer's privacy filter.

Its status says when it last saw a command; at start and every few minutes it checks that the
history files it tails can still be read (a file that cannot is otherwise just quiet).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from selflow_qt.collect.base import RUNNING, STOPPED, Collector, Emit
from selflow_qt.collect.shell_history import (
    HistoryFormatError,
    _unmetafy,
    default_history_files,
    detect_format,
    parse_history,
)
from selflow_qt.core.event import Event, local_tz_offset

log = logging.getLogger(__name__)

_BASH_TS_LINE = re.compile(rb"^#\d{9,11}\s*$")
CHECK_SECONDS = 300.0  # how often the tailed files are checked


class HistoryTail:
    """New complete lines of one history file, parsed into entries."""

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.path = path
        self.offset = 0
        self.ino: int | None = None
        self.pending = b""
        self.line_no = 1
        self.fmt = "bash"
        self.last_error = ""
        self.skipped = 0
        self.mtime_ns = 0
        self.tail_bytes = b""  # the last bytes before offset: a rewrite changes them
        try:
            st = path.stat()
            self.ino, self.mtime_ns = st.st_ino, st.st_mtime_ns
            self.offset = 0 if from_start else st.st_size
            with path.open("rb") as f:
                head = f.read(8192).decode("utf-8", "replace").splitlines()
                self.tail_bytes = self._bytes_before(f, self.offset)
                self.line_no = 1 + self._lines_before(f, self.offset)  # real line numbers
            self.fmt = detect_format(path, head)
        except OSError:
            self.ino = None

    def read_new(self) -> list:
        """Entries appended since the last call (handles truncation and replacement)."""
        try:
            st = self.path.stat()
        except OSError:
            return []
        if st.st_ino == self.ino and st.st_mtime_ns == self.mtime_ns and st.st_size == self.offset:
            return []  # unchanged: the common case costs one stat
        with self.path.open("rb") as f:
            if self.ino is not None and (
                st.st_ino != self.ino
                or st.st_size < self.offset
                or self._bytes_before(f, self.offset) != self.tail_bytes
            ):
                self.offset, self.pending, self.line_no = 0, b"", 1  # rotated, truncated, rewritten
            if self.ino is None:
                self.fmt = detect_format(
                    self.path, f.read(8192).decode("utf-8", "replace").splitlines()
                )
            self.ino, self.mtime_ns = st.st_ino, st.st_mtime_ns
            if st.st_size <= self.offset:
                return []
            f.seek(self.offset)
            data = f.read(st.st_size - self.offset)
            self.offset += len(data)
            self.tail_bytes = self._bytes_before(f, self.offset)
        data = self.pending + data
        cut = data.rfind(b"\n") + 1
        self.pending, data = data[cut:], data[:cut]
        raw_lines = data.split(b"\n")[:-1]
        # A bash timestamp line belongs to the command after it: wait for that command.
        if raw_lines and _BASH_TS_LINE.match(raw_lines[-1]):
            self.pending = raw_lines.pop() + b"\n" + self.pending
        lines = [self._decode(b) for b in raw_lines]
        start = self.line_no
        self.line_no += len(lines)
        # A malformed entry is skipped alone (and reported by its line number, never its text);
        # the commands around it in the same poll are kept.
        return list(parse_history(lines, self.fmt, start, on_error=self._skipped))

    def _skipped(self, exc: HistoryFormatError) -> None:
        self.skipped += 1
        self.last_error = f"{self.path}: {exc} (skipped; {self.skipped} so far)"
        log.warning("skipping an unreadable history entry: %s", self.last_error)

    @staticmethod
    def _lines_before(f, offset: int) -> int:
        f.seek(0)
        n, left = 0, offset
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                break
            n += chunk.count(b"\n")
            left -= len(chunk)
        return n

    @staticmethod
    def _bytes_before(f, offset: int, n: int = 64) -> bytes:
        start = max(0, offset - n)
        f.seek(start)
        return f.read(offset - start)

    @staticmethod
    def _decode(chunk: bytes) -> str:
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            return _unmetafy(chunk) or chunk.decode("utf-8", "replace")


class ShellCollector(Collector):
    """Emits source ``shell``, action ``command`` for every command added to a history file."""

    name = "shell"
    event_noun = "command"

    def __init__(
        self,
        files: list[str | os.PathLike] | None = None,
        poll_seconds: float = 1.0,
        from_start: bool = False,
        check_seconds: float = CHECK_SECONDS,
        history_filter: Callable[[Event, bool], bool] | None = None,
    ) -> None:
        super().__init__()
        # (event, has its own time) -> emit it now; the shell-hook collector's dedupe says no to
        # a command its hook already recorded (collect.shell_hook.HistoryDedupe).
        self.history_filter = history_filter
        self.check_seconds = check_seconds
        self.unreadable: dict[Path, str] = {}  # tailed files the last check could not read
        self.explicit = [Path(f).expanduser() for f in files] if files else None
        self.poll_seconds = poll_seconds
        self.from_start = from_start
        self.tails: dict[Path, HistoryTail] = {}

    def _candidates(self) -> list[Path]:
        if self.explicit is not None:
            return self.explicit
        return default_history_files()

    def _refresh_tails(self, first: bool) -> None:
        for path in self._candidates():
            if path not in self.tails and path.is_file():
                # A file that appears after the start is new history: read it whole.
                self.tails[path] = HistoryTail(path, from_start=self.from_start or not first)

    def run(self, emit: Emit, stopping: threading.Event) -> None:
        self._refresh_tails(first=True)
        self.check()
        checks = 0
        next_check = time.monotonic() + self.check_seconds
        try:
            while not stopping.wait(self.poll_seconds):
                checks += 1
                if checks % 30 == 0:  # look for new history files now and then
                    self._refresh_tails(first=False)
                    self._report()
                self.poll(emit)
                if time.monotonic() >= next_check:
                    self.check()
                    next_check = time.monotonic() + self.check_seconds
        finally:
            self.set_status(STOPPED, "")

    def poll(self, emit: Emit) -> int:
        n = 0
        now = time.time()
        errors_before = [t.skipped for t in self.tails.values()]
        for tail in self.tails.values():
            for entry in tail.read_new():
                ts = entry.ts if entry.ts is not None else now
                ev = Event(
                    ts=ts,
                    tz_offset=local_tz_offset(ts),
                    source="shell",
                    action="command",
                    cmd=entry.cmd,
                    duration=entry.duration,
                    meta={"shell": entry.shell},
                )
                if self.history_filter is None or self.history_filter(ev, entry.ts is not None):
                    emit(ev)
                    n += 1
        if n:
            self.saw_event()
        if [t.skipped for t in self.tails.values()] != errors_before:
            self._report()  # a skipped entry shows in the status at once
        return n

    def check(self) -> None:
        """Whether the tailed files can still be read; none readable is a stopped capture."""
        self.unreadable = {}
        for path in self.tails:
            try:
                with path.open("rb"):
                    pass
            except OSError as exc:
                self.unreadable[path] = exc.strerror or type(exc).__name__
        if self.tails and len(self.unreadable) == len(self.tails):
            path, why = next(iter(self.unreadable.items()))
            more = f" (and {len(self.unreadable) - 1} more)" if len(self.unreadable) > 1 else ""
            self.set_problem(
                f"Shell capture stopped: the shell history {path}{more} cannot be read ({why})"
            )
        else:
            self.clear_problem()
        self._report()

    def _report(self) -> None:
        if self.tails:
            detail = "tailing " + ", ".join(str(p) for p in self.tails)
            if self.unreadable:
                detail += "; cannot read " + ", ".join(
                    f"{p} ({why})" for p, why in self.unreadable.items()
                )
            errors = [t.last_error for t in self.tails.values() if t.last_error]
            if errors:
                detail += "; " + errors[-1]
        else:
            looked = ", ".join(str(p) for p in self._candidates()) or "~/.bash_history, ..."
            detail = f"no history file yet (looked for {looked})"
        self.set_status(RUNNING, detail)
