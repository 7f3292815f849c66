"""Crontab lines as APScheduler 3 triggers (London time), and how far back a tick looks."""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

TIMEZONE = ZoneInfo("Europe/London")
# A tick skips when any sync started this recently (covers clock skew between hosts and a
# sync so quick that it ended before the other scheduler reached the lock).
MAX_DEDUPE_SECONDS = 60.0

_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"^(?P<first>\*|\w+)(?:-(?P<last>\w+))?(?:/(?P<step>\d+))?$")


def _crontab_day(token: str) -> int:
    lowered = token.lower()
    if lowered in _CRONTAB_WEEKDAYS:
        return _CRONTAB_WEEKDAYS.index(lowered)
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7  # 0 and 7 are both Sunday
    raise ValueError(f"invalid day of week {token!r} in sync_cron")


def _weekdays(field: str) -> str:
    """Crontab day-of-week (0 or 7 = Sunday) as APScheduler 3 names (its 0 is Monday)."""
    if field in {"*", "?"}:
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        match = _WEEKDAY_PART.match(part)
        if not match:
            raise ValueError(f"invalid day of week {part!r} in sync_cron")
        first, last, step = match["first"], match["last"], int(match["step"] or 1)
        start = 0 if first == "*" else _crontab_day(first)
        end = 6 if first == "*" or (match["step"] and not last) else start
        if last:
            end = _crontab_day(last) or 7  # "5-7", "fri-sun": Sunday ends the week
        if end < start or step < 1:
            raise ValueError(f"invalid day-of-week range {part!r} in sync_cron")
        days.update(day % 7 for day in range(start, end + 1, step))
    if len(days) == len(_CRONTAB_WEEKDAYS):
        return "*"
    return ",".join(_CRONTAB_WEEKDAYS[day] for day in sorted(days, key=lambda d: (d - 1) % 7))


def cron_trigger(expression: str) -> CronTrigger:
    """A trigger from a crontab line (5 fields, or 6 with seconds first), London time."""
    fields = expression.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise ValueError(
            f"sync_cron needs 5 fields (minute hour day month weekday) or 6 (seconds first), "
            f"got {expression!r}"
        )
    second, minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=TIMEZONE,
    )


def dedupe_window(trigger: CronTrigger, now: dt.datetime) -> float:
    """Seconds a tick looks back for a sync already started: under half the shortest gap."""
    fire_times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    moment = now
    for _ in range(8):
        previous = trigger.get_next_fire_time(previous, moment)
        if previous is None:
            break
        fire_times.append(previous)
        moment = previous + dt.timedelta(seconds=1)
    gaps = [(b - a).total_seconds() for a, b in pairwise(fire_times)]
    return min([MAX_DEDUPE_SECONDS, *(gap / 2 for gap in gaps)])
