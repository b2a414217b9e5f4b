"""`selflow demo`: a simulated week of one person's work, with each event's true workflow in meta.

Sessions of five workflows (coding, writing, downloads, design, admin) follow daily rhythms
(work hours, a lunch break, quieter evenings and weekends); about 7% of events are noise.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from selflow_qt.core.event import Event, local_tz_offset
from selflow_qt.demo.workflows import WORKFLOWS, Session, Workflow, noise_step

DEFAULT_EVENTS_PER_DAY = 2_500
NOISE_RATE = 0.06  # stray actions inside sessions; noise stretches between sessions add ~2%
# (start hour, end hour, intensity) of active periods
WEEKDAY_SPANS = ((8.5, 12.25, 1.0), (13.25, 18.5, 1.0), (20.0, 22.0, 0.5))
WEEKEND_SPANS = ((10.0, 12.5, 0.7), (14.5, 18.5, 0.8), (20.0, 21.5, 0.4))
WEEKDAY_LOAD, WEEKEND_LOAD = 1.2, 0.5


def _day_targets(days: int, start: float, per_day: int) -> list[int]:
    """Events per day: weekdays busier than weekends, summing to ``days * per_day``."""
    loads = [
        WEEKEND_LOAD
        if datetime.fromtimestamp(start + 86_400 * d + 43_200).weekday() >= 5
        else WEEKDAY_LOAD
        for d in range(days)
    ]
    total = days * per_day
    raw = [total * w / sum(loads) for w in loads]
    out = [int(r) for r in raw]
    out[-1] += total - sum(out)
    return out


class _Clock:
    """Maps a day's progress (0..1) onto its active spans, weighted by intensity."""

    def __init__(self, spans: tuple[tuple[float, float, float], ...]) -> None:
        self.spans = spans
        caps = [(hi - lo) * w for lo, hi, w in spans]
        self.total = sum(caps)
        self.cum = [sum(caps[:i]) for i in range(len(caps) + 1)]

    def hour(self, frac: float) -> float:
        x = min(max(frac, 0.0), 1.0) * self.total
        for i, (lo, hi, w) in enumerate(self.spans):
            if x <= self.cum[i + 1] or i == len(self.spans) - 1:
                return lo + min((x - self.cum[i]) / w, hi - lo)
        return self.spans[-1][1]


def _pick(rng: random.Random, options: list[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in options)
    for name, w in options:
        r -= w
        if r <= 0:
            return name
    return options[-1][0]


def _session_steps(
    rng: random.Random, wf: Workflow, home: str, n_actions: int
) -> Iterator[tuple[str, list]]:
    """(label, steps) for one session: the workflow's chain, with stray noise mixed in."""
    s = Session(home=home, workflow=wf.name)
    state = _pick(rng, wf.chain["start"])
    for _ in range(n_actions):
        if rng.random() < NOISE_RATE:
            yield "noise", [noise_step(rng, home)]
        yield wf.name, wf.emit[state](rng, s)
        state = _pick(rng, wf.chain[state])


def _generate_day(
    rng: random.Random, day_start: float, target: int, home: str, weekend: bool, per_day: int
) -> list[Event]:
    clock = _Clock(WEEKEND_SPANS if weekend else WEEKDAY_SPANS)
    scale = math.sqrt(max(per_day, 100) / DEFAULT_EVENTS_PER_DAY)
    items: list[tuple[float, str, tuple]] = []  # (virtual time, label, step)
    v = 0.0
    prev_wf = ""
    while len(items) < target:
        hour = int(clock.hour(len(items) / max(target, 1)))
        weights = [
            ((wf.weekend if weekend else wf.weekday)[hour] * (0.4 if wf.name == prev_wf else 1.0))
            for wf in WORKFLOWS
        ]
        wf = WORKFLOWS[_choose(rng, weights)]
        prev_wf = wf.name
        v += 6.0 + rng.expovariate(1 / 30.0)  # a break between sessions
        for _ in range(rng.choice((0, 0, 1, 2, 3))):  # idle wandering between sessions
            v += rng.expovariate(1 / 3.0)
            items.append((v, "noise", noise_step(rng, home)))
        n_actions = max(4, int(rng.lognormvariate(math.log(wf.session_len * scale), 0.5)))
        for label, steps in _session_steps(rng, wf, home, n_actions):
            v += rng.expovariate(1.0) if rng.random() < 0.92 else rng.expovariate(1 / 4.0)
            for j, step in enumerate(steps):
                if j:
                    v += rng.expovariate(1 / 0.15)  # a burst: saves, a download finishing
                items.append((v, label, step))
    items = items[:target]
    span_v = items[-1][0] if items else 1.0
    tz = local_tz_offset(day_start + 43_200)
    events = []
    for vt, label, (source, action, fields) in items:
        ts = day_start + 3_600.0 * clock.hour(vt / span_v)
        events.append(
            Event(
                ts=round(ts, 3),
                source=source,
                action=action,
                tz_offset=tz,
                meta={"workflow": label, "demo": True},
                **fields,
            )
        )
    events.sort(key=lambda e: e.ts)  # stable: ties keep their emitted order
    return events


def _choose(rng: random.Random, weights: list[float]) -> int:
    r = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        r -= w
        if r <= 0:
            return i
    return len(weights) - 1


def _default_start(days: int, now: float | None = None) -> float:
    """Local midnight ``days - 1`` days before today (``now``'s day): the last day is today."""
    today = datetime.fromtimestamp(time.time() if now is None else now)
    today = today.replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=days - 1)).timestamp()


