"""`--kms openbao` while OpenBao fails: stopped, sealed, the service's token expired. Calls that
need OpenBao fail UNAVAILABLE at once with a reason naming the fault, nothing is written
half-way, and the service recovers without a restart when OpenBao does.

Data keys are not cached here (TTL 0), so every call needs OpenBao."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from drivers.kernel.database import Database
from drivers.tables.credentials import credentials
from drivers.tables.data_keys import tenant_data_keys
from tests.openbao import OpenBaoServer, running_openbao
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.service.test_credentials_openbao import openbao_config
from tests.support import RunningServer, new_tenant, rich_error

SECRET = register_secret("sk-openbao-FAULT-0badc0de")
# Generous: a call must fail with UNAVAILABLE well within it, never DEADLINE_EXCEEDED.
DEADLINE = 10.0


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/faults.db"


def _stub(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
    return credentials_pb2_grpc.CredentialServiceStub(server.channel)


async def _create(server: RunningServer, tenant: str, name: str = "k") -> pb.Credential:
    return await _stub(server).CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name=name, secret=SECRET), timeout=DEADLINE
    )


async def _reveal(server: RunningServer, tenant: str, ref: str) -> str:
    reply = await _stub(server).GetCredential(
        pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref), timeout=DEADLINE
    )
    return reply.value


async def _unavailable(call: object) -> tuple[str, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    error = rich_error(caught.value)
    assert error.code is grpc.StatusCode.UNAVAILABLE, error
    return error.reason, error.message


async def _rows(url: str, tenant: str) -> tuple[int, int]:
    """(credentials, data keys) stored for `tenant`."""
    database = Database(url)
    try:
        async with database.read() as conn:
            counts = []
            for table in (credentials, tenant_data_keys):
                query = sa.select(sa.func.count()).where(table.c.tenant_id == tenant)
                counts.append(int((await conn.execute(query)).scalar_one()))
    finally:
        await database.dispose()
    return counts[0], counts[1]


def _config(url: str, bao: OpenBaoServer, workdir: Path, **settings: object) -> Any:
    values: dict[str, Any] = {"data_key_ttl_seconds": 0, "timeout_seconds": 2, **settings}
    config = openbao_config(url, bao, workdir, **values)
    return replace(config, apply_migrations=True)


async def _stopped(pid: int) -> None:
    """Waits until the kernel reports the process stopped (SIGSTOP takes effect when each of
    its threads is next scheduled, which on a busy machine is not at once)."""
    for _ in range(500):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"process {pid} did not stop")


@pytest.fixture
async def own_openbao(tmp_path: Path) -> AsyncIterator[OpenBaoServer]:
    with running_openbao(tmp_path / "bao") as server:
        yield server


async def test_openbao_stopped_fails_fast_writes_nothing_and_recovers(
    tmp_path: Path, sqlite_url: str
) -> None:
    with running_openbao(tmp_path / "bao", persistent=True) as bao:
        config = _config(sqlite_url, bao, tmp_path)
        known, fresh = new_tenant(), new_tenant()
        async with started(config) as server:
            stored = await _create(server, known)
            bao.stop()

            reason, message = await _unavailable(_create(server, fresh))
            assert reason == "KEY_SERVICE_UNAVAILABLE" and "unreachable" in message
            assert await _rows(sqlite_url, fresh) == (0, 0)  # nothing half-way
            reason, _ = await _unavailable(_reveal(server, known, stored.credential_ref))
            assert reason == "KEY_SERVICE_UNAVAILABLE"
            events = await _stub(server).ListCredentialAccessEvents(
                pb.ListCredentialAccessEventsRequest(tenant_id=known, page_size=10)
            )
            attempts = [e for e in events.events if e.kind == pb.ACCESS_KIND_REVEAL]
            assert [e.detail for e in attempts] == ["key service unavailable"]

            bao.start()  # same data, unsealed again; the service was not restarted
            assert await _reveal(server, known, stored.credential_ref) == SECRET
            created = await _create(server, fresh)
            assert await _reveal(server, fresh, created.credential_ref) == SECRET
            assert await _rows(sqlite_url, fresh) == (1, 1)


async def test_openbao_sealed_is_named_and_unsealing_recovers(
    own_openbao: OpenBaoServer, tmp_path: Path, sqlite_url: str
) -> None:
    tenant = new_tenant()
    async with started(_config(sqlite_url, own_openbao, tmp_path)) as server:
        stored = await _create(server, tenant)
        own_openbao.seal()
        for call in (_reveal(server, tenant, stored.credential_ref), _create(server, tenant, "b")):
            reason, message = await _unavailable(call)
            assert reason == "KEY_SERVICE_SEALED" and "sealed" in message
        assert await _rows(sqlite_url, tenant) == (1, 1)
        own_openbao.unseal()
        assert await _reveal(server, tenant, stored.credential_ref) == SECRET


async def test_a_short_lived_token_is_renewed_in_the_background(
    own_openbao: OpenBaoServer, tmp_path: Path, sqlite_url: str
) -> None:
    token_file = tmp_path / "short-token"
    token_file.write_text(register_secret(own_openbao.service_token(ttl="6s")))
    async with started(_config(sqlite_url, own_openbao, tmp_path, token_file=str(token_file))) as server:
        await asyncio.sleep(8)  # past the token's first TTL (renewed after 3 s)
        created = await _create(server, new_tenant())
        assert created.version == 1


async def test_an_expired_token_is_a_clear_error_until_the_token_file_is_updated(
    own_openbao: OpenBaoServer, tmp_path: Path, sqlite_url: str
) -> None:
    token_file = tmp_path / "expiring-token"
    token_file.write_text(
        register_secret(own_openbao.service_token(ttl="2s", explicit_max_ttl="2s"))
    )
    tenant = new_tenant()
    async with started(_config(sqlite_url, own_openbao, tmp_path, token_file=str(token_file))) as server:
        await asyncio.sleep(3)  # the token cannot be renewed past its max TTL
        reason, message = await _unavailable(_create(server, tenant))
        assert reason == "KEY_SERVICE_PERMISSION_DENIED" and "token" in message
        assert await _rows(sqlite_url, tenant) == (0, 0)
        token_file.write_text(register_secret(own_openbao.service_token()))  # an agent renews it
        created = await _create(server, tenant)
        assert created.version == 1


async def test_a_hung_openbao_fails_within_the_configured_timeout(
    own_openbao: OpenBaoServer, tmp_path: Path, sqlite_url: str
) -> None:
    tenant = new_tenant()
    assert own_openbao.process is not None
    async with started(_config(sqlite_url, own_openbao, tmp_path, timeout_seconds=1)) as server:
        stored = await _create(server, tenant)
        os.kill(own_openbao.process.pid, signal.SIGSTOP)
        await _stopped(own_openbao.process.pid)
        try:
            reason, message = await _unavailable(_reveal(server, tenant, stored.credential_ref))
        finally:
            os.kill(own_openbao.process.pid, signal.SIGCONT)
        assert reason == "KEY_SERVICE_UNAVAILABLE" and "in time" in message
        assert await _reveal(server, tenant, stored.credential_ref) == SECRET
