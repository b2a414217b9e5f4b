"""What the filesystem collector has reported under one root, and how a rescan finds what it missed.

The model maps each folder to its entries (``name -> mtime_ns`` for files, ``DIR`` for folders).
Live events keep it current; a rescan (after an inotify overflow, or when polling) diffs the disk
against it, so every change the kernel dropped is reported once and nothing is reported twice.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

DIR = -1  # entry value of a sub-folder
# About 150 bytes an entry: past this many, a root is not modelled (see TreeModel.complete).
DEFAULT_MAX_ENTRIES = 250_000


class TooManyEntries(Exception):
    """The tree is larger than the model may hold."""


@dataclass(slots=True)
class Change:
    """One difference between the model and the disk."""

    action: str  # create | modify | delete
    path: str
    is_dir: bool
    size: int | None = None
    mtime_ns: int | None = None  # a file's modification time on disk (create and modify)


def _entry_stat(path: str) -> tuple[bool, int, int] | None:
    """(is_dir, mtime_ns, size) without following links; None if the entry vanished."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    is_dir = (st.st_mode & 0o170000) == 0o040000
    return is_dir, st.st_mtime_ns, st.st_size


def _walk(root: str, is_excluded: Callable[[str], bool]) -> Iterator[tuple[str, str, int, int]]:
    """(folder, name, mtime_ns or DIR, size) of every entry below ``root``, folders first.

    Excluded and unreadable folders are not entered; an entry that vanishes mid-walk is skipped.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        yield folder, "", DIR, 0  # the folder itself (name "" marks it)
        try:
            it = os.scandir(folder)
        except OSError:  # unreadable, vanished or a name too long: keep the folder, know nothing
            continue
        with it:
            for entry in it:
                path = os.path.join(folder, entry.name)
                if is_excluded(path):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(path)
                        yield folder, entry.name, DIR, 0
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:  # deleted between listing and stat
                    continue
                yield folder, entry.name, st.st_mtime_ns, st.st_size


def scan_tree(
    root: str, is_excluded: Callable[[str], bool], limit: int | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Walk ``root`` (not into excluded or unreadable folders): ({folder: {name: mtime|DIR}}, sizes).

    Raises TooManyEntries past ``limit`` entries.
    """
    folders: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    n = 0
    for folder, name, value, size in _walk(root, is_excluded):
        if not name:
            folders.setdefault(folder, {})
            continue
        folders.setdefault(folder, {})[name] = value
        if value != DIR:
            sizes[os.path.join(folder, name)] = size
        n += 1
        if limit is not None and n > limit:
            raise TooManyEntries(n)
    return folders, sizes


