"""CredentialService with `--kms openbao` end to end through the real server and a real OpenBao,
on both backends: envelope sealing, no OpenBao call per reveal, tenant isolation, start refused,
and the `keys migrate-to-openbao` / `migrate-to-local` commands both ways."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from drivers.credentials.openbao_client import OpenBaoStartError
from service.bootstrap import create_server
from tests.conftest import serve_config
from tests.openbao import OpenBaoServer, openbao_settings
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import fails
from tests.service.secret_scan import secrets_in_database
from tests.service.servers import started
from tests.support import new_tenant, rich_error

ROOT = Path(__file__).resolve().parents[2]
SECRET = register_secret("sk-openbao-PLAINTEXT-51c0ffee")


def _stub(channel: grpc.aio.Channel) -> credentials_pb2_grpc.CredentialServiceStub:
    return credentials_pb2_grpc.CredentialServiceStub(channel)


def _transit_calls(server: OpenBaoServer, operation: str) -> int:
    """How many `<operation>` requests OpenBao's file audit device has logged."""
    lines = server.audit_log.read_text().splitlines()
    return sum(
        1
        for line in lines
        if json.loads(line).get("type") == "request"
        and json.loads(line)["request"].get("path", "").startswith(f"transit/{operation}/")
    )


def openbao_config(database_url: str, server: OpenBaoServer, workdir: Path, **kw: Any) -> Any:
    settings = openbao_settings(server, workdir, **kw)
    return serve_config(database_url, kms="openbao", openbao=settings, master_keys=None)


async def test_stored_and_encrypted_secrets_round_trip_without_a_call_per_reveal(
    openbao: OpenBaoServer, database_url: str, backend: str, tmp_path: Path
) -> None:
    tenant, other = new_tenant(), new_tenant()
    async with started(openbao_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        created = await stub.CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=SECRET)
        )
        assert created.key_version == 0  # the tenant's data key, not a master key version
        sealed = await stub.EncryptCredential(
            pb.EncryptCredentialRequest(tenant_id=tenant, plaintext=SECRET)
        )
        assert sealed.credential_ref.startswith("encrypted://v1/0/")
        decrypts = _transit_calls(openbao, "decrypt")
        for _ in range(30):
            for ref in (created.credential_ref, sealed.credential_ref):
                got = await stub.GetCredential(
                    pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)
                )
                assert got.value == SECRET
        assert _transit_calls(openbao, "decrypt") == decrypts  # data key kept in memory
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=other, credential_ref=sealed.credential_ref)
            )
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND

    # A restarted service unwraps the stored data key once, through OpenBao.
    async with started(openbao_config(database_url, openbao, tmp_path), backend) as server:
        got = await _stub(server.channel).GetCredential(
            pb.GetCredentialRequest(tenant_id=tenant, credential_ref=created.credential_ref)
        )
        assert got.value == SECRET
    assert _transit_calls(openbao, "decrypt") == decrypts + 1
    assert await secrets_in_database(database_url, [SECRET]) == []
    assert SECRET not in openbao.audit_log.read_text()


