"""CredentialService with `--secret-store openbao` end to end through the real server and a real
OpenBao, on both backends: values in KV v2 at the tenant's path and not in the database, the
access log unchanged, concurrent rotations, tenant isolation, OpenBao stopped or sealed, and start
refused."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from drivers.credentials.openbao_client import OpenBaoStartError
from service.bootstrap import create_server
from tests.conftest import serve_config
from tests.openbao import OpenBaoServer, kv_settings, running_openbao
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import fails
from tests.service.secret_scan import secrets_in_database
from tests.service.servers import started
from tests.support import new_tenant

SECRET = register_secret("sk-openbao-kv-PLAINTEXT-5ca1ab1e")
ROTATED = register_secret("sk-openbao-kv-ROTATED-d15ea5e0")


def _stub(channel: grpc.aio.Channel) -> credentials_pb2_grpc.CredentialServiceStub:
    return credentials_pb2_grpc.CredentialServiceStub(channel)


def kv_config(database_url: str, server: OpenBaoServer, workdir: Path, **kw: Any) -> Any:
    mount = kw.pop("secret_store_mount", "secret")
    settings = kv_settings(server, workdir, mount, **kw)
    return serve_config(
        database_url, secret_store="openbao", secret_store_mount=mount, openbao=settings
    )


def _kv_path(tenant: str, credential_id: str, kind: str = "data") -> str:
    return f"secret/{kind}/tenants/{tenant}/credentials/{credential_id}"


def _audited_reads(server: OpenBaoServer, path: str) -> int:
    """How many reads of `path` OpenBao's file audit device logged (requests by a non-root
    token: the service's)."""
    count = 0
    for line in server.audit_log.read_text().splitlines():
        entry = json.loads(line)
        request = entry.get("request") or {}
        if (
            entry.get("type") == "request"
            and request.get("path") == path
            and request.get("operation") == "read"
            and "root" not in ((entry.get("auth") or {}).get("policies") or [])
        ):
            count += 1
    return count


async def test_create_get_rotate_delete_keep_the_value_in_openbao_only(
    openbao: OpenBaoServer, database_url: str, backend: str, tmp_path: Path
) -> None:
    tenant = new_tenant()
    async with started(kv_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        created = await stub.CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name="kv", secret=SECRET)
        )
        path = _kv_path(tenant, created.id)
        assert openbao.api("GET", path)["data"]["data"] == {"value": SECRET}
        got = await stub.GetCredential(
            pb.GetCredentialRequest(
                tenant_id=tenant, credential_ref=created.credential_ref, access_reason="test"
            )
        )
        assert (got.value, got.version) == (SECRET, 1)
        assert _audited_reads(openbao, path) >= 1  # OpenBao's own audit log has the read

        rotated = await stub.RotateCredential(
            pb.RotateCredentialRequest(tenant_id=tenant, credential_id=created.id, secret=ROTATED)
        )
        assert rotated.version == 2
        got = await stub.GetCredential(
            pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
        )
        assert (got.value, got.version) == (ROTATED, 2)
        versions = openbao.api("GET", _kv_path(tenant, created.id, "metadata"))["data"]
        assert versions["current_version"] == 2
        assert await secrets_in_database(database_url, [SECRET, ROTATED]) == []

        # The service's access log records every access exactly as with the local store.
        events = await stub.ListCredentialAccessEvents(
            pb.ListCredentialAccessEventsRequest(tenant_id=tenant, credential_id=created.id)
        )
        kinds = [(e.kind, e.allowed) for e in events.events]
        assert kinds == [
            (pb.ACCESS_KIND_CREATE, True),
            (pb.ACCESS_KIND_REVEAL, True),
            (pb.ACCESS_KIND_ROTATE, True),
            (pb.ACCESS_KIND_REVEAL, True),
        ]
        assert events.events[1].access_reason == "test"

        deleted = await stub.DeleteCredential(
            pb.DeleteCredentialRequest(tenant_id=tenant, credential_id=created.id)
        )
        assert deleted.deleted
        with pytest.raises(RuntimeError, match="404"):
            openbao.api("GET", _kv_path(tenant, created.id, "metadata"))
        gone = await fails(
            stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
            )
        )
        assert gone.code is grpc.StatusCode.NOT_FOUND


