"""Pooled-session isolation of the SQL gateway, end to end on both storage backends: every
session-altering statement is refused at registration, and whatever a read-write template leaves
in its session (through a function of the customer's database) is gone before the connection
serves anyone again; two tenants on one connection string never share a connection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import grpc
import pytest

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.customer_database import ORDER_COUNT, CustomerDatabase, customer_database
from tests.service.test_sql_gateway import _execute, _gateway, _refused, _template
from tests.support import RunningServer

# Each is refused at registration, as a read-only and as a read-write template.
SESSION_ATTACKS = [
    "SET ROLE postgres", "SET SESSION AUTHORIZATION postgres", "SET search_path = pg_temp",
    "SET LOCAL statement_timeout = 0", "RESET ALL", "DISCARD ALL", "PREPARE p AS SELECT 1",
    "EXECUTE __asyncpg_stmt_1__", "DEALLOCATE ALL", "DEALLOCATE __asyncpg_stmt_1__",
    "LISTEN channel", "NOTIFY channel", "UNLISTEN *", "COPY orders TO '/tmp/orders'",
    "COPY orders TO PROGRAM 'id'", "COPY orders FROM STDIN", "COPY (SELECT 1) TO STDOUT",
    "DO $$ BEGIN PERFORM 1; END $$", "CALL some_procedure()", "LOCK orders",
    "CREATE TEMP TABLE orders (id bigint)", "CREATE TABLE x (id int)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "ALTER ROLE CURRENT_USER SUPERUSER",
    "ALTER SYSTEM SET work_mem = '1GB'", "DROP TABLE orders", "GRANT ALL ON orders TO PUBLIC",
    "REVOKE ALL ON orders FROM PUBLIC", "TRUNCATE orders", "VACUUM orders", "ANALYZE orders",
    "CLUSTER orders", "REINDEX TABLE orders", "REFRESH MATERIALIZED VIEW v", "COMMENT ON TABLE orders IS 'x'",
    "SECURITY LABEL ON TABLE orders IS 'x'", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s",
    "SHOW ALL", "EXPLAIN ANALYZE DELETE FROM orders", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
    "FETCH ALL FROM c", "CLOSE ALL", "CHECKPOINT", "LOAD 'plpgsql'",
    "IMPORT FOREIGN SCHEMA s FROM SERVER x INTO public",
    "SELECT set_config('role', 'postgres', false)",
    "SELECT pg_catalog.set_config('search_path', 'pg_temp', false)",
    "SELECT \"set_config\"('role', 'postgres', false)", "SELECT SET_CONFIG('role', 'postgres', false)",
    "SELECT set_config /* gap */ ('role', 'postgres', false)", "SELECT pg_advisory_lock(1)",
    "SELECT pg_advisory_lock_shared(1)", "SELECT pg_try_advisory_lock(1)", "SELECT pg_advisory_xact_lock(1)",
    "SELECT dblink_exec('dbname=x', 'INSERT INTO t VALUES (1)')", "SELECT dblink_connect('dbname=x')",
    "SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)", "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')", "SELECT pg_ls_dir('.')", "SELECT pg_stat_file('PG_VERSION')",
    "SELECT lo_import('/etc/passwd')", "SELECT lo_export(1, '/tmp/x')", "SELECT lo_from_bytea(0, 'x')",
    "SELECT pg_terminate_backend(1)", "SELECT pg_cancel_backend(1)", "SELECT pg_reload_conf()",
    "SELECT pg_notify('channel', 'x')",
    "SELECT query_to_xml('SELECT set_config(''role'', ''x'', false)', true, true, '')",
    "SELECT * INTO TEMP orders FROM orders", "SELECT * INTO orders_copy FROM orders",
    "UPDATE pg_settings SET setting = 'postgres' WHERE name = 'role'",
    "SELECT 1 -- comment ends at CR\r; SET ROLE postgres", "SELECT 1; SET ROLE postgres",
    "SELECT pg_file_write('x', 'y', false)", "SELECT pg_logical_emit_message(true, 'x', 'y')",
    "SELECT pg_create_restore_point('x')", "SELECT pg_switch_wal()",
]
# Refused only as read-only templates (a read-write template may write).
READ_ONLY_ATTACKS = [
    "INSERT INTO audit (note) VALUES ('x')", "UPDATE orders SET status = 'x'", "DELETE FROM orders",
    "MERGE INTO orders o USING audit a ON o.id = a.id WHEN MATCHED THEN DELETE",
    "WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone",
    "WITH added AS (INSERT INTO audit (note) VALUES ('x') RETURNING id) SELECT * FROM added",
]

# A function of the customer's database that leaves every kind of session state behind.
_MAKE_MESS = """
CREATE FUNCTION make_mess() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS orders (id bigint, customer text);
    INSERT INTO orders VALUES (-1, 'spoofed');
    IF NOT EXISTS (SELECT 1 FROM pg_prepared_statements WHERE name = 'leaked') THEN
        EXECUTE 'PREPARE leaked AS SELECT 1';
    END IF;
    LISTEN leaked_channel;
    PERFORM pg_advisory_lock(4242);
    PERFORM set_config('work_mem', '77kB', false);
    PERFORM set_config('search_path', 'pg_temp, public', false);
    PERFORM nextval('audit_id_seq');
    PERFORM set_config('role', '{other}', false);
    PERFORM pg_sleep(0.05);
    RETURN pg_backend_pid();
