"""The file collector's memory across restarts: each root's model saved in the data folder, and
the catch-up that reports what changed while SelFlow was not running, less what the database
already holds.

A snapshot is saved only once every event it reflects is committed, and the catch-up leaves out
changes recorded live after the last save, so a SIGKILL loses nothing acknowledged and reports
nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from selflow_qt.collect.fs_tree import Change, TreeModel
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.db import connect
from selflow_qt.store.queries.fs import RecordedChange, newest_fs_changes

log = logging.getLogger(__name__)

# Events this much older than a snapshot's save are taken into account by the catch-up (clock
# noise; an older event is already in the snapshot, and weighing it again changes nothing).
SNAPSHOT_SLACK_S = 5.0
# How long a snapshot save waits for the queued events to be committed before it gives up.
COMMIT_WAIT_S = 5.0


class Snapshots:
    """Where the roots' models are saved (``folder``), and the catch-up against the database."""

    def __init__(
        self,
        folder: Path,
        privacy: PrivacyFilter,
        db_path: Path | None = None,
        wait_committed: Callable[[float], bool] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.privacy = privacy
        self.db_path = Path(db_path) if db_path is not None else None
        self.wait_committed = wait_committed
        self.already_recorded = 0  # catch-up changes left out: the database held them

    def path(self, root: str) -> Path:
        key = hashlib.sha256(os.fsencode(root)).hexdigest()[:20]
        return self.folder / f"{key}.json.gz"

    def committed(self) -> bool:
        """Whether every queued event is committed (waits up to COMMIT_WAIT_S for it)."""
        return self.wait_committed is None or self.wait_committed(COMMIT_WAIT_S)

    def save(self, models: dict[str, TreeModel]) -> bool:
        """Write every root's model; False when one could not be written (the next save tries
        again). Names holding a secret are left out."""
        saved = True
        for root, model in models.items():
            try:
                model.save(self.path(root), keep=self._storable)
            except OSError as exc:  # a full disk
                saved = False
                log.warning("could not save the file snapshot of %s: %s", root, exc)
        return saved

    def _storable(self, text: str) -> bool:
        """Whether a name may be written to the snapshot as it is (no secret in it)."""
        return not self.privacy.needs_redaction(text) or self.privacy.redact(text) == text

    def not_yet_recorded(self, changes: list[Change], saved_ns: int, until: float) -> list[Change]:
        """The catch-up's changes less those the database already holds.

        A change recorded live after the snapshot was saved (the process was then killed before
        its next save) is in the database: its newest event leaves the path in the state found
        on disk, and for a file no later than its modification time. Without a database, or if
        it cannot be read, every change is reported (twice rather than never).
        """
        if self.db_path is None or not changes:
            return changes
        since = saved_ns / 1e9 - SNAPSHOT_SLACK_S if saved_ns else 0.0
        try:
            db = connect(self.db_path)
            try:
                recorded = newest_fs_changes(db, [c.path for c in changes], since, until)
            finally:
                db.close()
        except Exception as exc:  # a locked or damaged database: report everything
            log.warning("could not check the catch-up against the database: %s", exc)
            return changes
        out: list[Change] = []
        for c in changes:
            known = recorded.get(c.path)
            if _already(c, known):
                continue
            if c.action == "create" and known is not None and known.exists and not c.is_dir:
                c.action = "modify"  # recorded as there; written again since
            out.append(c)
        self.already_recorded += len(changes) - len(out)
        return out


def _already(change: Change, recorded: RecordedChange | None) -> bool:
    """Whether ``recorded`` (the path's newest committed event) already says what ``change`` says."""
    if recorded is None:
        return False
    if change.action == "delete":
        return not recorded.exists
    if not recorded.exists:
        return False
    if change.is_dir or change.mtime_ns is None:
        return True  # a folder's own time moves with its entries; being there is what counts
    # A file written after its last recorded event changed while SelFlow was down (1 µs of
    # float rounding; the kernel's file time never runs ahead of the clock the event read).
    return change.mtime_ns <= round(recorded.ts * 1e9) + 1_000
