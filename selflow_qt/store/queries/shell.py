"""Which shell-hook commands the database already holds: a restart re-reads the spool from its
last saved offset (saved only once the events before it were committed), and what it finds again
is left out. Plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import SqliteDatabase

_IN_CHUNK = 900


def stored_hook_commands(
    db: SqliteDatabase, wanted: Iterable[tuple[float, str]]
) -> set[tuple[float, str]]:
    """The (ts, session) pairs of ``wanted`` stored as shell events of that hook session.

    A session's commands never share a start time, and the time is matched exactly (the stored
    REAL is the very float the record gave), so a secret redacted out of the command line does
    not hide a match.
    """
    want = set(wanted)
    times = sorted({ts for ts, _ in want})
    found: set[tuple[float, str]] = set()
    for i in range(0, len(times), _IN_CHUNK):
        chunk = times[i : i + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute_sql(
            "SELECT ts, CASE WHEN json_valid(meta) THEN json_extract(meta, '$.session') END"
            " FROM events"
            f" WHERE source = 'shell' AND ts IN ({marks})",
            tuple(chunk),
        ).fetchall()
        found.update((ts, s) for ts, s in rows if (ts, s) in want)
    return found
