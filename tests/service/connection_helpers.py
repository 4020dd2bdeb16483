"""Builders and small assertions shared by the ConnectorsService and DataSourcesService
end-to-end tests."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import struct_pb2
from sqlalchemy.engine import make_url

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from drivers.kernel.database import Database
from service.logs import JsonFormatter
from tests.support import RichError, RunningServer, rich_error

__all__ = [
    "LOOPBACK_DESTINATIONS",
    "database_text",
    "fails",
    "log_text",
    "pg_dsn",
    "store_credential",
    "struct",
]


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


async def fails(call: Awaitable[Any]) -> RichError:
    """Awaits a call that must fail; returns its code, message and rich details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rich_error(caught.value)


# The test servers and databases these tests reach all listen on loopback.
LOOPBACK_DESTINATIONS = ("127.0.0.1", "localhost", "[::1]")


async def store_credential(
    server: RunningServer,
    tenant: str,
    name: str,
    secret: str,
    destinations: Sequence[str] = LOOPBACK_DESTINATIONS,
) -> str:
    """Creates a credential through the real CredentialService, allowed to go to
    `destinations`; returns its cus-vault:// ref."""
    stub = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    created = await stub.CreateCredential(
        credentials_pb2.CreateCredentialRequest(
            tenant_id=tenant, name=name, secret=secret, allowed_destinations=destinations
        )
    )
    return str(created.credential_ref)


def pg_dsn(postgres_admin_url: str, **changes: Any) -> str:
    """A plain postgresql:// DSN for the local server (as a customer would give it)."""
    return make_url(postgres_admin_url).set(drivername="postgresql", **changes).render_as_string(
        hide_password=False
    )


def log_text(records: list[logging.LogRecord]) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in records)


async def database_text(server: RunningServer) -> bytes:
    """Every row of every table, plus (SQLite) the raw bytes of the database files."""
    database = Database(server.database_url)
    try:
        async with database.transaction() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            dump = []
            for name in names:
                rows = (await conn.execute(sa.text(f'SELECT * FROM "{name}"'))).all()
                dump.extend(repr(tuple(r)) for r in rows)
    finally:
        await database.dispose()
    blob = "\n".join(dump).encode()
    if server.backend == "sqlite":
        path = Path(make_url(server.database_url).database or "")
        for file in path.parent.glob(path.name + "*"):
            blob += file.read_bytes()
    return blob
