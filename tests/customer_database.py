"""A customer's PostgreSQL database for the SQL gateway tests: created on the local server with a
random name, owned by a new login role that is not a superuser (the gateway refuses those),
seeded with known rows, dropped afterwards with its role. The gateway reaches it through an
`env://` credential ref whose variable holds its URL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url

__all__ = ["CustomerDatabase", "customer_database"]

ORDER_COUNT = 50
NUMBER_COUNT = 5000

_SEED = f"""
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    status text NOT NULL,
    placed_on date NOT NULL,
    placed_at timestamptz NOT NULL,
    ref uuid NOT NULL
);
INSERT INTO orders
SELECT g, 'customer-' || (g % 7), (g * 10.25)::numeric(12, 2),
       CASE WHEN g % 2 = 0 THEN 'open' ELSE 'closed' END,
       DATE '2024-01-01' + g, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour',
       ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid
FROM generate_series(1, {ORDER_COUNT}) g;
CREATE TABLE numbers AS
SELECT g AS n, repeat('x', 100) AS pad FROM generate_series(1, {NUMBER_COUNT}) g;
CREATE TABLE audit (id serial PRIMARY KEY, note text NOT NULL);
"""


@dataclass(frozen=True)
class CustomerDatabase:
    """A seeded customer database, the `env://` ref that resolves to its URL (as its owner, a
    plain role), and the same database's URL as the superuser (`admin_dsn`)."""

    dsn: str
    name: str
    ref: str
    admin_dsn: str = ""

    async def fetchval(self, sql: str, *args: object) -> object:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def fingerprint(self) -> object:
        """A digest of every customer row: equal before and after means nothing changed."""
        return await self.fetchval(
            "SELECT md5(coalesce((SELECT string_agg(o::text, ',' ORDER BY id) FROM orders o), '')"
            " || coalesce((SELECT string_agg(a::text, ',' ORDER BY id) FROM audit a), '')"
            " || (SELECT count(*) FROM numbers)::text)"
        )


async def _admin(admin_url: str, sql: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(_SEED)
    finally:
        await conn.close()


@contextlib.contextmanager
def customer_database(admin_url: str) -> Iterator[CustomerDatabase]:
    """Creates, seeds and finally drops a customer database; sets and clears its env var.

    Skips the test when PostgreSQL is unreachable (REQUIRE_POSTGRES=1 fails it instead)."""
    name = f"customer_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(admin_url, f'CREATE ROLE "{name}" LOGIN'))
        asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}" OWNER "{name}"'))
    except (OSError, asyncio.TimeoutError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    url = make_url(admin_url).set(drivername="postgresql", database=name)
    admin_dsn = url.render_as_string(hide_password=False)
    dsn = url.set(username=name, password=None).render_as_string(hide_password=False)
    variable = f"DEV_SQLGW_TEST_{name.upper()}"
    os.environ[variable] = dsn
    try:
        asyncio.run(_seed(dsn))
        yield CustomerDatabase(dsn=dsn, name=name, ref=f"env://{variable}", admin_dsn=admin_dsn)
    finally:
        os.environ.pop(variable, None)
        asyncio.run(
            _admin(
                admin_url,
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            )
        )
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_admin(admin_url, f'DROP ROLE IF EXISTS "{name}"'))
