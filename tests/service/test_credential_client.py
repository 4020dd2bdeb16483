"""drivers/credentials/client.GrpcCredentialService, the port other engines use, against a real
server: store, get, delete, exists, and remote failures as engine errors."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from drivers.credentials.client import GrpcCredentialService
from engines.credentials.credential_service import DESTINATION_DENIED
from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.support import RunningServer, new_tenant

SECRET = register_secret("sk-client-PLAINTEXT-0a1b2c")


async def test_store_get_delete_round_trip(server: RunningServer, tenant: str) -> None:
    client = GrpcCredentialService(server.channel, access_reason=lambda: "client test")
    ref = await client.store(tenant, "datasource-password", SECRET, ["db.example.com:5432"])
    assert ref.startswith(f"cus-vault://{tenant}/")
    revealed = await client.get(ref, tenant)
    assert revealed.value == SECRET and revealed.expires_at is None
    assert SECRET not in repr(revealed)
    assert (await client.use(ref, tenant, "db.example.com:5432")).value == SECRET
    with pytest.raises(FailedPrecondition) as caught:
        await client.use(ref, tenant, "db.example.com:6543")
    assert caught.value.reason == DESTINATION_DENIED
    assert await client.exists(tenant, ref)
    assert not await client.exists(new_tenant(), ref)
    with pytest.raises(NotFound):
        await client.get(ref, new_tenant())
    await client.delete(tenant, ref)
    assert not await client.exists(tenant, ref)
    with pytest.raises(NotFound):
        await client.get(ref, tenant)
    with pytest.raises(NotFound):
        await client.delete(tenant, ref)


async def test_remote_errors_become_engine_errors(server: RunningServer, tenant: str) -> None:
    client = GrpcCredentialService(server.channel)
    with pytest.raises(FailedPrecondition) as caught:
        await client.get("vault://legacy/path", tenant)
    assert caught.value.reason == "CREDENTIAL_SCHEME_UNSUPPORTED"
    with pytest.raises(InvalidArgument):
        await client.get("sk-not-a-ref", tenant)
    with pytest.raises(InvalidArgument):
        await client.store(tenant, "", SECRET, ())

    config = serve_config(server.database_url, allow_env_credentials=False)
    async with started(config) as strict:
        with pytest.raises(FailedPrecondition) as caught:
            await GrpcCredentialService(strict.channel).get("env://HOME", tenant)
        assert caught.value.reason == "CREDENTIAL_SCHEME_DISABLED"


async def test_unreachable_or_refusing_service_is_unavailable(
    server: RunningServer, tenant: str, tmp_path: Path
) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:9") as closed:
        with pytest.raises(Unavailable):
            await GrpcCredentialService(closed, timeout_seconds=2).get("env://HOME", tenant)
    callers = tmp_path / "callers.yaml"
    callers.write_text("callers: []\n")
    async with started(serve_config(server.database_url, callers_file=str(callers))) as secured:
        with pytest.raises(Unavailable, match="token"):
            await GrpcCredentialService(secured.channel, token="wrong").get("env://HOME", tenant)
