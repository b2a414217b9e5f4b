"""First-day benchmark: how soon a new user gets an analysis, and how soon new behaviour is noticed.

    .venv/bin/python bench/first_day.py [--hours 5] [--new-at 150] [--rates 1000,2500,6000]
    .venv/bin/python bench/first_day.py --history [--seeds 0-4]

Replays a realistic first day at real-life rates on an accelerated clock through the live path,
starting from an empty data folder with the default settings (64 MB budget):

    replay collector -> EventWriter (privacy filter, batched) -> SQLite
      every simulated minute: the trigger (a cycle starts by itself when it says ready)
      every ``incremental_every_s`` (30 simulated seconds by default): incremental detection

The day is the demo person's Monday (coding, writing, downloads, admin, noise) at several
rates; from ``--new-at`` minutes a new workflow starts: a real session of the cybersecurity
training games in /work/shared/data (its commands and gaps as recorded, gaps capped at 10
minutes), which the person never did before. Processing time counts as simulated time.

A cycle is started when the trigger says ready (its ``units`` check is the cycle's own, so a
cycle that would refuse is not started; a refusal is still listed below the table). Prints, per
rate: minutes to the first automatic analysis (and events by then), patterns named
within the first hour, and for the new workflow the minutes from its first event, and from the
moment it has enough events (``incremental_min_events``), to its "New pattern" notification,
the events ingested by then, and how much of the notified pattern is the new workflow.

``--history``: the other first day, a new user's imported bash history instead: the ~200-line,
seven-routine history of the first-start e2e test (each routine sat at twice, no timestamps),
imported with ``selflow import shell``'s importer and analysed once per seed (which random
commands each sitting holds). Prints every pattern with its name and the routines its lines
came from, and the lines left in none.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selflow_qt.analyze.cycle import run_cycle  # noqa: E402
from selflow_qt.analyze.dataset import load_events  # noqa: E402
from selflow_qt.analyze.incremental import run_incremental  # noqa: E402
from selflow_qt.analyze.trigger import evaluate_trigger  # noqa: E402
from selflow_qt.collect.base import RUNNING, STOPPED, Collector, Emit  # noqa: E402
from selflow_qt.core.event import Event  # noqa: E402
from selflow_qt.core.privacy import PrivacyFilter  # noqa: E402
from selflow_qt.demo.generator import generate_demo  # noqa: E402
from selflow_qt.store.context import StoreContext  # noqa: E402
from selflow_qt.store.models import Notification  # noqa: E402
from selflow_qt.store.writer import EventWriter  # noqa: E402

GAMES = Path("/work/shared/data/training-games-4.jsonl.gz")
HOME = "/home/demo"
TICK_S = 10.0
TRIGGER_EVERY_S = 60.0


class SimClock:
    """The accelerated clock: simulated seconds, advanced by the bench loop."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._changed = threading.Condition()

    def advance(self, seconds: float) -> None:
        with self._changed:
            self.now += seconds
            self._changed.notify_all()

    def wait_change(self, timeout: float) -> None:
        with self._changed:
            self._changed.wait(timeout)


class ReplayCollector(Collector):
    """A live collector whose "now" is the simulated clock: emits each event when it is due."""

    name = "replay"

    def __init__(self, events: list[Event], clock: SimClock) -> None:
        super().__init__()
        self.events, self.clock, self.emitted = events, clock, 0
        self.caught_up = threading.Event()

    def run(self, emit: Emit, stopping: threading.Event) -> None:
        self.set_status(RUNNING, "replaying")
        while not stopping.is_set() and self.emitted < len(self.events):
            now = self.clock.now
            while self.emitted < len(self.events) and self.events[self.emitted].ts <= now:
                emit(self.events[self.emitted])
                self.emitted += 1
            self.caught_up.set()
            self.clock.wait_change(0.05)
        self.caught_up.set()
        self.set_status(STOPPED, "done")


@dataclass
class DayResult:
    rate_per_h: float
    first_cycle_min: float | None = None
    events_at_cycle: int = 0
    cycle_s: float = 0.0
    named_in_hour: list[str] = field(default_factory=list)
    new_first_min: float = 0.0
    new_enough_min: float | None = None
    noticed_min: float | None = None
    events_at_notice: int = 0
    new_events_at_notice: int = 0
    noticed_name: str = ""
    purity: float = 0.0
    other_notices_after_cycle: int = 0
    incremental_s: list[float] = field(default_factory=list)
    failed_cycles: list[str] = field(default_factory=list)


