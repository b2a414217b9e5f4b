"""The one cancel convention: a long job takes ``should_stop() -> bool`` and, when it returns
True at a checkpoint, raises ``Cancelled``. A worker reports that as cancelled, never as failed."""

from __future__ import annotations


class Cancelled(Exception):
    """The caller asked the job to stop; nothing went wrong."""
