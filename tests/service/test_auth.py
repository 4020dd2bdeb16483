"""Caller authentication end to end: tokens, scopes, tenants, open methods, log lines, and the
loopback rule for servers without a caller file."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from service.bootstrap import create_server
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.support import RunningServer, new_tenant, rich_error

TOKENS = {
    name: register_secret(token)
    for name, token in {"gateway": "tok-gateway-0123", "reader": "tok-reader-4567",
                        "admin": "tok-admin-89ab"}.items()
}
GATEWAY_TENANT = new_tenant()


def write_callers(path: Path) -> Path:
    """A caller file with a tenant-bound gateway, a read-only reader and an admin."""
    def digest(name: str) -> str:
        return hashlib.sha256(TOKENS[name].encode()).hexdigest()

    document = {
        "callers": [
            {
                "name": "gateway",
                "token_sha256": digest("gateway"),
                "scopes": [
                    "integrations.read", "integrations.write", "credentials.encrypt",
                    "credentials.manage",
                ],
                "tenants": [GATEWAY_TENANT],
            },
            {"name": "reader", "token_sha256": digest("reader"),
             "scopes": ["integrations.read"], "tenants": "*"},
            {"name": "admin", "token_sha256": digest("admin"), "scopes": ["*"], "tenants": ["*"]},
        ]
    }
    path.write_text(json.dumps(document))
    return path


def as_caller(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


@pytest.fixture
async def secured(
    database_url: str, backend: str, tmp_path: Path
) -> AsyncIterator[RunningServer]:
    callers = write_callers(tmp_path / "callers.json")
    async with started(serve_config(database_url, callers_file=str(callers)), backend) as server:
        yield server


def _list(tenant: str) -> integrations_pb2.ListIntegrationsRequest:
    return integrations_pb2.ListIntegrationsRequest(tenant_id=tenant)


async def _code(call: object) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    err = rich_error(caught.value)
    return err.code, err.message, err.metadata


async def test_missing_or_bad_token_is_unauthenticated(secured: RunningServer) -> None:
    stub = secured.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    tenant = new_tenant()
    outcomes = [
        await _code(stub.ListIntegrations(_list(tenant))),
        await _code(stub.ListIntegrations(_list(tenant), metadata=(("authorization", "Bearer nope"),))),
        await _code(stub.ListIntegrations(_list(tenant), metadata=(("authorization", TOKENS["admin"]),))),
    ]
    assert {code for code, _, _ in outcomes} == {grpc.StatusCode.UNAUTHENTICATED}
    assert len({message for _, message, _ in outcomes}) == 1


async def test_health_and_reflection_need_no_token(secured: RunningServer) -> None:
    health = secured.stub(health_pb2_grpc.HealthStub)
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == (
        health_pb2.HealthCheckResponse.SERVING
    )
    reflection = secured.stub(reflection_pb2_grpc.ServerReflectionStub)
    call = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = [s.name async for reply in call for s in reply.list_services_response.service]
    assert "credentials.v1.CredentialService" in names


async def test_scopes_and_tenants(secured: RunningServer) -> None:
    stub = secured.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    other = new_tenant()
    await stub.ListIntegrations(_list(other), metadata=as_caller("reader"))
    await stub.ListIntegrations(_list(GATEWAY_TENANT), metadata=as_caller("gateway"))
    await stub.ListIntegrations(_list(other), metadata=as_caller("admin"))

    create = integrations_pb2.CreateIntegrationRequest(
        tenant_id=other,
        integration=integrations_pb2.Integration(
            name="x", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI, credential_ref="env://X"
        ),
    )
    code, message, metadata = await _code(stub.CreateIntegration(create, metadata=as_caller("reader")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert metadata["required_scope"] == "integrations.write" and "reader" in message
    code, message, _ = await _code(stub.ListIntegrations(_list(other), metadata=as_caller("gateway")))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "tenant" in message
    listed = await stub.ListIntegrations(_list(other), metadata=as_caller("admin"))
    assert listed.total_size == 0  # the refused create wrote nothing


async def test_refused_reveal_is_in_the_access_log(secured: RunningServer) -> None:
    stub = secured.stub(credentials_pb2_grpc.CredentialServiceStub)
    created = await stub.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=GATEWAY_TENANT, name=new_tenant(), secret="s3cr3t"),
        metadata=as_caller("gateway"),
    )
    assert created.created_by == "gateway"
    reveal = pb.GetCredentialRequest(
        tenant_id=GATEWAY_TENANT, credential_ref=created.credential_ref, access_reason="why not"
    )
    code, _, metadata = await _code(stub.GetCredential(reveal, metadata=as_caller("gateway")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert metadata["required_scope"] == "credentials.reveal"
    revealed = await stub.GetCredential(reveal, metadata=as_caller("admin"))
    assert revealed.value == "s3cr3t"
    events = await stub.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=GATEWAY_TENANT, credential_id=created.id),
        metadata=as_caller("admin"),
    )
    attempts = [e for e in events.events if e.kind != pb.ACCESS_KIND_CREATE]
    assert [(e.caller, e.outcome, e.access_reason) for e in attempts] == [
        ("gateway", pb.ACCESS_OUTCOME_DENIED, "why not"),
        ("admin", pb.ACCESS_OUTCOME_ALLOWED, "why not"),
    ]


async def test_refused_lifecycle_changes_are_in_the_access_log(secured: RunningServer) -> None:
    stub = secured.stub(credentials_pb2_grpc.CredentialServiceStub)
    created = await stub.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=GATEWAY_TENANT, name=new_tenant(), secret="s3cr3t",
                                   access_reason="setup"),
        metadata=as_caller("gateway"),
    )
    target = {"tenant_id": GATEWAY_TENANT, "credential_id": created.id, "access_reason": "try"}
    for call in (
        stub.RotateCredential(pb.RotateCredentialRequest(**target, secret="x"),
                              metadata=as_caller("reader")),
        stub.DeleteCredential(pb.DeleteCredentialRequest(**target), metadata=as_caller("reader")),
    ):
        code, _, _ = await _code(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED
    events = await stub.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=GATEWAY_TENANT, credential_id=created.id),
        metadata=as_caller("admin"),
    )
    logged = [(e.kind, e.caller, e.outcome, e.access_reason) for e in events.events]
    assert logged[0] == (pb.ACCESS_KIND_CREATE, "gateway", pb.ACCESS_OUTCOME_ALLOWED, "setup")
    assert sorted(logged[1:]) == [  # two refusals in the same instant may share a timestamp
        (pb.ACCESS_KIND_ROTATE, "reader", pb.ACCESS_OUTCOME_DENIED, "try"),
        (pb.ACCESS_KIND_DELETE, "reader", pb.ACCESS_OUTCOME_DENIED, "try"),
    ]
    reveal = pb.GetCredentialRequest(tenant_id=GATEWAY_TENANT, credential_ref=created.credential_ref)
    assert (await stub.GetCredential(reveal, metadata=as_caller("admin"))).value == "s3cr3t"


async def test_in_process_client_has_its_own_identity(secured: RunningServer) -> None:
    credentials = secured.stub(credentials_pb2_grpc.CredentialServiceStub)
    integrations = secured.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    created = await credentials.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=GATEWAY_TENANT, name=new_tenant(), secret="k"),
        metadata=as_caller("gateway"),
    )
    integration = await integrations.CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=GATEWAY_TENANT,
            integration=integrations_pb2.Integration(
                name=new_tenant(), provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref=created.credential_ref,
            ),
        ),
        metadata=as_caller("gateway"),
    )
    assert integration.created_by == "gateway"


async def test_log_lines_name_the_caller_never_the_token(
    secured: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    stub = secured.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    with caplog.at_level(logging.DEBUG):
        await stub.ListIntegrations(_list(new_tenant()), metadata=as_caller("reader"))
        await _code(stub.ListIntegrations(_list(new_tenant())))
    rpc_lines = [r for r in caplog.records if getattr(r, "rpc", None)]
    assert [r.rpc["caller"] for r in rpc_lines] == ["reader", "anonymous"]  # type: ignore[attr-defined]
    everything = "\n".join(f"{r.getMessage()} {getattr(r, 'rpc', '')}" for r in caplog.records)
    assert not any(token in everything for token in TOKENS.values())


async def test_without_caller_file_only_loopback_may_be_bound(database_url: str) -> None:
    with pytest.raises(ValueError, match="--callers"):
        await create_server(serve_config(database_url, listen="0.0.0.0:0"))


async def test_rewrap_rpcs_need_their_scopes(secured: RunningServer) -> None:
    stub = secured.stub(credentials_pb2_grpc.CredentialServiceStub)
    sealed = await stub.EncryptCredential(
        pb.EncryptCredentialRequest(tenant_id=GATEWAY_TENANT, plaintext="p"),
        metadata=as_caller("gateway"),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.RewrapCredentials(pb.RewrapCredentialsRequest(),
                                              metadata=as_caller("gateway")):
            pass
    refused = rich_error(caught.value)
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.metadata["required_scope"] == "credentials.admin"
    progress = [p async for p in stub.RewrapCredentials(pb.RewrapCredentialsRequest(),
                                                        metadata=as_caller("admin"))]
    # The session's shared database holds other tests' secrets, sealed under other keyrings,
    # so only the stream's shape is this test's to check: it ends with the key in use.
    assert progress and progress[-1].key_version >= 1
    request = pb.RewrapCredentialRefRequest(tenant_id=GATEWAY_TENANT,
                                            credential_ref=sealed.credential_ref)
    code, _, metadata = await _code(stub.RewrapCredentialRef(request, metadata=as_caller("reader")))
    assert code == grpc.StatusCode.PERMISSION_DENIED and metadata["required_scope"] == "credentials.encrypt"
    moved = await stub.RewrapCredentialRef(request, metadata=as_caller("gateway"))
    assert moved.credential_ref.startswith("encrypted://")
    other = pb.RewrapCredentialRefRequest(tenant_id=new_tenant(), credential_ref=sealed.credential_ref)
    code, _, _ = await _code(stub.RewrapCredentialRef(other, metadata=as_caller("gateway")))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # not a tenant it may act for
