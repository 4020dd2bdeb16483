"""SqlPreventionStore and the append-only triggers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from drivers.kernel.database import Database
from drivers.prevention.store import SqlPreventionStore
from engines.kernel.pagination import parse_page
from engines.prevention.contract import PreventionCandidate
from engines.prevention.records import GraduationCounts, PreventionRecord, RecordFilters
from tests.support import request_key

T0 = datetime(2026, 2, 1, 9, 30, 0, 123456, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)


@pytest.fixture
def store(database: Database) -> SqlPreventionStore:
    return SqlPreventionStore(database)


def make_record(
    tenant_id: str,
    create_time: datetime = T0,
    *,
    policy_id: str = "policy-1",
    pattern_id: str = "pattern-1",
    simulated: bool = False,
) -> PreventionRecord:
    return PreventionRecord(
        id=str(uuid.uuid4()),
        candidate=PreventionCandidate(
            policy_id=policy_id,
            pattern_id=pattern_id,
            tenant_id=tenant_id,
            blocked_incident_id="inc-2",
            original_incident_id="inc-1",
            signature_match_confidence=0.6,
            policy_mode="active",
            pattern_signature={"path": "/v1/chat", "n": 3},
            request_signature={"nested": {"k": [1, "two"]}},
            is_simulated=simulated,
        ),
        contract_version="1.0.0",
        create_time=create_time,
    )


async def test_append_then_get_round_trips(store: SqlPreventionStore, tenant: str) -> None:
    record = make_record(tenant)
    assert await store.insert(record, None) == record
    assert await store.get(tenant, record.id) == record


async def test_another_tenant_sees_nothing(
    store: SqlPreventionStore, tenant: str, other_tenant: str
) -> None:
    record = make_record(tenant)
    await store.insert(record, request_key("req-1"))
    assert await store.get(other_tenant, record.id) is None
    assert await store.find_by_request_id(other_tenant, "req-1") is None
    rows, total = await store.list(other_tenant, RecordFilters(), parse_page(0, "", {}))
    assert (list(rows), total) == ([], 0)
    counts = await store.graduation_counts(other_tenant, "policy-1", T0 - timedelta(days=1))
    assert counts == GraduationCounts(0, 0, 0, 0)


async def test_repeated_request_id_returns_the_first_record(
    store: SqlPreventionStore, tenant: str, other_tenant: str
) -> None:
    first = make_record(tenant)
    assert await store.insert(first, request_key("req-1")) == first
    assert await store.insert(make_record(tenant), request_key("req-1")) == first
    other = make_record(other_tenant)
    assert await store.insert(other, request_key("req-1")) == other
    _, total = await store.list(tenant, RecordFilters(), parse_page(0, "", {}))
    assert total == 1


async def test_concurrent_creates_with_one_request_id_store_one(
    store: SqlPreventionStore, tenant: str
) -> None:
    key = request_key("same")
    results = await asyncio.gather(*(store.insert(make_record(tenant), key) for _ in range(5)))
    assert len({r.id for r in results}) == 1
    _, total = await store.list(tenant, RecordFilters(), parse_page(0, "", {}))
    assert total == 1


async def test_list_is_newest_first_with_filters_and_keyset_pages(
    store: SqlPreventionStore, tenant: str
) -> None:
    made = []
    for i in range(7):
        # Two records share each instant, so paging must break ties on id.
        record = make_record(
            tenant, T0 + timedelta(seconds=i // 2), policy_id=f"p{i % 2}", pattern_id=f"q{i % 3}"
        )
        made.append(await store.insert(record, None))
    expected = sorted(made, key=lambda r: (r.create_time, r.id), reverse=True)
    seen: list[PreventionRecord] = []
    page = parse_page(3, "", {})
    while True:
        rows, total = await store.list(tenant, RecordFilters(), page)
        seen.extend(rows[: page.size])
        assert total == 7
        if len(rows) <= page.size:
            break
        last = rows[page.size - 1]
        page = type(page)(size=page.size, after=(last.create_time, last.id), filters_digest="")
    assert [r.id for r in seen] == [r.id for r in expected]
    rows, total = await store.list(
        tenant, RecordFilters(policy_id="p0", pattern_id="q0"), parse_page(0, "", {})
    )
    wanted = [r.id for r in expected if r.candidate.policy_id == "p0" and r.candidate.pattern_id == "q0"]
    assert [r.id for r in rows] == wanted and total == len(wanted) == 2


async def test_graduation_counts_on_both_sides_of_the_activation(
    store: SqlPreventionStore, tenant: str
) -> None:
    for offset, simulated in [
        (-timedelta(days=3), False),
        (-TICK, False),  # one microsecond early: before activation
        (timedelta(0), False),  # exactly at activation: counts
        (TICK, False),
        (timedelta(days=2), False),
        (-TICK, True),
        (TICK, True),
    ]:
        await store.insert(make_record(tenant, T0 + offset, simulated=simulated), None)
    await store.insert(make_record(tenant, T0 + TICK, policy_id="elsewhere"), None)
    counts = await store.graduation_counts(tenant, "policy-1", T0)
    assert counts == GraduationCounts(qualifying=3, simulated=2, before_activation=2, total=7)
    later = await store.graduation_counts(tenant, "policy-1", T0 + TICK)
    assert later == GraduationCounts(qualifying=2, simulated=2, before_activation=3, total=7)


async def test_graduation_counts_compare_instants_not_zones(
    store: SqlPreventionStore, tenant: str
) -> None:
    await store.insert(make_record(tenant, T0), None)
    minus_five = timezone(timedelta(hours=-5))
    counts = await store.graduation_counts(tenant, "policy-1", T0.astimezone(minus_five))
    assert counts.qualifying == 1
    counts = await store.graduation_counts(tenant, "policy-1", (T0 + TICK).astimezone(minus_five))
    assert counts.before_activation == 1


# --- append-only: raw SQL through a direct connection, bypassing the service entirely ---

RawSql = Callable[[str], Awaitable[object]]


@pytest.fixture
async def raw_sql(database_url: str, backend: str) -> AsyncIterator[RawSql]:
    """Runs one SQL statement on a connection of the database's own driver, not the service's."""
    url = make_url(database_url)
    if backend == "sqlite":
        conn = sqlite3.connect(url.database or "", timeout=30, isolation_level=None)

        async def run_sqlite(sql: str) -> object:
            return conn.execute(sql).rowcount

        yield run_sqlite
        conn.close()
    else:
        pg = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))

        async def run_postgres(sql: str) -> object:
            return await pg.execute(sql)

        yield run_postgres
        await pg.close()


def _refused(backend: str) -> tuple[type[Exception], ...]:
    return (sqlite3.IntegrityError,) if backend == "sqlite" else (asyncpg.PostgresError,)


def _insert(record_id: str, tenant: str, *, verb: str = "INSERT", request_id: str = "NULL",
            tail: str = "") -> str:
    """A raw INSERT (or REPLACE, INSERT OR REPLACE, ...) of a record with `policy_mode`
    'rewritten'; `tail` is an ON CONFLICT clause."""
    return (
        f"{verb} INTO prevention_records (id, tenant_id, policy_id, pattern_id, "
        "blocked_incident_id, original_incident_id, signature_match_confidence, policy_mode, "
        "pattern_signature, request_signature, incident_created, is_simulated, "
        "contract_version, request_id, create_time) VALUES "
        f"('{record_id}', '{tenant}', 'p', 'q', '', '', 0.7, 'rewritten', '{{}}', '{{}}', "
        f"false, false, '1.0.0', {request_id}, '2026-01-01T00:00:00.000000+00:00') {tail}"
    )


_UPSERT = "ON CONFLICT (id) DO UPDATE SET policy_mode = excluded.policy_mode"


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE prevention_records SET is_simulated = {true} WHERE id = '{id}'",
                     id="update-one"),
        pytest.param("UPDATE prevention_records SET policy_mode = 'shadow'", id="update-all"),
        pytest.param("DELETE FROM prevention_records WHERE id = '{id}'", id="delete-one"),
        pytest.param("DELETE FROM prevention_records", id="delete-all"),
        pytest.param(_insert("{id}", "{tenant}", verb="REPLACE"), id="replace"),
        pytest.param(_insert("{id}", "{tenant}", verb="INSERT OR REPLACE"),
                     id="insert-or-replace"),
        pytest.param(_insert("{new_id}", "{tenant}", verb="REPLACE", request_id="'req-kept'"),
                     id="replace-by-request-id"),
        pytest.param(_insert("{id}", "{tenant}", tail=_UPSERT), id="upsert"),
        pytest.param(_insert("{new_id}", "{tenant}", request_id="'req-kept'",
                             tail="ON CONFLICT (tenant_id, request_id) WHERE request_id IS NOT "
                             "NULL DO UPDATE SET policy_mode = 'rewritten'"),
                     id="upsert-by-request-id"),
        pytest.param(_insert("{id}", "{tenant}", verb="INSERT OR IGNORE"), id="insert-or-ignore"),
    ],
)
async def test_database_refuses_update_delete_and_replace(
    store: SqlPreventionStore, raw_sql: RawSql, backend: str, tenant: str, statement: str
) -> None:
    if backend != "sqlite" and statement.startswith(("REPLACE", "INSERT OR")):
        pytest.skip("REPLACE and INSERT OR ... exist only on SQLite")
    record = await store.insert(make_record(tenant), request_key("req-kept"))
    values = {"{id}": record.id, "{new_id}": str(uuid.uuid4()), "{tenant}": tenant,
              "{true}": "1" if backend == "sqlite" else "true"}
    sql = statement
    for placeholder, value in values.items():
        sql = sql.replace(placeholder, value)
    with pytest.raises(_refused(backend), match="append-only"):
        await raw_sql(sql)
    assert await store.get(tenant, record.id) == record
    assert (await store.find_by_request_id(tenant, "req-kept")).resource == record


async def test_postgres_refuses_truncate(
    store: SqlPreventionStore, raw_sql: RawSql, backend: str, tenant: str
) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    record = await store.insert(make_record(tenant), None)
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await raw_sql("TRUNCATE prevention_records")
    assert await store.get(tenant, record.id) == record


async def test_inserts_still_work_through_raw_sql(
    store: SqlPreventionStore, raw_sql: RawSql, tenant: str
) -> None:
    # The triggers refuse changes, not appends: a direct INSERT lands and reads back.
    record_id = str(uuid.uuid4())
    await raw_sql(_insert(record_id, tenant, request_id="'fresh'"))
    stored = await store.get(tenant, record_id)
    assert stored is not None
    assert stored.create_time == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert (await store.find_by_request_id(tenant, "fresh")).resource == stored


async def test_service_connections_fire_delete_triggers_on_replace(
    database: Database, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("recursive_triggers is a SQLite setting")
    async with database.read() as conn:
        assert (await conn.exec_driver_sql("PRAGMA recursive_triggers")).scalar() == 1
