"""The user's local day as a range on the events' own local clock (``ts + tz_offset``).

"Today" is live activity: imported history (events whose meta names ``IMPORTED_KEY``, such as
a shell history read by ``selflow import shell``, whose untimed lines get invented times just
before the file's mtime) is never counted as today's, whatever its times say.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from selflow_qt.core.event import local_tz_offset

DAY = 86_400
_MARGIN = DAY  # tz_offset is within a day, so a 1-day margin around the local day is enough
IMPORTED_KEY = "imported_from"  # meta key of an imported event: the file it came from


@dataclass(frozen=True)
class LocalDay:
    """The local day as a half-open range on the events' own local clock (ts + tz_offset)."""

    start: int  # local midnight, in "shifted" seconds since the epoch
    date: str  # YYYY-MM-DD

    @property
    def end(self) -> int:
        return self.start + DAY

    def sql(self, alias: str = "") -> tuple[str, tuple]:
        """A WHERE fragment selecting this day's live events (index prefilter, then exact test;
        imported history left out)."""
        p = f"{alias}." if alias else ""
        clause = (
            f"{p}ts >= ? AND {p}ts < ? AND ({p}ts + {p}tz_offset * 60) >= ? "
            f"AND ({p}ts + {p}tz_offset * 60) < ? AND instr({p}meta, '\"{IMPORTED_KEY}\"') = 0"
        )
        return clause, (self.start - _MARGIN, self.end + _MARGIN, self.start, self.end)


def local_day(now: float | None = None, tz_offset_min: int | None = None) -> LocalDay:
    """Today's local day at Unix time ``now`` with the machine's (or the given) UTC offset."""
    t = time.time() if now is None else now
    off = local_tz_offset(t) if tz_offset_min is None else tz_offset_min
    d = datetime.fromtimestamp(t + off * 60, tz=timezone.utc).date()
    start = calendar.timegm(d.timetuple())
    return LocalDay(start=start, date=d.isoformat())
