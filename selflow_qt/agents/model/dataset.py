"""Training examples for a micro-agent: (compact recent context, the next exact line), split by
time. The target is the whole redacted line (``actions.full_key``, arguments kept), so the
adapter learns to write lines a user can run, not their generalised keys."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.agents.ranking.actions import full_key, keyed, render_prompt, render_target
from selflow_qt.core.event import Event
from selflow_qt.store.queries.events import events_by_ids, latest_events

CONTEXT_LINES = 4
MAX_EXAMPLES = 20_000  # the newest ones; a cap on memory and time, not a sample
RECENT_EVENTS = 50_000


@dataclass
class Example:
    """One supervised pair; ``ts`` is the time of the action to predict."""

    prompt: str
    target: str  # the exact next line (``full_key``; the action key where there is none)
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
    return examples_of(stream, 1, len(stream), context_lines)


def examples_of(stream, lo: int, hi: int, context_lines: int = CONTEXT_LINES) -> list[Example]:
    """The examples of the positions ``lo..hi-1`` of a keyed stream (each with what came before)."""
    out: list[Example] = []
    for i in range(max(1, lo), min(hi, len(stream))):
        ev, key = stream[i]
        prompt = render_prompt(stream[max(0, i - context_lines) : i], context_lines)
        out.append(Example(prompt=prompt, target=full_key(ev) or key, ts=ev.ts))
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
    if event_ids is not None:
        return events_by_ids(db, sorted(set(event_ids))[-limit:])
    return latest_events(db, limit, workflow=workflow, until=until)
