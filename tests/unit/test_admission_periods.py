"""Period arithmetic at chosen instants: boundaries, time zones, DST change days, rolling."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engines.admission.periods import LimitPeriod, PeriodKind, bounds, period_violations

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        pytest.param(LimitPeriod(), utc(2026, 3, 14, 15), utc(2026, 3, 1), utc(2026, 4, 1),
                     id="utc-month"),
        pytest.param(LimitPeriod(), utc(2026, 12, 31, 23, 59, 59, 999999), utc(2026, 12, 1),
                     utc(2027, 1, 1), id="utc-month-last-instant"),
        pytest.param(LimitPeriod(), utc(2027, 1, 1), utc(2027, 1, 1), utc(2027, 2, 1),
                     id="utc-month-first-instant"),
        pytest.param(LimitPeriod(PeriodKind.MONTH, "UTC", 15), utc(2026, 1, 10),
                     utc(2025, 12, 15), utc(2026, 1, 15), id="month-anchor-15-before"),
        pytest.param(LimitPeriod(PeriodKind.MONTH, "UTC", 15), utc(2026, 1, 15),
                     utc(2026, 1, 15), utc(2026, 2, 15), id="month-anchor-15-on"),
        pytest.param(LimitPeriod(PeriodKind.MONTH, "America/New_York"), utc(2026, 3, 1, 3),
                     local(NY, 2026, 2, 1), local(NY, 2026, 3, 1), id="ny-month-utc-ahead"),
        pytest.param(LimitPeriod(PeriodKind.MONTH, "America/New_York"), utc(2026, 3, 1, 5),
                     utc(2026, 3, 1, 5), utc(2026, 4, 1, 4), id="ny-month-over-dst"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "America/New_York"), utc(2026, 3, 8, 12),
                     utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), id="ny-spring-forward-23h"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "America/New_York"), utc(2026, 11, 1, 12),
                     utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), id="ny-fall-back-25h"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "America/New_York"), utc(2026, 11, 2, 4, 59),
                     utc(2026, 11, 1, 4), utc(2026, 11, 2, 5), id="ny-fall-back-last-instant"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "Europe/Berlin"), utc(2026, 3, 29, 0, 30),
                     utc(2026, 3, 28, 23), utc(2026, 3, 29, 22), id="berlin-spring-forward"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "Europe/Berlin"), utc(2026, 10, 25, 23, 30),
                     utc(2026, 10, 25, 23), utc(2026, 10, 26, 23), id="berlin-after-fall-back"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "Europe/Berlin", 6), utc(2026, 7, 1, 3),
                     local(BERLIN, 2026, 6, 30, 6), local(BERLIN, 2026, 7, 1, 6),
                     id="day-anchor-hour-before"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "Europe/Berlin", 6), utc(2026, 7, 1, 4),
                     local(BERLIN, 2026, 7, 1, 6), local(BERLIN, 2026, 7, 2, 6),
                     id="day-anchor-hour-on"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "America/New_York", 2), utc(2026, 3, 8, 12),
                     utc(2026, 3, 8, 7), utc(2026, 3, 9, 6), id="day-anchor-in-skipped-hour"),
        pytest.param(LimitPeriod(PeriodKind.DAY, "Asia/Kathmandu"), utc(2026, 5, 5, 18, 14),
                     utc(2026, 5, 4, 18, 15), utc(2026, 5, 5, 18, 15), id="kathmandu-5h45"),
        pytest.param(LimitPeriod(PeriodKind.WEEK, "UTC"), utc(2026, 3, 14, 15),  # a Saturday
                     utc(2026, 3, 9), utc(2026, 3, 16), id="week-monday"),
        pytest.param(LimitPeriod(PeriodKind.WEEK, "UTC", 7), utc(2026, 3, 14, 15),
                     utc(2026, 3, 8), utc(2026, 3, 15), id="week-sunday"),
        pytest.param(LimitPeriod(PeriodKind.WEEK, "America/New_York", 1), utc(2026, 3, 9, 3),
                     local(NY, 2026, 3, 2), local(NY, 2026, 3, 9), id="ny-week-over-dst"),
        pytest.param(LimitPeriod(PeriodKind.WEEK, "Europe/Berlin", 6), utc(2026, 10, 25, 12),
                     utc(2026, 10, 23, 22), utc(2026, 10, 30, 23), id="berlin-week-169h"),
        pytest.param(LimitPeriod(PeriodKind.ROLLING, rolling_window=timedelta(days=7)),
                     utc(2026, 3, 14, 15, 9, 26), utc(2026, 3, 7, 15, 9, 26),
                     utc(2026, 3, 14, 15, 9, 26), id="rolling-7-days"),
    ],
)
def test_bounds(period: LimitPeriod, now: datetime, start: datetime, end: datetime) -> None:
    assert bounds(period, now) == (start, end)
    assert start <= now < end or period.kind is PeriodKind.ROLLING


def test_the_next_period_starts_where_the_last_ended() -> None:
    period = LimitPeriod(PeriodKind.DAY, "America/New_York")
    instant = utc(2026, 3, 6)
    for _ in range(6):  # across the spring-forward day
        start, end = bounds(period, instant)
        assert bounds(period, end)[0] == end and bounds(period, end - timedelta(microseconds=1)) == (
            start, end
        )
        instant = end


@pytest.mark.parametrize(
    ("period", "fields"),
    [
        pytest.param(LimitPeriod(time_zone="Mars/Olympus"), {"p.period_time_zone"}, id="zone"),
        pytest.param(LimitPeriod(time_zone="../../etc/passwd"), {"p.period_time_zone"},
                     id="zone-path"),
        pytest.param(LimitPeriod(time_zone=""), {"p.period_time_zone"}, id="zone-empty"),
        pytest.param(LimitPeriod(PeriodKind.MONTH, anchor=29), {"p.period_anchor"}, id="day-29"),
        pytest.param(LimitPeriod(PeriodKind.WEEK, anchor=8), {"p.period_anchor"}, id="weekday"),
        pytest.param(LimitPeriod(PeriodKind.DAY, anchor=24), {"p.period_anchor"}, id="hour"),
        pytest.param(LimitPeriod(PeriodKind.ROLLING), {"p.rolling_window"}, id="no-window"),
        pytest.param(LimitPeriod(PeriodKind.ROLLING, rolling_window=timedelta(days=93)),
                     {"p.rolling_window"}, id="long-window"),
        pytest.param(LimitPeriod(PeriodKind.DAY, rolling_window=timedelta(days=1)),
                     {"p.rolling_window"}, id="window-not-rolling"),
        pytest.param(LimitPeriod(PeriodKind.ROLLING, anchor=1, rolling_window=timedelta(hours=1)),
                     {"p.period_anchor"}, id="rolling-anchor"),
    ],
)
def test_bad_periods_name_the_field(period: LimitPeriod, fields: set[str]) -> None:
    assert {v.field for v in period_violations(period, "p.")} == fields


def test_good_periods_have_no_violations() -> None:
    assert period_violations(LimitPeriod(PeriodKind.WEEK, "Asia/Kolkata", 7), "") == []
    assert period_violations(
        LimitPeriod(PeriodKind.ROLLING, rolling_window=timedelta(hours=5)), ""
    ) == []


def test_time_zones_resolve_without_the_operating_systems_tz_database() -> None:
    """Slim container images ship no /usr/share/zoneinfo; the tzdata package must stand in."""
    import zoneinfo

    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        period = LimitPeriod(kind=PeriodKind.DAY, time_zone="Asia/Kolkata")
        assert period_violations(period, "policy.") == []
        start, end = bounds(period, utc(2026, 6, 1, 12))
        assert (start, end) == (utc(2026, 5, 31, 18, 30), utc(2026, 6, 1, 18, 30))
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
