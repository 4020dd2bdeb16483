"""The period budget and token limits count over: a calendar day, week or month in an IANA time
zone starting at an anchor, or a rolling duration ending now. Pure: `bounds(period, now)` gives
the instants [start, end) usage is counted in, so it is tested with chosen instants.

Anchors (0 is always the default):
- DAY: the local hour 0-23 the day starts at (0: midnight);
- WEEK: the ISO weekday 1-7 (Monday-Sunday) it starts on, at local midnight (0: Monday);
- MONTH: the day of month 1-28 it starts on, at local midnight (0: the 1st);
- ROLLING: none (must be 0); `rolling_window` is the duration, 1 minute to 92 days.

Local times that a DST change skips or repeats resolve as zoneinfo does with fold=0: a skipped
start hour is read with the offset before the change, a repeated one is its first occurrence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engines.kernel.errors import FieldViolation

__all__ = [
    "MAX_ROLLING_WINDOW",
    "MIN_ROLLING_WINDOW",
    "UTC_MONTH",
    "LimitPeriod",
    "PeriodKind",
    "bounds",
    "period_violations",
]

MIN_ROLLING_WINDOW = timedelta(minutes=1)
MAX_ROLLING_WINDOW = timedelta(days=92)
_UTC = timezone.utc


class PeriodKind(enum.StrEnum):
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    ROLLING = "rolling"


_ANCHORS = {PeriodKind.MONTH: 28, PeriodKind.WEEK: 7, PeriodKind.DAY: 23, PeriodKind.ROLLING: 0}


@dataclass(frozen=True, slots=True)
class LimitPeriod:
    """How budget and token limits are counted; the default is the UTC calendar month."""

    kind: PeriodKind = PeriodKind.MONTH
    time_zone: str = "UTC"
    anchor: int = 0
    rolling_window: timedelta = timedelta(0)


UTC_MONTH = LimitPeriod()


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def period_violations(period: LimitPeriod, prefix: str) -> list[FieldViolation]:
    """What is wrong with `period`, each violation naming `prefix` + the field."""
    violations = []
    if not period.time_zone or _zone(period.time_zone) is None:
        violations.append(FieldViolation(
            f"{prefix}period_time_zone", f"unknown IANA time zone {period.time_zone!r}"
        ))
    highest = _ANCHORS[period.kind]
    if not 0 <= period.anchor <= highest:
        violations.append(FieldViolation(
            f"{prefix}period_anchor",
            f"must be 0-{highest} for a {period.kind.value} period" if highest
            else "must be 0 for a rolling period",
        ))
    if period.kind is PeriodKind.ROLLING:
        if not MIN_ROLLING_WINDOW <= period.rolling_window <= MAX_ROLLING_WINDOW:
            violations.append(FieldViolation(
                f"{prefix}rolling_window", "must be between 1 minute and 92 days"
            ))
    elif period.rolling_window:
        violations.append(FieldViolation(
            f"{prefix}rolling_window", "is only for a ROLLING period"
        ))
    return violations


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), zone).astimezone(_UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def bounds(period: LimitPeriod, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period containing `now` (UTC instants); a rolling window ends now."""
    if period.kind is PeriodKind.ROLLING:
        return now - period.rolling_window, now
    zone = ZoneInfo(period.time_zone)
    today = now.astimezone(zone).date()
    if period.kind is PeriodKind.DAY:
        start_day = today if _at(today, period.anchor, zone) <= now else today - timedelta(1)
        return _at(start_day, period.anchor, zone), _at(start_day + timedelta(1), period.anchor, zone)
    if period.kind is PeriodKind.WEEK:
        weekday = (period.anchor or 1) - 1
        start_day = today - timedelta((today.weekday() - weekday) % 7)
        return _at(start_day, 0, zone), _at(start_day + timedelta(7), 0, zone)
    first = period.anchor or 1
    start_day = today.replace(day=first)
    if today.day < first:
        start_day = _add_months(start_day, -1)
    return _at(start_day, 0, zone), _at(_add_months(start_day, 1), 0, zone)
