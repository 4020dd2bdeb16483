"""Where the credential service runs (in-process, or its own process reached by
--credentials-target), TLS and mutual TLS, rewrap after key rotation, and a scan for the
plaintext secrets the tests use."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from pathlib import Path

import grpc
import pytest

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from drivers.kernel import migrator
from drivers.kernel.database import Database
from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from service import cli
from service.bootstrap import create_server
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.certificates import pem_files, server_tls_options
from tests.service.secret_scan import secrets_in_database
from tests.service.servers import started
from tests.support import RunningServer, new_tenant, rich_error

SERVICE_TOKEN = register_secret("tok-main-service-7788")
PLAINTEXT = register_secret("sk-SCAN-ME-5a4b3c2d1e0f")


def _callers(path: Path) -> str:
    digest = hashlib.sha256(SERVICE_TOKEN.encode()).hexdigest()
    path.write_text(
        "callers:\n"
        f"  - {{name: main-service, token_sha256: {digest}, scopes: ['*'], tenants: '*'}}\n"
    )
    return str(path)


def _integration(tenant: str, ref: str) -> integrations_pb2.CreateIntegrationRequest:
    return integrations_pb2.CreateIntegrationRequest(
        tenant_id=tenant,
        integration=integrations_pb2.Integration(
            name=new_tenant(), provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
            credential_ref=ref,
        ),
    )


async def test_remote_credential_service(database_url: str, tmp_path: Path) -> None:
    auth = (("authorization", f"Bearer {SERVICE_TOKEN}"),)
    callers = _callers(tmp_path / "callers.yaml")
    vault = await create_server(serve_config(database_url, only="credentials", callers_file=callers))
    await vault.start()
    main = await create_server(
        serve_config(
            database_url,
            callers_file=callers,
            credentials_target=f"127.0.0.1:{vault.port}",
            credentials_token=SERVICE_TOKEN,
        )
    )
    await main.start()
    tenant = new_tenant()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{vault.port}") as to_vault, \
                grpc.aio.insecure_channel(f"127.0.0.1:{main.port}") as to_main:
            created = await credentials_pb2_grpc.CredentialServiceStub(to_vault).CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=PLAINTEXT),
                metadata=auth,
            )
            integrations = integrations_pb2_grpc.IntegrationsServiceStub(to_main)
            made = await integrations.CreateIntegration(
                _integration(tenant, created.credential_ref), metadata=auth
            )
            assert made.credential_ref == created.credential_ref
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await integrations.CreateIntegration(
                    _integration(tenant, f"cus-vault://{tenant}/{new_tenant()}"), metadata=auth
                )
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            # Each process serves only its part.
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await credentials_pb2_grpc.CredentialServiceStub(to_main).ListCredentials(
                    pb.ListCredentialsRequest(tenant_id=tenant), metadata=auth
                )
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await integrations_pb2_grpc.IntegrationsServiceStub(to_vault).ListIntegrations(
                    integrations_pb2.ListIntegrationsRequest(tenant_id=tenant), metadata=auth
                )
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
        # With the credential service gone, the check is UNAVAILABLE, never a silent accept.
        await vault.stop(0)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{main.port}") as to_main:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await integrations_pb2_grpc.IntegrationsServiceStub(to_main).CreateIntegration(
                    _integration(tenant, created.credential_ref), metadata=auth
                )
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await main.stop(0)
        await vault.stop(0)


async def test_tls(database_url: str, tmp_path: Path) -> None:
    pem = pem_files(tmp_path)
    config = serve_config(database_url, **server_tls_options(tmp_path, client_ca=False))
    app = await create_server(config)
    await app.start()
    target = f"127.0.0.1:{app.port}"
    tenant = new_tenant()
    try:
        async with grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(pem["ca.pem"])) as tls:
            sealed = await credentials_pb2_grpc.CredentialServiceStub(tls).EncryptCredential(
                pb.EncryptCredentialRequest(tenant_id=tenant, plaintext=PLAINTEXT)
            )
            assert sealed.credential_ref.startswith("encrypted://")
        async with grpc.aio.insecure_channel(target) as plain:  # plaintext to a TLS port
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await credentials_pb2_grpc.CredentialServiceStub(plain).ListCredentials(
                    pb.ListCredentialsRequest(tenant_id=tenant), timeout=5
                )
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await app.stop(0)


async def test_mutual_tls(database_url: str, tmp_path: Path) -> None:
    pem = pem_files(tmp_path)
    app = await create_server(
        serve_config(database_url, **server_tls_options(tmp_path, client_ca=True))
    )
    await app.start()
    target = f"127.0.0.1:{app.port}"
    tenant = new_tenant()
    try:
        with_cert = grpc.ssl_channel_credentials(pem["ca.pem"], pem["client.key"], pem["client.pem"])
        async with grpc.aio.secure_channel(target, with_cert) as channel:
            stub = credentials_pb2_grpc.CredentialServiceStub(channel)
            created = await stub.CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=PLAINTEXT)
            )
            # The in-process client still reaches the credential service.
            await integrations_pb2_grpc.IntegrationsServiceStub(channel).CreateIntegration(
                _integration(tenant, created.credential_ref)
            )
        without_cert = grpc.ssl_channel_credentials(pem["ca.pem"])
        async with grpc.aio.secure_channel(target, without_cert) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await credentials_pb2_grpc.CredentialServiceStub(channel).ListCredentials(
                    pb.ListCredentialsRequest(tenant_id=tenant), timeout=5
                )
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        async with grpc.aio.insecure_channel(target) as channel:
            with pytest.raises(grpc.aio.AioRpcError):
                await credentials_pb2_grpc.CredentialServiceStub(channel).ListCredentials(
                    pb.ListCredentialsRequest(tenant_id=tenant), timeout=5
                )
        # A main service using this one as its remote credential service, over mutual TLS.
        remote = serve_config(
            database_url,
            credentials_target=f"localhost:{app.port}",
            credentials_tls_ca=str(tmp_path / "ca.pem"),
            credentials_tls_cert=str(tmp_path / "client.pem"),
            credentials_tls_key=str(tmp_path / "client.key"),
        )
        async with started(remote) as main:
            made = await main.stub(integrations_pb2_grpc.IntegrationsServiceStub).CreateIntegration(
                _integration(tenant, created.credential_ref)
            )
            assert made.credential_ref == created.credential_ref
    finally:
        await app.stop(0)


def _key() -> str:
    return register_secret(base64.b64encode(os.urandom(32)).decode())


async def test_key_rotation_and_rewrap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/rewrap.db"
    database = Database(url)
    await migrator.upgrade(database)
    await database.dispose()
    old, new = f"1:{_key()}", f"2:{_key()}"
    tenant = new_tenant()

    def stub(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
        return server.stub(credentials_pb2_grpc.CredentialServiceStub)

    async with started(serve_config(url, master_keys=old)) as server:
        stored = await stub(server).CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=PLAINTEXT)
        )
        sealed = await stub(server).EncryptCredential(
            pb.EncryptCredentialRequest(tenant_id=tenant, plaintext="e")
        )

    async with started(serve_config(url, master_keys=f"{old},{new}")) as server:
        fresh = await stub(server).EncryptCredential(
            pb.EncryptCredentialRequest(tenant_id=tenant, plaintext="f")
        )
        assert (sealed.key_version, fresh.key_version) == (1, 2)
        for ref, value in ((sealed.credential_ref, "e"), (stored.credential_ref, PLAINTEXT)):
            got = await stub(server).GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref)
            )
            assert got.value == value

    monkeypatch.setenv("CREDENTIAL_MASTER_KEYS", f"{old},{new}")
    # The real command, in a thread because it runs its own event loop; it reconfigures
    # logging, so the test's handlers are put back afterwards.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert await asyncio.to_thread(cli.main, ["rewrap", "--database-url", url]) == 0
    finally:
        root.handlers[:], root.level = handlers, level
    report = capsys.readouterr().out
    assert "rewrapped 1 " in report and "version 2" in report and PLAINTEXT not in report

    async with started(serve_config(url, master_keys=new)) as server:  # the old key is gone
        looked = await stub(server).LookupCredential(
            pb.LookupCredentialRequest(tenant_id=tenant, credential_ref=stored.credential_ref)
        )
        assert looked.key_version == 2
        got = await stub(server).GetCredential(
            pb.GetCredentialRequest(tenant_id=tenant, credential_ref=stored.credential_ref)
        )
        assert got.value == PLAINTEXT
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub(server).GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=sealed.credential_ref)
            )
        assert rich_error(caught.value).code == grpc.StatusCode.NOT_FOUND


async def test_key_retirement_over_grpc_and_keys_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/retire.db"
    database = Database(url)
    await migrator.upgrade(database)
    await database.dispose()
    old, new = f"1:{_key()}", f"2:{_key()}"
    tenant = new_tenant()

    def stub(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
        return server.stub(credentials_pb2_grpc.CredentialServiceStub)

    async with started(serve_config(url, master_keys=old)) as server:
        stored = [await stub(server).CreateCredential(
            pb.CreateCredentialRequest(tenant_id=tenant, name=f"k{i}", secret=PLAINTEXT))
            for i in range(3)]
        sealed = await stub(server).EncryptCredential(
            pb.EncryptCredentialRequest(tenant_id=tenant, plaintext="e", context={"app": "x"}))

    monkeypatch.setenv("CREDENTIAL_MASTER_KEYS", f"{old},{new}")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        status = ["keys", "status", "--database-url", url, "--min-key-version", "2"]
        assert await asyncio.to_thread(cli.main, status) == 0
    finally:
        root.handlers[:], root.level = handlers, level
    report = capsys.readouterr().out
    assert "key version 1: 3 stored secret versions (retired: below --min-key-version)" in report
    assert PLAINTEXT not in report

    async with started(serve_config(url, master_keys=f"{old},{new}", min_key_version=2)) as server:
        reveal = pb.GetCredentialRequest(tenant_id=tenant, credential_ref=stored[0].credential_ref)
        retired = rich_error(await _fails(stub(server).GetCredential(reveal)))
        assert (retired.code, retired.reason) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                  "CREDENTIAL_KEY_RETIRED")
        progress = [p async for p in stub(server).RewrapCredentials(
            pb.RewrapCredentialsRequest(batch_size=2))]
        assert [(p.rewrapped, p.failed, p.key_version) for p in progress] == [(2, 0, 2), (3, 0, 2)]
        assert (await stub(server).GetCredential(reveal)).value == PLAINTEXT
        moved = await stub(server).RewrapCredentialRef(pb.RewrapCredentialRefRequest(
            tenant_id=tenant, credential_ref=sealed.credential_ref, context={"app": "x"}))
        assert moved.key_version == 2 and moved.credential_ref != sealed.credential_ref
        for ref, code in ((sealed.credential_ref, grpc.StatusCode.FAILED_PRECONDITION),
                          (moved.credential_ref, None)):
            call = stub(server).GetCredential(pb.GetCredentialRequest(
                tenant_id=tenant, credential_ref=ref, context={"app": "x"}))
            if code is None:
                assert (await call).value == "e"
            else:
                assert rich_error(await _fails(call)).reason == "CREDENTIAL_KEY_RETIRED"
        foreign = rich_error(await _fails(stub(server).RewrapCredentialRef(
            pb.RewrapCredentialRefRequest(tenant_id=new_tenant(), credential_ref=moved.credential_ref,
                                          context={"app": "x"}))))
        assert foreign.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ValueError, match="minimum key version 3"):
        await create_server(serve_config(url, master_keys=f"{old},{new}", min_key_version=3))


async def _fails(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_dev_key_file_and_production_refusal(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/dev.db"
    with pytest.raises(ValueError, match="--production needs a master key"):
        await create_server(serve_config(url, master_keys=None, production=True, allow_env_credentials=False))
    app = await create_server(serve_config(url, master_keys=None, apply_migrations=True))
    await app.stop(0)
    key_file = tmp_path / "dev.master.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o077 == 0


async def test_no_plaintext_in_database_log_or_responses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/scan.db"
    tenant, other = new_tenant(), new_tenant()
    responses: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with started(serve_config(url, apply_migrations=True)) as server:
            stub = server.stub(credentials_pb2_grpc.CredentialServiceStub)
            created = await stub.CreateCredential(
                pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=PLAINTEXT)
            )
            rotated = await stub.RotateCredential(
                pb.RotateCredentialRequest(
                    tenant_id=tenant, credential_id=created.id, secret=PLAINTEXT + "-v2"
                )
            )
            sealed = await stub.EncryptCredential(
                pb.EncryptCredentialRequest(tenant_id=tenant, plaintext=PLAINTEXT)
            )
            listed = await stub.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
            responses += [str(m) for m in (created, rotated, sealed, listed)]
            for who in (tenant, other):
                try:
                    await stub.GetCredential(
                        pb.GetCredentialRequest(tenant_id=who, credential_ref=created.credential_ref)
                    )
                except grpc.aio.AioRpcError as exc:
                    responses.append(f"{exc.details()} {exc.trailing_metadata()}")
            events = await stub.ListCredentialAccessEvents(
                pb.ListCredentialAccessEventsRequest(tenant_id=tenant)
            )
            responses.append(str(events))
            with pytest.raises(grpc.aio.AioRpcError) as caught:  # a raw key as a ref
                await stub.GetCredential(
                    pb.GetCredentialRequest(tenant_id=tenant, credential_ref=PLAINTEXT)
                )
            responses.append(f"{caught.value.details()} {caught.value.trailing_metadata()}")
    assert await secrets_in_database(url, [PLAINTEXT]) == []
    logged = "\n".join(
        f"{r.getMessage()} {json.dumps(getattr(r, 'rpc', {}), default=str)}" for r in caplog.records
    )
    assert "rpc " in logged and PLAINTEXT not in logged
    assert all(PLAINTEXT not in text for text in responses)