async def test_bound_refs_and_request_ids_work_under_data_keys(
    openbao: OpenBaoServer, database_url: str, backend: str, tmp_path: Path
) -> None:
    """A v2 ref (secret and destinations sealed together) under a tenant's data key is used only
    towards its destinations, and a create's request digest is keyed by that data key: a replay
    answers the first create, also after a restart, and another secret is REQUEST_ID_REUSED."""
    tenant = new_tenant()
    create = pb.CreateCredentialRequest(
        tenant_id=tenant, name="k", secret=SECRET, request_id="req-openbao"
    )
    async with started(openbao_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        bound = await stub.EncryptCredential(
            pb.EncryptCredentialRequest(
                tenant_id=tenant, plaintext=SECRET, allowed_destinations=["db.example.com"]
            )
        )
        assert bound.credential_ref.startswith("encrypted://v2/0/") and bound.key_version == 0
        used = await stub.UseCredential(
            pb.UseCredentialRequest(tenant_id=tenant, credential_ref=bound.credential_ref,
                                    destination="db.example.com:5432", rpc="/x.v1.X/Y")
        )
        assert used.value == SECRET
        refused = await fails(stub.UseCredential(
            pb.UseCredentialRequest(tenant_id=tenant, credential_ref=bound.credential_ref,
                                    destination="evil.example:5432", rpc="/x.v1.X/Y")
        ))
        assert (refused.code, refused.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION, "CREDENTIAL_DESTINATION_DENIED"
        )
        relabelled = bound.credential_ref.replace("encrypted://v2/", "encrypted://v1/")
        missing = await fails(
            stub.GetCredential(pb.GetCredentialRequest(tenant_id=tenant, credential_ref=relabelled))
        )
        assert missing.code == grpc.StatusCode.NOT_FOUND
        first = await stub.CreateCredential(create)
    async with started(openbao_config(database_url, openbao, tmp_path), backend) as server:
        stub = _stub(server.channel)
        assert (await stub.CreateCredential(create)).id == first.id
        create.secret = SECRET + "-other"
        reused = await fails(stub.CreateCredential(create))
        assert (reused.code, reused.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION, "REQUEST_ID_REUSED"
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"key_name": "typo"}, "transit key 'typo' on mount 'transit'", id="key"),
        pytest.param({"address": "http://127.0.0.1:9"}, "unreachable", id="unreachable"),
    ],
)
async def test_start_is_refused_with_a_message(
    openbao: OpenBaoServer, tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/refused.db"
    with pytest.raises(OpenBaoStartError, match=message):
        await create_server(openbao_config(url, openbao, tmp_path, **overrides))


def _cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Runs `integrations-service ARGS` as a process: exit code and standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "--log-level", "WARNING", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert SECRET not in done.stdout + done.stderr
    return done.returncode, done.stdout


async def test_migrate_to_openbao_and_back_reseals_every_stored_secret(
    openbao: OpenBaoServer, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/migrate.db"
    keys = "1:" + register_secret(base64.b64encode(os.urandom(32)).decode())
    tenants = [new_tenant() for _ in range(3)]
    local = serve_config(url, apply_migrations=True, master_keys=keys)
    async with started(local) as server:
        stub = _stub(server.channel)
        refs = [
            (
                await stub.CreateCredential(
                    pb.CreateCredentialRequest(tenant_id=t, name=f"k{i}", secret=f"{SECRET}-{i}")
                )
            ).credential_ref
            for i, t in enumerate(tenants)
        ]
    settings = openbao_settings(openbao, tmp_path)
    flags = [
        "--database-url", url, "--kms", "openbao", "--openbao-address", settings.address,
        "--openbao-token-file", str(settings.token_file),
    ]
    env = {"CREDENTIAL_MASTER_KEYS": keys}

    code, out = await asyncio.to_thread(_cli, "keys", "migrate-to-openbao", *flags, env=env)
    assert code == 0 and "re-sealed 3 stored credential secrets under OpenBao" in out

    # Served by OpenBao alone (no master key on the host): every secret opens.
    async with started(openbao_config(url, openbao, tmp_path)) as server:
        stub = _stub(server.channel)
        for i, (tenant, ref) in enumerate(zip(tenants, refs, strict=True)):
            got = await stub.GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)
            )
            assert got.value == f"{SECRET}-{i}" and got.version == 1
    code, out = await asyncio.to_thread(_cli, "keys", "migrate-to-openbao", *flags, env=env)
    assert code == 0 and "re-sealed 0 stored" in out  # nothing left to move

    code, out = await asyncio.to_thread(_cli, "keys", "migrate-to-local", *flags, env=env)
    assert code == 0 and "re-sealed 3 stored credential secrets under master key version 1" in out
    async with started(local) as server:
        for i, (tenant, ref) in enumerate(zip(tenants, refs, strict=True)):
            got = await _stub(server.channel).GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)
            )
            assert got.value == f"{SECRET}-{i}"


async def test_local_secrets_unreadable_under_openbao_alone_say_so(
    openbao: OpenBaoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/unmigrated.db"
    tenant = new_tenant()
    async with started(serve_config(url, apply_migrations=True)) as server:
        ref = (
            await _stub(server.channel).CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=SECRET)
            )
        ).credential_ref
    await _store_one_under_openbao(url, openbao, tmp_path)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="integrations.credentials"):
        async with started(openbao_config(url, openbao, tmp_path)) as server:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _stub(server.channel).GetCredential(
                    pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)
                )
    # The start-up check names the local secrets, and the data-key-sealed one opens.
    (loud,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "1 sealed under master key version 1: no configured master key has version 1" in loud
    assert "key version 0" not in loud
    error = rich_error(caught.value)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MASTER_KEY_UNAVAILABLE")


async def _store_one_under_openbao(url: str, openbao: OpenBaoServer, workdir: Path) -> None:
    """Stores one secret under a tenant's OpenBao data key."""
    async with started(openbao_config(url, openbao, workdir)) as server:
        await _stub(server.channel).CreateCredential(
            pb.CreateCredentialRequest(tenant_id=new_tenant(), name="k", secret=SECRET)
        )