def new_workflow(start: float, session: tuple[str, int]) -> list[Event]:
    """One real training-game session as a new workflow from ``start`` (gaps capped at 10 min)."""
    rows = []
    with gzip.open(GAMES, "rt", encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if (e["meta"]["game"], e["meta"]["session"]) == session:
                rows.append(e)
    rows.sort(key=lambda e: e["ts"])
    out, t, prev = [], start, None
    for e in rows:
        if prev is not None:
            t += min(float(e["ts"]) - prev, 600.0)
        prev = float(e["ts"])
        cwd = (e.get("cwd") or "").replace("/home/kali", HOME).replace("/home/vagrant", HOME)
        out.append(
            Event(
                ts=t,
                source="shell",
                action="command",
                cmd=e["cmd"],
                cwd=cwd or None,
                meta={"workflow": "new"},
            )
        )
    return out


def first_monday() -> float:
    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=today.weekday() + 7)).timestamp()


def simulate(events_per_day: int, hours: float, new_at_min: float, session) -> DayResult:
    base = list(generate_demo(1, seed=0, start=first_monday(), events_per_day=events_per_day))
    t0 = base[0].ts
    base = [e for e in base if e.ts < t0 + hours * 3600]
    new = new_workflow(t0 + new_at_min * 60, session)
    new = [e for e in new if e.ts < t0 + hours * 3600]
    stream = sorted(base + new, key=lambda e: e.ts)
    res = DayResult(rate_per_h=len(base) / hours, new_first_min=new_at_min)
    with tempfile.TemporaryDirectory() as d:
        ctx = StoreContext.open(d)
        ctx.settings.analysis_umap = "off"
        writer = EventWriter(ctx.db_path, PrivacyFilter.from_settings(ctx.settings, d)).start()
        clock = SimClock(t0 - 1)
        collector = ReplayCollector(stream, clock)
        stopping = threading.Event()
        thread = threading.Thread(target=collector.run, args=(writer.submit, stopping))
        thread.start()
        min_events = ctx.settings.incremental_min_events
        new_ts = [e.ts for e in new]
        if len(new_ts) >= min_events:
            res.new_enough_min = (new_ts[min_events - 1] - t0) / 60
        next_trigger = next_inc = t0
        extra_s = 0.0  # processing time, counted as simulated time
        try:
            while clock.now < t0 + hours * 3600:
                collector.caught_up.clear()
                clock.advance(TICK_S)
                if thread.is_alive():  # the collector emits what is due (it ends with the stream)
                    collector.caught_up.wait(10)
                now = clock.now + extra_s
                minute = (now - t0) / 60
                if clock.now >= next_trigger:
                    next_trigger += TRIGGER_EVERY_S
                    writer.flush()
                    report = evaluate_trigger(ctx)
                    if report.ready and res.first_cycle_min is None:
                        w = time.perf_counter()
                        try:
                            cycle = run_cycle(ctx, trigger="budget")
                        except ValueError as exc:  # e.g. too few sessions yet: retried later
                            res.failed_cycles.append(f"{minute:.0f} min: {exc}")
                            cycle = None
                        took = time.perf_counter() - w
                        extra_s += took
                        if cycle is not None:
                            res.cycle_s = took
                            res.first_cycle_min = minute + took / 60
                            res.events_at_cycle = cycle.n_events
                if clock.now >= next_inc:
                    next_inc += ctx.settings.incremental_every_s
                    writer.flush()
                    out = run_incremental(ctx, now=now)
                    res.incremental_s.append(out.runtime_s)
                    extra_s += out.runtime_s
                    done_min = minute + out.runtime_s / 60
                    truth = _truth(ctx, out.members)
                    for p in out.new_patterns:
                        share = truth.get(p.pattern_id, 0.0)
                        if done_min <= 60:
                            res.named_in_hour.append(p.name)
                        if share >= 0.5 and res.noticed_min is None:
                            res.noticed_min = done_min
                            res.noticed_name, res.purity = p.name, share
                            res.events_at_notice = collector.emitted
                            res.new_events_at_notice = sum(1 for t in new_ts if t <= clock.now)
                        elif share < 0.5 and res.first_cycle_min is not None:
                            res.other_notices_after_cycle += 1
        finally:
            stopping.set()
            clock.advance(0)
            thread.join(10)
            writer.close()
            notes = Notification.select().where(Notification.kind == "pattern").count()
            assert notes >= len(res.named_in_hour)
            ctx.close()
    return res


