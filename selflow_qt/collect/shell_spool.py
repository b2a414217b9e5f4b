"""The shell hooks' spool: one append-only file per shell session in ``<data>/shell``, read by
the shell-hook collector from where it stopped (the offsets survive a restart).

A record (see collect.shell_hook_scripts for the writers)::

    \\x1e v1 SHELL SESSION START END STATUS DURATION_MS ENC ...

``START``/``END`` are Unix seconds (``.`` or ``,`` decimals) or ``-``; ``DURATION_MS`` is a number
or ``-``. With ``ENC`` ``raw`` (zsh) or ``hist`` (bash: the line as ``history 1`` prints it) the
header ends with NUL, then ``CWD`` NUL ``LINE`` NUL newline (a shell string holds no NUL). With
``url`` (fish) the header goes on with the URL-escaped ``CWD`` and ``LINE`` and ends with a
newline. A torn record (a shell killed mid-write) is skipped and the next one found again.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from selflow_qt.core.child import pid_alive

log = logging.getLogger(__name__)

SPOOL_DIR = "shell"  # under the data folder
SPOOL_SUFFIX = ".spool"
OFFSETS_FILE = "offsets.json"
RS, NUL, NL = b"\x1e", b"\x00", b"\n"
MAX_HEADER = 4096
MAX_CWD = 64 * 1024
MAX_RECORD = 64 * 1024 * 1024  # a longer "record" is damage, not a command line

_NUMBER = re.compile(rb"^\d+(?:[.,]\d+)?$")
_HIST_PREFIX = re.compile(rb"^ *\d+[* ] ")
_SPOOL_NAME = re.compile(r"^(bash|zsh|fish)\.(\d+)\.[0-9A-Za-z]+\.spool$")


def spool_dir_for(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / SPOOL_DIR


def ensure_spool_dir(path: Path) -> Path:
    """Create the spool folder readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@dataclass(slots=True)
class HookRecord:
    """One finished command as a shell hook wrote it."""

    shell: str
    session: str
    start: float | None
    end: float | None
    status: int | None
    duration: float | None  # seconds
    cwd: str
    cmd: str
    lossy: bool = False  # bytes that were not UTF-8 were replaced


def _number(tok: bytes) -> float | None:
    if tok == b"-" or not _NUMBER.match(tok):
        return None
    return float(tok.replace(b",", b"."))


