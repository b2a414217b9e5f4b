"""What the event writer reports about itself, as plain data: its counts and its health."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WriterStats:
    written: int = 0
    dropped: int = 0
    coalesced: int = 0
    filtered: int = 0
    batches: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class WriterHealth:
    """The writer's state as plain data, for `selflow status`, the tray and exit codes.

    ``state`` is running, error (the last batch failed; it keeps retrying), stopped or dead (the
    thread ended: nothing more is saved). ``problem`` is the last failure's user-facing text.
    """

    state: str
    problem: str = ""
    disk_full: bool = False
    last_problem: str = ""  # kept after the database recovers, for the end-of-run report
    written: int = 0
    dropped: int = 0
    queued: int = 0

    @property
    def ok(self) -> bool:
        return self.state in ("running", "stopped") and not self.dropped