END $$;
"""
_PROBE = (
    "SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('work_mem') AS work_mem,"
    " current_setting('search_path') AS search_path,"
    " (SELECT count(*) FROM orders) AS orders,"
    " (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temp_tables,"
    " (SELECT count(*) FROM pg_prepared_statements"
    "   WHERE statement NOT LIKE '%pg_prepared_statements%') AS prepared,"
    " (SELECT count(*) FROM pg_listening_channels()) AS listening,"
    " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
    "   (SELECT oid FROM pg_database WHERE datname = current_database())) AS advisory_locks,"
    " pg_sleep(0.05)::text AS pause"
)
CONCURRENCY = 6


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        other = f"{db.name}_other"

        async def prepare() -> None:
            admin = await asyncpg.connect(db.admin_dsn)
            try:
                await admin.execute(f'CREATE ROLE "{other}"; GRANT "{other}" TO "{db.name}";'
                                    f' GRANT SELECT ON orders TO "{other}"')
            finally:
                await admin.close()
            owner = await asyncpg.connect(db.dsn)
            try:
                await owner.execute(_MAKE_MESS.replace("{other}", other))
            finally:
                await owner.close()

        asyncio.run(prepare())
        try:
            yield db
        finally:
            async def drop() -> None:
                admin = await asyncpg.connect(db.admin_dsn)
                try:
                    await admin.execute(f'REVOKE "{other}" FROM "{db.name}"; DROP OWNED BY "{other}";'
                                        f' DROP ROLE "{other}"')
                finally:
                    await admin.close()
            asyncio.run(drop())


@pytest.fixture
def stub(server: RunningServer) -> sql_gateway_pb2_grpc.SqlGatewayServiceStub:
    return server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)


ATTACK_CASES = [(sql, ro) for sql in SESSION_ATTACKS for ro in (True, False)] + [
    (sql, True) for sql in READ_ONLY_ATTACKS
]


async def test_session_altering_statements_are_refused_at_registration(
    stub: Any, tenant: str
) -> None:
    accepted = []
    for sql, read_only in ATTACK_CASES:
        try:
            err = await _refused(_template(stub, tenant, "attack", sql, read_only=read_only))
        except pytest.fail.Exception:
            accepted.append((sql, read_only))
            continue
        assert err.code == grpc.StatusCode.INVALID_ARGUMENT, sql
        assert "template.sql" in err.field_violations, sql
    assert accepted == []
    listed = await stub.ListQueryTemplates(pb.ListQueryTemplatesRequest(tenant_id=tenant))
    assert list(listed.query_templates) == []
    assert len(ATTACK_CASES) == 2 * len(SESSION_ATTACKS) + len(READ_ONLY_ATTACKS)


async def _probe(stub: Any, tenant: str, gateway_id: str) -> list[dict[str, Any]]:
    results = await asyncio.gather(*(
        _execute(stub, tenant, gateway_id, "probe") for _ in range(CONCURRENCY)
    ))
    return [{k: v for k, v in r.rows[0].items()} for r in results]


def _clean(row: dict[str, Any], role: str) -> bool:
    return (row["role"], row["work_mem"], row["orders"], row["temp_tables"], row["prepared"],
            row["listening"], row["advisory_locks"]) == (role, "4MB", ORDER_COUNT, 0, 0, 0, 0) \
        and "pg_temp" not in row["search_path"]


async def test_nothing_a_query_leaves_in_its_session_reaches_the_next_one(
    stub: Any, tenant: str, other_tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "mess", "SELECT make_mess() AS pid", read_only=False)
    await _template(stub, tenant, "add-audit", "INSERT INTO audit (note) VALUES ('iso') RETURNING id",
                    read_only=False)
    await _template(stub, tenant, "probe", _PROBE)
    await _template(stub, other_tenant, "probe", _PROBE)
    writer = await _gateway(stub, tenant, customer, "mess", "add-audit", "probe", read_only=False)
    reader = await _gateway(stub, other_tenant, customer, "probe")  # the same connection string
    before = await customer.fetchval("SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o")

    for _ in range(3):
        messed = await asyncio.gather(*(
            _execute(stub, tenant, writer.id, "mess") for _ in range(CONCURRENCY)
        ))
        await _execute(stub, tenant, writer.id, "add-audit")
        dirty_pids = {r.rows[0]["pid"] for r in messed}
        own = await _probe(stub, tenant, writer.id)
        other = await _probe(stub, other_tenant, reader.id)
        assert [row for row in own if not _clean(row, customer.name)] == [], sorted(own[0].items())
        assert [row for row in other if not _clean(row, customer.name)] == []
        assert dirty_pids & {row["pid"] for row in own}, "the writer's pool was not reused"
        assert not dirty_pids & {row["pid"] for row in other}, "tenants shared a connection"

    after = await customer.fetchval("SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o")
    assert after == before
    assert await customer.fetchval("SELECT count(*) FROM audit WHERE note = 'iso'") == 3
    await customer.fetchval("DELETE FROM audit WHERE note = 'iso' RETURNING 1")


async def test_a_superuser_connection_string_is_refused(
    stub: Any, tenant: str, customer: CustomerDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_SQLGW_TEST_SUPERUSER_DSN", customer.admin_dsn)
    await _template(stub, tenant, "one", "SELECT 1 AS one")
    gateway = await stub.CreateGateway(pb.CreateGatewayRequest(
        tenant_id=tenant,
        gateway=pb.Gateway(name="root", connection_string_ref="env://DEV_SQLGW_TEST_SUPERUSER_DSN",
                           allowed_template_ids=["one"]),
    ))
    err = await _refused(_execute(stub, tenant, gateway.id, "one"))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "GATEWAY_ROLE_TOO_POWERFUL"
    assert "superuser" in err.message and customer.admin_dsn not in err.message


async def test_a_role_that_reads_server_files_is_refused(
    stub: Any, tenant: str, customer: CustomerDatabase
) -> None:
    async def grant(sql: str) -> None:
        admin = await asyncpg.connect(customer.admin_dsn)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    await _template(stub, tenant, "one", "SELECT 1 AS one")
    # A new gateway: a new pool, whose first connection is checked.
    gateway = await _gateway(stub, tenant, customer, "one", name="files")
    await grant(f'GRANT pg_read_server_files TO "{customer.name}"')
    try:
        err = await _refused(_execute(stub, tenant, gateway.id, "one"))
    finally:
        await grant(f'REVOKE pg_read_server_files FROM "{customer.name}"')
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "GATEWAY_ROLE_TOO_POWERFUL"
    assert "pg_read_server_files" in err.message
