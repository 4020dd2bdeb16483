"""deploy/README.md's database roles, run as written on the local PostgreSQL: the migrator (owner,
not a superuser) migrates, the service serves as a role that owns nothing, neither may switch
triggers off with session_replication_role, and prevention records stay append-only."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from drivers.kernel import migrator
from drivers.kernel.database import Database
from integrations.v1 import prevention_pb2 as pb
from integrations.v1 import prevention_pb2_grpc
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.service.test_prevention_service import candidate
from tests.support import new_tenant

_README = Path(__file__).parents[2] / "deploy" / "README.md"
_NAMES = re.compile(r"\bintegrations(_migrator|_service)?\b")


def _role_statements() -> list[str]:
    """The ```sql blocks of the README's "The database roles" section, in order."""
    section = _README.read_text().split("## The database roles", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)


@dataclass
class Roles:
    database: str
    migrator: str
    service: str
    admin_url: str

    def url(self, role: str, *, sqlalchemy: bool = True) -> str:
        parsed = make_url(self.admin_url).set(username=role, database=self.database)
        if not sqlalchemy:
            parsed = parsed.set(drivername="postgresql")
        return parsed.render_as_string(hide_password=False)

    def adapt(self, sql: str) -> str:
        """The README's SQL with this test's names and throw-away passwords."""
        names = {"": self.database, "_migrator": self.migrator, "_service": self.service}
        sql = _NAMES.sub(lambda m: names[m.group(1) or ""], sql)
        return re.sub(r"'<(\w+) password>'", lambda m: f"'{register_secret(uuid.uuid4().hex)}'", sql)


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def roles(
    database_urls: dict[str, str | None], postgres_admin_url: str
) -> AsyncIterator[Roles]:
    if database_urls["postgresql"] is None:
        pytest.skip("PostgreSQL is not reachable (set REQUIRE_POSTGRES=1 to fail instead)")
    suffix = uuid.uuid4().hex[:8]
    made = Roles(
        f"itest_roles_{suffix}", f"itest_migrator_{suffix}", f"itest_service_{suffix}",
        postgres_admin_url,
    )
    admin = make_url(postgres_admin_url).set(drivername="postgresql")
    admin_dsn = admin.render_as_string(hide_password=False)
    in_database = admin.set(database=made.database).render_as_string(hide_password=False)
    cluster_sql, database_sql, after_migrations_sql = (made.adapt(s) for s in _role_statements())
    # CREATE DATABASE cannot run inside the implicit transaction of a multi-statement string.
    for statement in filter(str.strip, cluster_sql.split(";")):
        await _execute(admin_dsn, statement)
    try:
        await _execute(in_database, database_sql)
        migrations = Database(made.url(made.migrator))
        try:
            await migrator.upgrade(migrations)
        finally:
            await migrations.dispose()
        await _execute(made.url(made.migrator, sqlalchemy=False), after_migrations_sql)
        yield made
    finally:
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                made.database,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{made.database}"')
            for role in (made.service, made.migrator):
                await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await conn.close()


# (statement, what the refusal says) for the service's role.
_REFUSED_TO_THE_SERVICE = [
    ("SET session_replication_role = replica", "permission denied"),
    ("UPDATE prevention_records SET policy_mode = 'x'", "permission denied"),
    ("DELETE FROM prevention_records", "permission denied"),
    ("TRUNCATE prevention_records", "permission denied"),
    ("ALTER TABLE prevention_records DISABLE TRIGGER prevention_records_append_only",
     "must be owner"),
    ("DROP TRIGGER prevention_records_append_only ON prevention_records", "must be owner"),
    ("CREATE TABLE intruder (x int)", "permission denied"),
]


async def _refusals(dsn: str, statements: list[tuple[str, str]]) -> None:
    """Each statement fails with its refusal, on a connection as the role of `dsn`."""
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        assert await conn.fetchval("SHOW is_superuser") == "off"
        for statement, refusal in statements:
            with pytest.raises(asyncpg.PostgresError, match=refusal):
                await conn.execute(statement)
        assert await conn.fetchval("SHOW session_replication_role") == "origin"
    finally:
        await conn.close()


async def test_the_service_runs_as_a_role_that_cannot_switch_triggers_off(
    roles: Roles,
) -> None:
    tenant = new_tenant()
    # Start-up migrations find nothing to do: the service's role needs no schema rights.
    config = serve_config(roles.url(roles.service), apply_migrations=True)
    async with started(config, "postgresql") as server:
        stub = server.stub(prevention_pb2_grpc.PreventionServiceStub)
        record = await stub.CreatePreventionRecord(
            pb.CreatePreventionRecordRequest(candidate=candidate(tenant))
        )
        await _refusals(roles.url(roles.service, sqlalchemy=False), _REFUSED_TO_THE_SERVICE)
        # The owner may write the table, and the triggers still refuse every change.
        await _refusals(
            roles.url(roles.migrator, sqlalchemy=False),
            [
                ("SET session_replication_role = replica", "permission denied"),
                ("UPDATE prevention_records SET policy_mode = 'x'", "append-only"),
                ("DELETE FROM prevention_records", "append-only"),
                ("TRUNCATE prevention_records", "append-only"),
            ],
        )
        again = await stub.GetPreventionRecord(
            pb.GetPreventionRecordRequest(tenant_id=tenant, record_id=record.id)
        )
        assert again == record
