"""Fixtures: one fresh database per backend per session (SQLite file, PostgreSQL database),
real servers on loopback ports, fresh tenants.

TEST_DATABASE_URL names the PostgreSQL server (default postgres@127.0.0.1:5432/test); a database
with a random name is created on it and dropped afterwards. With REQUIRE_POSTGRES=1 an
unreachable PostgreSQL fails the run instead of skipping its half of the tests.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import grpc
import pytest
from sqlalchemy.engine import make_url

from drivers.kernel import migrator
from drivers.kernel.database import Database
from service.bootstrap import create_server
from service.config import ServeConfig
from tests.secrets_registry import register_secret
from tests.support import LOOPBACK_EGRESS, RunningServer, new_tenant

# Issue 8: fail the run when a log line written during the suite contains a registered secret.
pytest_plugins = ["tests.secret_guard", "tests.openbao"]

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]
# Issue 3: a master key for the session's test servers (never a file in the working directory).
TEST_MASTER_KEYS = "1:" + register_secret(base64.b64encode(os.urandom(32)).decode())


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_pg_database(admin_url: str) -> str:
    name = f"itest_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_pg_dsn(admin_url), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_pg_dsn(admin_url), timeout=5)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await migrator.upgrade(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server tests may create databases on."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def database_urls(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str
) -> Iterator[dict[str, str | None]]:
    """Migrated databases for the session: {"sqlite": url, "postgresql": url or None}."""
    sqlite_file = Path(tmp_path_factory.mktemp("sqlite")) / "integrations.db"
    urls: dict[str, str | None] = {"sqlite": f"sqlite+aiosqlite:///{sqlite_file}"}
    asyncio.run(_migrate(urls["sqlite"]))  # type: ignore[arg-type]
    try:
        urls["postgresql"] = asyncio.run(_create_pg_database(postgres_admin_url))
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        urls["postgresql"] = None
    if urls["postgresql"]:
        asyncio.run(_migrate(urls["postgresql"]))
    yield urls
    if urls["postgresql"]:
        asyncio.run(_drop_pg_database(postgres_admin_url, urls["postgresql"]))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage-touching test runs once per backend."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, database_urls: dict[str, str | None]) -> str:
    url = database_urls[backend]
    if url is None:
        pytest.skip("PostgreSQL is not reachable (set REQUIRE_POSTGRES=1 to fail instead)")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def tenant() -> str:
    return new_tenant()


@pytest.fixture
def other_tenant() -> str:
    return new_tenant()


def serve_config(database_url: str, **overrides: object) -> ServeConfig:
    """A config for an in-process test server on a free loopback port."""
    values: dict[str, object] = {
        "listen": "127.0.0.1:0",
        "database_url": database_url,
        "apply_migrations": False,
        "grace_seconds": 1.0,
        "readiness_interval_seconds": 0.5,
        "master_keys": TEST_MASTER_KEYS,
        "allow_env_credentials": True,  # many tests use env:// refs
        "egress_allow": LOOPBACK_EGRESS,
    }
    values.update(overrides)
    return ServeConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def server(database_url: str, backend: str) -> AsyncIterator[RunningServer]:
    """A started server on the backend under test, and a channel to it."""
    app = await create_server(serve_config(database_url))
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
    try:
        yield RunningServer(app=app, channel=channel, database_url=database_url, backend=backend)
    finally:
        await channel.close()
        await app.stop(0)
