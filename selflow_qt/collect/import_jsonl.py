"""Reading the JSON Lines interchange form, one event a line, streamed in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from selflow_qt.collect.import_source import ImportFormatError, Record, register_source
from selflow_qt.core.event import event_from_json

MAX_LINE_BYTES = 1024 * 1024  # one event; longer lines are reported, not read into memory


class JsonlSource:
    """A JSONL file of events (``ts`` as Unix seconds or ISO 8601); blank lines are skipped."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        if self.path.is_dir():
            raise ImportFormatError(self.name, None, "is a folder; give one .jsonl file")
        if not self.path.is_file():
            raise ImportFormatError(self.name, None, "no such file")

    def records(self) -> Iterator[Record]:
        try:
            f = self.path.open("rb")
        except OSError as exc:
            raise ImportFormatError(self.name, None, exc.strerror or str(exc)) from None
        with f:
            lineno = 0
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    break
                lineno += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # skip the rest, never hold it whole
                        raw = f.readline(MAX_LINE_BYTES)
                    yield ImportFormatError(
                        self.name, lineno, f"line longer than {MAX_LINE_BYTES} bytes"
                    )
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield ImportFormatError(
                        self.name,
                        lineno,
                        f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                    )
                    continue
                if lineno == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip():
                    continue
                try:
                    yield event_from_json(line)
                except (ValueError, OverflowError) as exc:
                    yield ImportFormatError(self.name, lineno, str(exc))


register_source("jsonl", lambda source: JsonlSource(Path(source)))