def _truth(ctx, members: dict[int, list[int]]) -> dict[int, float]:
    """Pattern id -> the share of its events that belong to the new workflow."""
    if not members:
        return {}
    t = load_events(ctx.db, last_n=5000)
    wf = dict(zip(t.ids.tolist(), t.workflow, strict=True))
    return {pid: sum(wf.get(i) == "new" for i in ids) / len(ids) for pid, ids in members.items()}


def history_patterns(seeds: range) -> None:
    """The seven-routine history's patterns per seed (see the module docstring)."""
    from collections import Counter

    from tests.unit.analyze.test_untimed import import_and_analyse
    from tests.unit.analyze.test_untimed_patterns import seven_routine_history

    print("| seed | pattern | lines | routines (lines) |\n|--:|---|--:|---|")
    for seed in seeds:
        cmds, truth = seven_routine_history(seed)
        with tempfile.TemporaryDirectory() as d:
            res = import_and_analyse(Path(d), cmds)
        names = {p.cluster_label: p.name for p in res.patterns}
        by: dict[str, Counter] = {}
        for label, routine in zip(res.consensus_labels.tolist(), truth, strict=True):
            by.setdefault(names.get(label, "(in no pattern)"), Counter())[routine] += 1
        for name, c in sorted(by.items(), key=lambda kv: (kv[0].startswith("("), kv[0])):
            parts = ", ".join(f"{r} {k}" for r, k in c.most_common())
            print(f"| {seed} | {name} | {sum(c.values())} | {parts} |")


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=5.0, help="simulated hours (default 5)")
    ap.add_argument("--new-at", type=float, default=150.0, help="minute the new workflow starts")
    ap.add_argument("--rates", default="1000,2500,6000", help="demo events a day, comma-separated")
    ap.add_argument("--session", default="secret-laboratory:10", help="game:session to replay")
    ap.add_argument("--history", action="store_true", help="the imported bash history instead")
    ap.add_argument("--seeds", default="0-4", help="--history: seeds FIRST-LAST")
    args = ap.parse_args()
    if args.history:
        first, _, last = args.seeds.partition("-")
        history_patterns(range(int(first), int(last or first) + 1))
        return 0
    game, sess = args.session.split(":")
    rows = []
    for rate in [int(r) for r in args.rates.split(",")]:
        w = time.perf_counter()
        r = simulate(rate, args.hours, args.new_at, (game, int(sess)))
        rows.append((r, time.perf_counter() - w))
    print(f"first day: {args.hours:g} simulated hours, new workflow ({args.session}) from minute "
          f"{args.new_at:g}, default settings (64 MB budget), accelerated clock")  # fmt: skip
    print()
    head = (
        "| base rate (events/h) | first auto analysis (min) | events then | cycle (s) "
        "| named in 1st hour | new wf: enough events at (min) | noticed at (min) "
        "| first event -> notice (min) | enough -> notice (min) | events ingested then (all / new wf) "
        "| notified as | purity | other new patterns after the cycle | incremental check (s, median / max) "
        "| wall (s) |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r, wall in rows:
        lat_first = None if r.noticed_min is None else r.noticed_min - r.new_first_min
        lat_enough = (
            None if r.noticed_min is None or r.new_enough_min is None
            else r.noticed_min - r.new_enough_min
        )  # fmt: skip
        inc = r.incremental_s or [0.0]
        print(
            f"| {r.rate_per_h:.0f} | {fmt(r.first_cycle_min)} | {r.events_at_cycle} "
            f"| {r.cycle_s:.1f} | {len(r.named_in_hour)}: {', '.join(r.named_in_hour) or '-'} "
            f"| {fmt(r.new_enough_min)} | {fmt(r.noticed_min)} | {fmt(lat_first)} "
            f"| {fmt(lat_enough)} | {r.events_at_notice} / {r.new_events_at_notice} "
            f"| {r.noticed_name or '-'} | {r.purity:.2f} | {r.other_notices_after_cycle} "
            f"| {statistics.median(inc):.2f} / {max(inc):.2f} | {wall:.0f} |"
        )
    for r, _ in rows:
        for f in r.failed_cycles:
            print(f"rate {r.rate_per_h:.0f}/h: an automatic analysis failed at {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
