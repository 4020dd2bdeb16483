"""UtcDateTime's result processing: aware UTC on both backends, whatever the driver gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite

from drivers.tables.base import UtcDateTime

UTC = timezone.utc
MOMENT = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_postgresql_values_come_out_aware_utc() -> None:
    process = UtcDateTime().result_processor(pg_asyncpg.dialect(), None)
    assert process is not None
    assert process(MOMENT) is MOMENT  # asyncpg's timestamptz: passed through
    assert process(None) is None
    plus_two = MOMENT.astimezone(timezone(timedelta(hours=2)))
    for given in (plus_two, MOMENT.replace(tzinfo=None)):
        got = process(given)
        assert got == MOMENT and got.tzinfo is UTC


def test_sqlite_strings_come_out_aware_utc() -> None:
    process = UtcDateTime().result_processor(aiosqlite.dialect(), None)
    assert process is not None
    for text in ("2026-05-01T12:00:00.123456+00:00", "2026-05-01T14:00:00.123456+02:00",
                 "2026-05-01T12:00:00.123456"):
        got = process(text)
        assert got == MOMENT and got.tzinfo is UTC
    assert process(None) is None
