"""Scopes of AdmissionService end to end: admission.admit for AdmitCall and SettleCall,
admission.read for GetUsageSummary and GetAdmissionPolicy, admission.write for the rest, the
caller's tenants, and credentials.reveal for a key in the AdmitCall answer (audited)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.admission_helpers import enabled_integration
from tests.service.servers import started
from tests.support import RunningServer, new_tenant, rich_error

KEY_ENV = "DEV_ADMISSION_SCOPES_PROVIDER_KEY"
PROVIDER_KEY = register_secret("sk-scopes-" + uuid.uuid4().hex)
TENANT = new_tenant()
SCOPES = {
    "admitter": ["admission.admit"],
    "revealer": ["admission.admit", "credentials.reveal"],
    "reader": ["admission.read"],
    "writer": ["admission.write"],
    "integrator": ["integrations.read", "integrations.write"],
    "admin": ["*"],
}
TOKENS = {name: register_secret(f"tok-{name}-{uuid.uuid4().hex}") for name in SCOPES}

Stub = admission_pb2_grpc.AdmissionServiceStub


def as_caller(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


@pytest.fixture
async def secured(
    database_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    monkeypatch.setenv(KEY_ENV, PROVIDER_KEY)
    callers = [
        {"name": name, "token_sha256": hashlib.sha256(TOKENS[name].encode()).hexdigest(),
         "scopes": scopes, "tenants": "*" if name == "admin" else [TENANT]}
        for name, scopes in SCOPES.items()
    ]
    path = tmp_path / "callers.json"
    path.write_text(json.dumps({"callers": callers}))
    async with started(serve_config(database_url, callers_file=str(path)), backend) as server:
        yield server


@pytest.fixture
async def integration(secured: RunningServer) -> str:
    return await enabled_integration(
        secured.stub(integrations_pb2_grpc.IntegrationsServiceStub), TENANT,
        credential_ref=f"env://{KEY_ENV}", metadata=as_caller("integrator"),
    )


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


Call = Callable[[Stub, str, tuple[tuple[str, str], ...]], Awaitable[object]]

RPCS: dict[str, tuple[str, Call]] = {
    "AdmitCall": ("admission.admit", lambda s, i, m: s.AdmitCall(
        pb.AdmitCallRequest(tenant_id=TENANT, integration_id=i, call_id=uuid.uuid4().hex),
        metadata=m)),
    "SettleCall": ("admission.admit", lambda s, i, m: s.SettleCall(
        pb.SettleCallRequest(tenant_id=TENANT, call_id="unknown"), metadata=m)),
    "RecordUsageBatch": ("admission.write", lambda s, i, m: s.RecordUsageBatch(
        pb.RecordUsageBatchRequest(tenant_id=TENANT, events=[
            pb.UsageEventInput(integration_id=i, call_id=uuid.uuid4().hex)]), metadata=m)),
    "GetUsageSummary": ("admission.read", lambda s, i, m: s.GetUsageSummary(
        pb.GetUsageSummaryRequest(tenant_id=TENANT), metadata=m)),
    "GetAdmissionPolicy": ("admission.read", lambda s, i, m: s.GetAdmissionPolicy(
        pb.GetAdmissionPolicyRequest(tenant_id=TENANT, integration_id=i), metadata=m)),
    "UpdateAdmissionPolicy": ("admission.write", lambda s, i, m: s.UpdateAdmissionPolicy(
        pb.UpdateAdmissionPolicyRequest(
            tenant_id=TENANT, policy=pb.AdmissionPolicy(integration_id=i)), metadata=m)),
    "ListLimitEvents": ("admission.read", lambda s, i, m: s.ListLimitEvents(
        pb.ListLimitEventsRequest(tenant_id=TENANT), metadata=m)),
    # A refused cursor ends the stream at once, after the scope check.
    "WatchLimitEvents": ("admission.read", lambda s, i, m: _drain(s.WatchLimitEvents(
        pb.WatchLimitEventsRequest(tenant_id=TENANT, resume_cursor="x"), metadata=m))),
}


@pytest.mark.parametrize("rpc", sorted(RPCS))
async def test_each_rpc_needs_its_scope(secured: RunningServer, integration: str, rpc: str) -> None:
    scope, call = RPCS[rpc]
    stub = secured.stub(Stub)
    for caller, scopes in SCOPES.items():
        try:
            await call(stub, integration, as_caller(caller))
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            error = rich_error(exc)
            code = error.code
            if code == grpc.StatusCode.PERMISSION_DENIED:
                assert error.metadata["required_scope"] == scope
        allowed = scope in scopes or "*" in scopes
        assert (code != grpc.StatusCode.PERMISSION_DENIED) == allowed, (caller, code)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(stub, integration, ())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_caller_acts_only_for_its_tenants(secured: RunningServer, integration: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await secured.stub(Stub).AdmitCall(
            pb.AdmitCallRequest(tenant_id=new_tenant(), integration_id=integration, call_id="x"),
            metadata=as_caller("admitter"),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_key_needs_credentials_reveal_and_the_reveal_is_audited(
    secured: RunningServer, integration: str
) -> None:
    stub = secured.stub(Stub)

    def request() -> pb.AdmitCallRequest:
        return pb.AdmitCallRequest(
            tenant_id=TENANT, integration_id=integration, call_id=uuid.uuid4().hex,
            include_credential=True,
        )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AdmitCall(request(), metadata=as_caller("admitter"))
    error = rich_error(caught.value)
    assert (error.code, error.metadata["required_scope"]) == (
        grpc.StatusCode.PERMISSION_DENIED, "credentials.reveal"
    )
    # Nothing was reserved for the refused call: the same admitter without the key is admitted
    # and sees no reservation but its own.
    plain = await stub.AdmitCall(
        pb.AdmitCallRequest(tenant_id=TENANT, integration_id=integration, call_id="plain"),
        metadata=as_caller("admitter"),
    )
    assert next(s for s in plain.limits if s.kind == pb.LIMIT_KIND_PARALLEL_CALLS).reserved == 1
    assert plain.target.credential == ""
    revealed = await stub.AdmitCall(request(), metadata=as_caller("revealer"))
    assert revealed.target.credential == PROVIDER_KEY
    log = await secured.stub(credentials_pb2_grpc.CredentialServiceStub).ListCredentialAccessEvents(
        credentials_pb2.ListCredentialAccessEventsRequest(tenant_id=TENANT),
        metadata=as_caller("admin"),
    )
    reveals = [e for e in log.events if e.credential_ref == f"env://{KEY_ENV}" and e.allowed]
    assert len(reveals) == 1
    assert "AdmitCall" in reveals[0].access_reason and "revealer" in reveals[0].access_reason