def _text(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def _record(tokens: list[bytes], cwd: bytes, line: bytes) -> HookRecord | None:
    shell, session = tokens[1].decode("ascii", "replace"), tokens[2].decode("ascii", "replace")
    start, end, dur_ms = _number(tokens[3]), _number(tokens[4]), _number(tokens[6])
    status = int(tokens[5]) if tokens[5].isdigit() else None
    if tokens[7] == b"hist":
        m = _HIST_PREFIX.match(line)
        if m is None:
            return None
        line = line[m.end() :]
        if line.endswith(NL):
            line = line[:-1]
    duration = end - start if start is not None and end is not None else None
    if duration is None and dur_ms is not None:
        duration = dur_ms / 1000.0
    cwd_s, lossy_cwd = _text(cwd)
    cmd_s, lossy_cmd = _text(line)
    if not cmd_s.strip():
        return None
    return HookRecord(
        shell, session, start, end, status, duration, cwd_s, cmd_s, lossy_cwd or lossy_cmd
    )


def _header(raw: bytes) -> list[bytes] | None:
    tokens = raw.split(b" ")
    if len(tokens) < 8 or tokens[0] != b"v1" or tokens[1] not in (b"bash", b"zsh", b"fish"):
        return None
    enc = tokens[7]
    if (enc == b"url") != (len(tokens) == 10) or enc not in (b"url", b"raw", b"hist"):
        return None
    return tokens


def parse_records(data: bytes) -> tuple[list[HookRecord], int, int]:
    """Records from the start of ``data``: (records, bytes consumed, bytes skipped as damage).

    An incomplete record at the end is not consumed: it is read again with more data.
    """
    out: list[HookRecord] = []
    pos = skipped = 0
    n = len(data)
    while pos < n:
        i = data.find(RS, pos)
        if i < 0:
            skipped += n - pos
            return out, n, skipped
        skipped += i - pos
        pos = i
        end = _first_of(data, i + 1, (NUL, NL), MAX_HEADER)
        if end is None:  # no end of header yet: wait, unless too long for a header
            if n - i > MAX_HEADER:
                pos, skipped = pos + 1, skipped + 1
                continue
            return out, pos, skipped
        tokens = _header(data[i + 1 : end])
        if tokens is None or (tokens[7] == b"url") != (data[end : end + 1] == NL):
            pos, skipped = pos + 1, skipped + 1  # damage: look for the next record
            continue
        if tokens[7] == b"url":
            rec = _record(tokens, unquote_to_bytes(tokens[8]), unquote_to_bytes(tokens[9]))
            pos = end + 1
        else:
            k = data.find(NUL, end + 1, end + 2 + MAX_CWD)
            j = data.find(NUL, k + 1) if k >= 0 else -1
            if k < 0 or j < 0 or j + 1 >= n:
                if k < 0 and n - end > MAX_CWD + 1 or n - i > MAX_RECORD:
                    pos, skipped = pos + 1, skipped + 1
                    continue
                return out, pos, skipped  # the shell is still writing it
            if data[j + 1 : j + 2] != NL:
                pos, skipped = pos + 1, skipped + 1
                continue
            rec = _record(tokens, data[end + 1 : k], data[k + 1 : j])
            pos = j + 2
        if rec is not None:
            out.append(rec)
    return out, pos, skipped


def _first_of(data: bytes, start: int, needles: tuple[bytes, ...], limit: int) -> int | None:
    found = [p for p in (data.find(x, start, start + limit) for x in needles) if p >= 0]
    return min(found) if found else None


def session_pid(path: Path) -> int | None:
    m = _SPOOL_NAME.match(path.name)
    return int(m.group(2)) if m else None


class SpoolReader:
    """Reads new records from every spool file of one folder, keeping offsets on disk."""

    def __init__(self, folder: Path, keep_dead_seconds: float = 3600.0) -> None:
        self.folder = folder
        self.keep_dead_seconds = keep_dead_seconds
        self.offsets: dict[str, int] = {}  # read up to here (the records' events maybe queued)
        self.saved: dict[str, int] = {}  # the offsets on disk: what is read and stored
        self.sizes: dict[str, int] = {}
        self.skipped = 0
        self._load_offsets()

    def _load_offsets(self) -> None:
        """The saved offsets; a damaged file (or entry) reads the spool from its start."""
        try:
            raw = json.loads((self.folder / OFFSETS_FILE).read_text())
        except (OSError, ValueError, RecursionError):
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        # Only whole non-negative numbers: null or Infinity raised here (the collector died),
        # and a negative offset made that spool file unreadable for good.
        self.offsets = {str(k): v for k, v in raw.items() if type(v) is int and v >= 0}
        self.saved = dict(self.offsets)

    def save_offsets(self) -> None:
        tmp = self.folder / (OFFSETS_FILE + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            offsets = dict(self.offsets)
            with os.fdopen(fd, "w") as f:
                json.dump(offsets, f)
            os.replace(tmp, self.folder / OFFSETS_FILE)
            self.saved = offsets
        except OSError as exc:
            log.warning("could not save the shell spool offsets: %s", exc)

    def files(self) -> list[Path]:
        try:
            return sorted(
                p for p in self.folder.iterdir() if p.name.endswith(SPOOL_SUFFIX) and p.is_file()
            )
        except OSError:
            return []

    def already_read(self) -> list[HookRecord]:
        """The records before each saved offset (what an earlier run emitted)."""
        out: list[HookRecord] = []
        for path in self.files():
            upto = self.offsets.get(path.name, 0)
            if upto <= 0:
                continue
            try:
                with path.open("rb") as f:
                    data = f.read(upto)
            except OSError:
                continue
            out.extend(parse_records(data)[0])
        return out

    def read_new(self, save: bool = True) -> list[HookRecord]:
        """Records appended since the last call, file by file; offsets saved when they move.

        ``save=False`` leaves the saving to the caller (once the records' events are committed:
        an offset saved before that would lose them to a kill).
        """
        out: list[HookRecord] = []
        moved = False
        names = set()
        for path in self.files():
            names.add(path.name)
            try:
                size = path.stat().st_size
            except OSError:
                continue
            start = self.offsets.get(path.name, 0)
            if size < start:  # replaced or truncated: read it again
                start = 0
            if size == start or self.sizes.get(path.name) == size:
                self.sizes[path.name] = size
                continue
            self.sizes[path.name] = size
            try:
                with path.open("rb") as f:
                    f.seek(start)
                    data = f.read(size - start)
            except OSError:
                continue
            records, used, skipped = parse_records(data)
            if skipped:
                self.skipped += skipped
                log.warning("skipped %d damaged bytes in %s", skipped, path)
            out.extend(records)
            if used:
                self.offsets[path.name] = start + used
                moved = True
        gone = [n for n in self.offsets if n not in names]
        for n in gone:
            del self.offsets[n]
        if save and (moved or gone):
            self.save_offsets()
        return out

    def remove_finished(self, now: float) -> int:
        """Delete the files of shells that exited (read to the end and stored, quiet for a while).

        Only a file whose saved offset is at its end goes: one read but not yet committed is
        read again after a kill. Nothing is saved here (the offsets read since the last save may
        not be committed); a removed file's entry leaves the file at the next save.
        """
        removed = 0
        for path in self.files():
            pid = session_pid(path)
            try:
                st = path.stat()
            except OSError:
                continue
            done = min(self.offsets.get(path.name, 0), self.saved.get(path.name, 0)) >= st.st_size
            if pid is None or not done or now - st.st_mtime < self.keep_dead_seconds:
                continue
            if pid_alive(pid):
                continue
            try:
                path.unlink()
                removed += 1
            except OSError:
                continue
            self.offsets.pop(path.name, None)
            self.saved.pop(path.name, None)
            self.sizes.pop(path.name, None)
        return removed