class TreeModel:
    """The reported state of one watched root. Not thread-safe: callers hold a lock.

    A root with more than ``max_entries`` entries is not modelled (``complete`` is False): live
    events pass through undeduplicated, and a rescan reports files changed since the last sync
    as ``modify`` (deletions it cannot see), so memory stays bounded on a huge home folder.
    """

    def __init__(
        self,
        root: str,
        is_excluded: Callable[[str], bool],
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.root = root
        self.is_excluded = is_excluded
        self.max_entries = max_entries
        self.complete = True
        self.synced_ns = time.time_ns()
        # When the loaded snapshot was written (0: none, or one written before this was kept).
        self.saved_ns = 0
        self.folders: dict[str, dict[str, int]] = {root: {}}

    def build(self) -> int:
        """Take the initial picture of the disk; returns the number of entries."""
        self.synced_ns = time.time_ns()
        try:
            self.folders, _ = scan_tree(self.root, self.is_excluded, self.max_entries)
        except TooManyEntries:
            self.folders, self.complete = {}, False
        return self.entry_count()

    def entry_count(self) -> int:
        return sum(len(e) for e in self.folders.values())

    def contains(self, path: str) -> bool:
        if not self.complete:
            return False
        parent, name = os.path.split(path)
        entries = self.folders.get(parent)
        return entries is not None and name in entries

    def add(self, path: str, is_dir: bool, mtime_ns: int = 0) -> bool:
        """Record a new entry; False if it was already known (a duplicate report)."""
        if not self.complete:
            return True
        parent, name = os.path.split(path)
        entries = self.folders.setdefault(parent, {})
        known = name in entries
        entries[name] = DIR if is_dir else mtime_ns
        if is_dir:
            self.folders.setdefault(path, {})
        return not known

    def touch(self, path: str, mtime_ns: int) -> None:
        if not self.complete:
            return
        parent, name = os.path.split(path)
        entries = self.folders.setdefault(parent, {})
        if entries.get(name) != DIR:
            entries[name] = mtime_ns

    def remove(self, path: str) -> list[str]:
        """Forget an entry and everything under it; returns the forgotten paths (empty if unknown)."""
        if not self.complete:
            return [path]
        parent, name = os.path.split(path)
        entries = self.folders.get(parent)
        if entries is None or name not in entries:
            return []
        value = entries.pop(name)
        gone = [path]
        if value == DIR:
            gone += list(self._drop_subtree(path))
        return gone

    def move(self, src: str, dst: str) -> bool:
        """Rename an entry (and a folder's subtree); False if the source was unknown."""
        if not self.complete:
            return True
        parent, name = os.path.split(src)
        entries = self.folders.get(parent)
        if entries is None or name not in entries:
            return False
        value = entries.pop(name)
        dparent, dname = os.path.split(dst)
        self.folders.setdefault(dparent, {})[dname] = value
        if value == DIR:
            prefix = src + os.sep
            for folder in [f for f in self.folders if f == src or f.startswith(prefix)]:
                self.folders[dst + folder[len(src) :]] = self.folders.pop(folder)
        return True

    def _drop_subtree(self, path: str) -> Iterator[str]:
        prefix = path + os.sep
        for folder in [f for f in self.folders if f == path or f.startswith(prefix)]:
            for name in self.folders.pop(folder):
                yield os.path.join(folder, name)

    def rescan(self, under: str | None = None) -> list[Change]:
        """Diff the disk below ``under`` (default: the root) against the model and adopt the disk."""
        top = under or self.root
        if not self.complete:
            return self._recent_changes(top)
        new, sizes = scan_tree(top, self.is_excluded)
        prefix = top + os.sep
        old = {f: e for f, e in self.folders.items() if f == top or f.startswith(prefix)}
        changes: list[Change] = []
        for folder in sorted(new):  # parents before children
            entries = new[folder]
            before = old.get(folder, {})
            for name, value in entries.items():
                path = os.path.join(folder, name)
                prev = before.get(name)
                mtime = None if value == DIR else value
                if prev is None or (prev == DIR) != (value == DIR):
                    changes.append(Change("create", path, value == DIR, sizes.get(path), mtime))
                elif value != DIR and value != prev:
                    changes.append(Change("modify", path, False, sizes.get(path), mtime))
        for folder in sorted(old, reverse=True):  # children before parents
            entries = new.get(folder)
            if entries is None and folder != top:
                continue  # its parent's entry reports it (below)
            for name, value in old[folder].items():
                if entries is None or name not in entries:
                    path = os.path.join(folder, name)
                    if value == DIR:
                        for sub in sorted(self._known_under(old, path), reverse=True):
                            changes.append(Change("delete", sub, False))
                    changes.append(Change("delete", path, value == DIR))
        for folder in old:
            self.folders.pop(folder, None)
        self.folders.update(new)
        if top != self.root:  # keep the parent's entry for the rescanned folder
            parent, name = os.path.split(top)
            if os.path.isdir(top):
                self.folders.setdefault(parent, {})[name] = DIR
        return changes

    def _recent_changes(self, top: str) -> list[Change]:
        since, self.synced_ns = self.synced_ns - 2_000_000_000, time.time_ns()  # 2 s of slack
        return [
            Change("modify", os.path.join(folder, name), False, size)
            for folder, name, value, size in _walk(top, self.is_excluded)
            if name and value != DIR and value >= since
        ]

    @staticmethod
    def _known_under(old: dict[str, dict[str, int]], path: str) -> Iterator[str]:
        prefix = path + os.sep
        for folder, entries in old.items():
            if folder == path or folder.startswith(prefix):
                for name, value in entries.items():
                    if value != DIR:
                        yield os.path.join(folder, name)

    # -- persistence: what was reported survives a restart ---------------------------------------
    def save(self, path: Path, keep: Callable[[str], bool] | None = None) -> None:
        """Write the model to ``path`` (gzipped JSON, 0600, replaced atomically).

        ``keep(text)`` False leaves a name (or a folder and what is in it) out of the file: the
        privacy rules' test, so a name holding a secret never reaches the disk. Such an entry is
        reported again as created after a restart, and its deletion while stopped is not seen.
        """
        folders = self.folders if self.complete else {}
        if keep is not None and folders:
            folders = {
                f: {n: v for n, v in entries.items() if keep(n)}
                for f, entries in folders.items()
                if keep(f)
            }
        doc = {
            "version": 1,
            "root": self.root,
            "complete": self.complete,
            "synced_ns": self.synced_ns,
            "saved_ns": time.time_ns(),
            "folders": folders,
        }
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3) as f,
        ):
            f.write(json.dumps(doc, separators=(",", ":")).encode("utf-8", "surrogateescape"))
        os.replace(tmp, path)

    def load(self, path: Path) -> bool:
        """Adopt a model saved by :meth:`save` for this root; False if there is none usable."""
        try:
            with gzip.open(path, "rb") as f:
                doc = json.loads(f.read().decode("utf-8", "surrogateescape"))
        except (OSError, ValueError, EOFError):
            return False
        if not isinstance(doc, dict) or doc.get("root") != self.root or doc.get("version") != 1:
            return False
        folders = doc.get("folders")
        if not isinstance(folders, dict):
            return False
        synced, saved = doc.get("synced_ns"), doc.get("saved_ns")
        self.complete = bool(doc.get("complete"))
        self.synced_ns = synced if isinstance(synced, int) else 0
        self.saved_ns = saved if isinstance(saved, int) else 0
        self.folders = folders if self.complete else {}
        return True