async def test_concurrent_rotations_never_overwrite_each_other(
    openbao: OpenBaoServer, database_url: str, backend: str, tmp_path: Path
) -> None:
    tenant = new_tenant()
    async with started(kv_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        created = await stub.CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name="raced", secret=SECRET)
        )
        values = [register_secret(f"{ROTATED}-{i}") for i in range(8)]
        calls = [
            stub.RotateCredential(
                pb.RotateCredentialRequest(tenant_id=tenant, credential_id=created.id, secret=v)
            )
            for v in values
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        won = [v for v, r in zip(values, results, strict=True) if isinstance(r, pb.Credential)]
        lost = [r for r in results if not isinstance(r, pb.Credential)]
        assert won
        assert all(
            isinstance(r, grpc.aio.AioRpcError) and r.code() is grpc.StatusCode.ABORTED
            for r in lost
        )
        got = await stub.GetCredential(
            pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
        )
        assert got.version == 1 + len(won)
        assert got.value in won
        # Each KV write was check-and-set: at least one version per won rotation, none lost.
        versions = openbao.api("GET", _kv_path(tenant, created.id, "metadata"))["data"]
        assert versions["current_version"] >= got.version


async def test_tenants_are_isolated(
    openbao: OpenBaoServer, database_url: str, backend: str, tmp_path: Path
) -> None:
    tenant, other = new_tenant(), new_tenant()
    async with started(kv_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        mine = await stub.CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name="same", secret=SECRET)
        )
        theirs = await stub.CreateCredential(
            pb.CreateCredentialRequest(tenant_id=other, name="same", secret=ROTATED)
        )
        assert openbao.api("GET", _kv_path(tenant, mine.id))["data"]["data"]["value"] == SECRET
        assert openbao.api("GET", _kv_path(other, theirs.id))["data"]["data"]["value"] == ROTATED
        with pytest.raises(RuntimeError, match="404"):  # not under the other tenant's path
            openbao.api("GET", _kv_path(other, mine.id))
        refused = await fails(
            stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=other, credential_ref=mine.credential_ref)
            )
        )
        assert refused.code is grpc.StatusCode.NOT_FOUND
        assert SECRET not in refused.message


async def test_openbao_stopped_or_sealed_is_unavailable_quickly(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    tenant = new_tenant()
    with running_openbao(tmp_path / "bao") as bao:
        config = kv_config(database_url, bao, tmp_path, timeout_seconds=2.0)
        async with started(config, backend) as server:
            stub = _stub(server.channel)
            created = await stub.CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="outage", secret=SECRET)
            )
            get = pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)

            bao.seal()
            sealed = await fails(stub.GetCredential(get))
            assert sealed.code is grpc.StatusCode.UNAVAILABLE
            assert "OpenBao" in sealed.message and "sealed" in sealed.message
            assert sealed.reason == "KEY_SERVICE_SEALED"
            bao.unseal()
            assert (await stub.GetCredential(get)).value == SECRET

            bao.stop()
            began = time.monotonic()
            down = await fails(stub.GetCredential(get))
            assert time.monotonic() - began < 5
            assert down.code is grpc.StatusCode.UNAVAILABLE
            assert "secret store (OpenBao)" in down.message and SECRET not in down.message
            rotate = await fails(
                stub.RotateCredential(
                    pb.RotateCredentialRequest(
                        tenant_id=tenant, credential_id=created.id, secret=ROTATED
                    )
                )
            )
            assert rotate.code is grpc.StatusCode.UNAVAILABLE
            assert ROTATED not in rotate.message

            # The failed reveals are in the service's access log.
            events = await stub.ListCredentialAccessEvents(
                pb.ListCredentialAccessEventsRequest(tenant_id=tenant, credential_id=created.id)
            )
            failed = [e.detail for e in events.events if e.outcome == pb.ACCESS_OUTCOME_FAILED]
            assert failed == ["secret store unavailable"] * 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"secret_store_mount": "transit"}, "not KV version 2", id="transit"),
        pytest.param({"secret_store_mount": "nowhere"}, "'nowhere' does not exist", id="missing"),
        pytest.param({"address": "http://127.0.0.1:9"}, "unreachable", id="unreachable"),
    ],
)
async def test_start_is_refused_with_a_message(
    openbao: OpenBaoServer, tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/refused.db"
    with pytest.raises(OpenBaoStartError, match=message):
        await create_server(kv_config(url, openbao, tmp_path, **overrides))
