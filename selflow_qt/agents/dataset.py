"""Training examples for a micro-agent: (compact recent context, the next action), split by time."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.agents.actions import keyed, render_prompt, render_target
from selflow_qt.core.event import Event

CONTEXT_LINES = 4
MAX_EXAMPLES = 20_000  # the newest ones; a cap on memory and time, not a sample
RECENT_EVENTS = 50_000


@dataclass
class Example:
    """One supervised pair; ``ts`` is the time of the action to predict."""

    prompt: str
    target: str  # the action key
    ts: float

    @property
    def target_text(self) -> str:
        return render_target(self.target)


@dataclass
class DatasetSplit:
    train: list[Example]
    val: list[Example]
    data_hash: str
    n_events: int

    def save(self, path: Path) -> None:
        payload = {
            "train": [asdict(e) for e in self.train],
            "val": [asdict(e) for e in self.val],
            "data_hash": self.data_hash,
            "n_events": self.n_events,
        }
        path.write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DatasetSplit:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                train=[Example(**e) for e in raw["train"]],
                val=[Example(**e) for e in raw["val"]],
                data_hash=raw["data_hash"],
                n_events=int(raw["n_events"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a training dataset: {exc}") from None


def build_examples(events: list[Event], context_lines: int = CONTEXT_LINES) -> list[Example]:
    """Every predictable event with the actions before it, in time order.

    Repeats stay: how often a context led to an action is what the model must learn.
    """
    stream = keyed(sorted(events, key=lambda e: e.ts))
    out: list[Example] = []
    for i in range(1, len(stream)):
        prompt = render_prompt(stream[max(0, i - context_lines) : i], context_lines)
        out.append(Example(prompt=prompt, target=stream[i][1], ts=stream[i][0].ts))
    return out


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(e.prompt.encode())
        h.update(b"\x00")
        h.update(e.target.encode())
        h.update(b"\x01")
    return h.hexdigest()


def split_by_time(
    examples: list[Example], val_fraction: float = 0.1, max_examples: int = MAX_EXAMPLES
) -> DatasetSplit:
    """The latest ``max_examples``; the last ``val_fraction`` of them (by time) for validation."""
    ex = sorted(examples, key=lambda e: e.ts)[-max_examples:]
    n_val = max(1, int(round(len(ex) * val_fraction))) if len(ex) >= 10 else 0
    train, val = ex[: len(ex) - n_val], ex[len(ex) - n_val :]
    return DatasetSplit(train=train, val=val, data_hash=data_hash(train), n_events=len(examples))


def load_events(
    db: SqliteDatabase,
    *,
    event_ids: list[int] | None = None,
    workflow: str | None = None,
    limit: int = RECENT_EVENTS,
    until: float | None = None,
) -> list[Event]:
    """Events from the store, oldest first: given ids, one workflow (meta), or the latest ``limit``."""
    cols = "ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta"
    rows: list[tuple] = []
    if event_ids is not None:
        ids = sorted(set(event_ids))[-limit:]
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            marks = ",".join("?" * len(chunk))
            rows += db.execute_sql(
                f"SELECT {cols} FROM events WHERE id IN ({marks})", chunk
            ).fetchall()
    else:
        where, params = ["source != 'system'"], []
        if workflow:
            where.append("json_extract(meta, '$.workflow') = ?")
            params.append(workflow)
        if until is not None:
            where.append("ts < ?")
            params.append(until)
        sql = f"SELECT {cols} FROM events WHERE {' AND '.join(where)} ORDER BY ts DESC, id DESC LIMIT ?"
        rows = db.execute_sql(sql, [*params, limit]).fetchall()
    events = [row_to_event(r) for r in rows]
    events.sort(key=lambda e: e.ts)
    return events


def row_to_event(r: tuple) -> Event:
    try:
        meta = json.loads(r[10]) if r[10] else {}
    except ValueError:
        meta = {}
    return Event(
        ts=r[0],
        tz_offset=r[1] or 0,
        source=r[2],
        action=r[3],
        path=r[4],
        dest=r[5],
        app=r[6],
        cmd=r[7],
        cwd=r[8],
        duration=r[9],
        meta=meta if isinstance(meta, dict) else {},
    )
