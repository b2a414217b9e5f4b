"""The aw-core half of bench/ingest.py; runs in bench/.venv-aw (aw-core pins platformdirs==3.10).

Prints one JSON line per method: {"method", "events", "seconds", "cpu"}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _events import make_events  # noqa: E402
from aw_core.models import Event  # noqa: E402
from aw_datastore.storages.peewee import PeeweeStorage  # noqa: E402


def aw_events(n: int) -> list[Event]:
    out = []
    for d in make_events(n):
        data = {k: v for k, v in d.items() if k not in ("ts", "duration", "tz_offset")}
        out.append(
            Event(
                timestamp=datetime.fromtimestamp(d["ts"], tz=timezone.utc),
                duration=timedelta(seconds=d.get("duration") or 0.0),
                data=data,
            )
        )
    return out


def run(events: list[Event], atomic: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        storage = PeeweeStorage(filepath=os.path.join(tmp, "aw.db"))
        storage.create_bucket(
            "bench", "test", "bench", "host", datetime.now(timezone.utc).isoformat()
        )
        t0, c0 = time.perf_counter(), time.process_time()
        if atomic:
            with storage.db.atomic():
                storage.insert_many("bench", events)
        else:
            storage.insert_many("bench", events)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        count = storage.db.execute_sql("SELECT count(*) FROM eventmodel").fetchone()[0]
        assert count == len(events), count
        storage.db.close()
        return seconds, cpu


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    events = aw_events(n)
    for atomic in (False, True):
        label = "aw-core PeeweeStorage.insert_many" + (" in one transaction" if atomic else "")
        seconds, cpu = run(events, atomic)
        row = {"method": label, "events": n, "seconds": seconds, "cpu": cpu}
        print(json.dumps(row), flush=True)