def recent_demo(days: int, seed: int = 0, *, now: float | None = None, **kw) -> Iterator[Event]:
    """The demo of the ``days`` x 24 h that end ``now``: at 1 a.m. a one-day demo is
    yesterday's work (it was nothing before: today's work had not happened yet), at 3 p.m.
    yesterday evening's and today's; nothing lies in the future."""
    now = time.time() if now is None else float(now)
    since = now - days * 86_400.0
    for ev in generate_demo(days + 1, seed, start=_default_start(days + 1, now), **kw):
        if ev.ts > now:
            break
        if ev.ts > since:
            yield ev


def generate_demo(
    days: int = 7,
    seed: int = 0,
    *,
    start: float | None = None,
    home: str = "/home/demo",
    events_per_day: int | None = None,
) -> Iterator[Event]:
    """Deterministic for a seed (and start): events in time order, ``meta["workflow"]`` true."""
    if days < 1:
        raise ValueError("days must be at least 1")
    per_day = int(events_per_day or DEFAULT_EVENTS_PER_DAY)
    if per_day < 1:
        raise ValueError("events_per_day must be at least 1")
    t0 = _default_start(days) if start is None else float(start)
    rng = random.Random(seed)
    targets = _day_targets(days, t0, per_day)
    for d, target in enumerate(targets):
        day_start = (datetime.fromtimestamp(t0) + timedelta(days=d)).timestamp()
        weekend = datetime.fromtimestamp(day_start + 43_200).weekday() >= 5
        yield from _generate_day(rng, day_start, target, home, weekend, per_day)


def write_demo(
    ctx,
    days: int = 7,
    seed: int = 0,
    *,
    start: float | None = None,
    home: str = "/home/demo",
    events_per_day: int | None = None,
) -> int:
    """Write the demo through the privacy filter in one transaction; returns events written.

    Without ``start`` the demo is the ``days`` x 24 h that end now (``recent_demo``).
    """
    from selflow_qt.core.privacy import PrivacyFilter
    from selflow_qt.store.writer import insert_events

    privacy = PrivacyFilter.from_settings(ctx.settings)
    kw = {"home": home, "events_per_day": events_per_day}
    events = (
        recent_demo(days, seed, **kw)
        if start is None
        else generate_demo(days, seed, start=start, **kw)
    )
    kept = []
    for ev in events:
        out = privacy.apply(ev)
        if out is not None:
            kept.append(out)
    with ctx.db.atomic():
        n, _ = insert_events(ctx.db, kept)
    return n
