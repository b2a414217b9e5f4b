"""Reading a bash, zsh or fish history file as `shell/command` events, streamed line by line."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

from selflow_qt.collect.import_source import ImportFormatError, Record, register_source
from selflow_qt.collect.shell_history import (
    HistoryFormatError,
    _unmetafy,
    detect_format,
    parse_history,
)
from selflow_qt.core.event import MAX_TS, Event, local_tz_offset
from selflow_qt.store.day import IMPORTED_KEY


class ShellHistorySource:
    """A history file. Entries without a time are spread 1 s apart before the file's mtime,
    in order, and marked ``ts_estimated``; that needs their count, known after one full read.
    Those times only keep the order: the analysis cuts evenly spaced times by content
    (``analyze.untimed``), and "today" leaves imported events out (``store.day``).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        try:
            st = self.path.stat()
            with self.path.open("rb") as f:
                head = [f.readline() for _ in range(50)]
        except OSError as exc:
            raise ImportFormatError(self.name, None, exc.strerror or str(exc)) from None
        if not self.path.is_file():
            raise ImportFormatError(self.name, None, "not a file")
        self.mtime = st.st_mtime
        sample = [b.decode("utf-8", "replace") for b in head if b]
        self.format = detect_format(self.path, sample)
        self.imported_from = str(self.path.resolve())
        self._untimed_total: int | None = None

    def _lines(self, errors: deque[ImportFormatError]) -> Iterator[str]:
        with self.path.open("rb") as f:
            for lineno, raw in enumerate(f, 1):
                chunk = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
                try:
                    yield chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    fixed = _unmetafy(chunk)  # zsh stores bytes >= 0x83 "metafied"
                    if fixed is None:
                        errors.append(
                            ImportFormatError(
                                self.name,
                                lineno,
                                f"not UTF-8 text (byte 0x{chunk[exc.start]:02x} "
                                f"at column {exc.start + 1})",
                            )
                        )
                        fixed = ""  # keeps the line numbers of what follows
                    yield fixed

    def records(self) -> Iterator[Record]:
        errors: deque[ImportFormatError] = deque()

        def on_error(exc: HistoryFormatError) -> None:
            errors.append(ImportFormatError(self.name, exc.line, exc.message))

        untimed = 0
        total = self._untimed_total
        for entry in parse_history(self._lines(errors), self.format, on_error=on_error):
            while errors:
                yield errors.popleft()
            meta: dict[str, object] = {"shell": self.format, IMPORTED_KEY: self.imported_from}
            ts = entry.ts
            if ts is None:
                untimed += 1
                # Until the count is known (the first, validating read) any time will do.
                ts = self.mtime - ((total if total is not None else untimed) - untimed + 1)
                meta["ts_estimated"] = True
            if not 0 <= ts < MAX_TS:
                yield ImportFormatError(self.name, entry.line, f"time out of range: {ts!r}")
                continue
            yield Event(
                ts=ts,
                tz_offset=local_tz_offset(ts),
                source="shell",
                action="command",
                cmd=entry.cmd,
                duration=entry.duration,
                meta=meta,
            )
        while errors:
            yield errors.popleft()
        self._untimed_total = untimed


register_source("shell", lambda source: ShellHistorySource(Path(source)))
