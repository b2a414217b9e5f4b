"""The Data Insights reads (analyze.insights, analyze.insights_tips) and the cycle's write of
its cluster assignments. Plain rows in, plain rows out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from peewee import SqliteDatabase

_IN_CHUNK = 900  # ids per IN (...) list, under SQLite's variable limit


def resolved_predictions(db: SqliteDatabase, since: float) -> list[tuple[str, float, bool]]:
    """(model id, time, success) of every resolved prediction since ``since``, oldest first."""
    return db.execute_sql(
        "SELECT model_id, timestamp, success FROM user_interactions "
        "WHERE success IS NOT NULL AND model_id IS NOT NULL AND timestamp >= ? ORDER BY timestamp",
        (since,),
    ).fetchall()


def first_ts_of_run(db: SqliteDatabase, run_id: int) -> float | None:
    """The time of the earliest event an analysis run assigned."""
    return db.execute_sql(
        "SELECT min(ts) FROM events WHERE id IN (SELECT event_id FROM cluster_assignments "
        "WHERE run = ?)",
        (run_id,),
    ).fetchone()[0]


def times_of(db: SqliteDatabase, ids: Sequence[int], since: float) -> Iterator[tuple[int, float]]:
    """(id, ts) of the events among ``ids`` at or after ``since``."""
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = list(ids[i : i + _IN_CHUNK])
        q = ",".join("?" * len(chunk))
        sql = f"SELECT id, ts FROM events WHERE id IN ({q}) AND ts >= ?"
        yield from db.execute_sql(sql, (*chunk, since)).fetchall()


def activity_between(db: SqliteDatabase, since: float, until: float):
    """A cursor of (ts, source, action, path, app, cmd) of the events in [since, until)."""
    return db.execute_sql(
        "SELECT ts, source, action, path, app, cmd FROM events WHERE ts >= ? AND ts < ?",
        (since, until),
    )


def first_ts_before(db: SqliteDatabase, now: float) -> float | None:
    """The time of the first recorded event before ``now``."""
    return db.execute_sql("SELECT min(ts) FROM events WHERE ts < ?", (now,)).fetchone()[0]


def files_and_commands(db: SqliteDatabase, since: float, until: float) -> list[tuple]:
    """(ts, source, action, path, dest, cmd, cwd) of the fs and shell events in [since, until),
    in time order."""
    return db.execute_sql(
        "SELECT ts, source, action, path, dest, cmd, cwd FROM events "
        "WHERE ts >= ? AND ts < ? AND source IN ('fs', 'shell') ORDER BY ts",
        (since, until),
    ).fetchall()


def save_cluster_assignments(db: SqliteDatabase, rows: Iterable[tuple]) -> None:
    """Rows of (run, event id, consensus, confidence, x, y, labels JSON), in one transaction."""
    with db.atomic():
        db.connection().executemany(
            "INSERT INTO cluster_assignments (run, event_id, consensus, confidence, x, y, labels) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
