"""Parsing shell history files (bash, zsh extended history, fish) into timestamped commands.

Used by both the live shell collector (which feeds newly appended lines) and `selflow import shell`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_ZSH_EXT = re.compile(r"^: *(\d+):(\d+);(.*)$", re.DOTALL)
_ZSH_EXT_LOOSE = re.compile(r"^: *([^:]*):([^;]*);")
_BASH_TS = re.compile(r"^#(\d{9,11})\s*$")


class HistoryFormatError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(slots=True)
class HistoryEntry:
    line: int  # 1-based line where the entry starts
    cmd: str
    ts: float | None  # None when the file records no time (plain bash history)
    duration: float | None = None
    shell: str = "bash"


def detect_format(path: str | os.PathLike, sample: Iterable[str] = ()) -> str:
    """'zsh', 'fish' or 'bash', from the file name and then its first lines."""
    name = Path(path).name.lower()
    if "fish" in name:
        return "fish"
    lines = [ln for ln in sample if ln.strip()][:20]
    if any(ln.startswith("- cmd:") for ln in lines):
        return "fish"
    if any(_ZSH_EXT.match(ln.rstrip("\n")) for ln in lines):
        return "zsh"
    if "zsh" in name:
        return "zsh"
    return "bash"


def default_history_files(home: Path | None = None) -> list[Path]:
    """The usual history files of bash, zsh and fish that exist for this user."""
    home = home or Path.home()
    candidates = [os.environ.get("HISTFILE")] if os.environ.get("HISTFILE") else []
    candidates += [
        str(home / ".bash_history"),
        str(home / ".zsh_history"),
        str(home / ".zhistory"),
        str(home / ".local/share/fish/fish_history"),
    ]
    seen: list[Path] = []
    for c in candidates:
        p = Path(c).expanduser()
        if p.is_file() and p not in seen:
            seen.append(p)
    return seen


OnError = Callable[[HistoryFormatError], None]


def _raise(exc: HistoryFormatError) -> None:
    raise exc


def parse_history(
    lines: Iterable[str], fmt: str, start_line: int = 1, on_error: OnError | None = None
) -> Iterator[HistoryEntry]:
    """Entries from history text lines; raises HistoryFormatError naming the line.

    With ``on_error``, a malformed entry is reported to it and skipped instead.
    """
    report = on_error or _raise
    if fmt == "fish":
        yield from _parse_fish(lines, start_line, report)
    elif fmt == "zsh":
        yield from _parse_zsh(lines, start_line, report)
    else:
        yield from _parse_bash(lines, start_line)


def _parse_bash(lines: Iterable[str], start: int) -> Iterator[HistoryEntry]:
    ts: float | None = None
    for i, raw in enumerate(lines, start):
        line = raw.rstrip("\n")
        m = _BASH_TS.match(line)
        if m:
            ts = float(m.group(1))
            continue
        if not line.strip():
            continue
        yield HistoryEntry(line=i, cmd=line, ts=ts, shell="bash")
        ts = None


def _parse_zsh(lines: Iterable[str], start: int, report: OnError) -> Iterator[HistoryEntry]:
    pending: list[str] = []
    pending_start = start
    pending_ts: float | None = None
    pending_dur: float | None = None
    for i, raw in enumerate(lines, start):
        line = raw.rstrip("\n")
        if pending:
            pending.append(line)
        elif line.startswith(":") and _ZSH_EXT_LOOSE.match(line):
            m = _ZSH_EXT.match(line)
            if not m:
                # The line itself may hold a secret: the message names only its place.
                report(HistoryFormatError(i, "malformed zsh extended-history header"))
                continue
            pending_start, pending_ts, pending_dur = i, float(m.group(1)), float(m.group(2))
            pending = [m.group(3)]
        elif not line.strip():
            continue
        else:  # zsh without EXTENDED_HISTORY: plain lines
            pending_start, pending_ts, pending_dur = i, None, None
            pending = [line]
        if pending and pending[-1].endswith("\\"):
            pending[-1] = pending[-1][:-1]
            continue
        cmd = "\n".join(pending).strip()
        pending = []
        if cmd:
            yield HistoryEntry(pending_start, cmd, pending_ts, pending_dur, shell="zsh")
    if pending:
        cmd = "\n".join(pending).strip()
        if cmd:
            yield HistoryEntry(pending_start, cmd, pending_ts, pending_dur, shell="zsh")


_FISH_ESCAPE = re.compile(r"\\([n\\])")


def _unescape_fish(text: str) -> str:
    # Left to right, so an escaped backslash before "n" stays a backslash and an "n".
    return _FISH_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else "\\", text)


def _parse_fish(lines: Iterable[str], start: int, report: OnError) -> Iterator[HistoryEntry]:
    cmd: str | None = None
    cmd_line = start
    ts: float | None = None
    for i, raw in enumerate(lines, start):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("- cmd:"):
            if cmd is not None:
                yield HistoryEntry(cmd_line, cmd, ts, shell="fish")
            cmd, cmd_line, ts = _unescape_fish(line[len("- cmd:") :].strip()), i, None
        elif line.startswith("  when:"):
            if cmd is None:
                report(HistoryFormatError(i, "'when:' before any '- cmd:' entry"))
                continue
            value = line[len("  when:") :].strip()
            if not (value.isascii() and value.isdigit()):  # "²".isdigit(), but float() refuses it
                # The entry has no usable time: report it and drop the whole entry.
                report(HistoryFormatError(i, "'when:' must be Unix seconds"))
                cmd = None
                continue
            ts = float(value)
        elif line.startswith("  paths:") or line.startswith("    - "):
            continue
        else:
            report(HistoryFormatError(i, "not fish history syntax"))
    if cmd is not None:
        yield HistoryEntry(cmd_line, cmd, ts, shell="fish")


def read_history_file(path: str | os.PathLike) -> tuple[str, list[HistoryEntry]]:
    """Parse a whole history file: (format, entries). Undecodable bytes raise with the line."""
    p = Path(path)
    data = p.read_bytes()
    lines: list[str] = []
    for i, chunk in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            # zsh "metafies" bytes >= 0x83; try that before giving up.
            fixed = _unmetafy(chunk)
            if fixed is None:
                raise HistoryFormatError(i, f"not UTF-8 text ({exc.reason})") from None
            lines.append(fixed)
    if lines and lines[-1] == "":
        lines.pop()
    fmt = detect_format(p, lines[:50])
    return fmt, list(parse_history(lines, fmt))


def _unmetafy(chunk: bytes) -> str | None:
    if b"\x83" not in chunk:
        return None
    out = bytearray()
    it = iter(chunk)
    for b in it:
        if b == 0x83:
            nxt = next(it, None)
            if nxt is None:
                return None
            out.append(nxt ^ 32)
        else:
            out.append(b)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return None
