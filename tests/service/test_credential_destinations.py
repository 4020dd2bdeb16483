"""Credentials bound to destinations, end to end on both backends: the service attaches a secret
to an outbound request (provider probe, connector test, SQL gateway) only when the target is among
the credential's allowed destinations, and every use lands in the owner's access log; plus the
oracles a cross-tenant or mangled ref must not open."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from integrations.v1 import (
    common_pb2,
    connectors_pb2,
    connectors_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
    sql_gateway_pb2_grpc,
)
from integrations.v1 import sql_gateway_pb2 as pb_sql
from service.convert import to_struct
from tests.conftest import serve_config
from tests.fake_provider import FakeProvider, fake_provider
from tests.loopback_targets import http_target
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import LOOPBACK_DESTINATIONS, fails
from tests.service.servers import started
from tests.support import RunningServer, new_tenant

SECRET = register_secret("sk-owner-" + uuid.uuid4().hex)
TOKENS = {
    name: register_secret(f"tok-{name}-{uuid.uuid4().hex[:12]}")
    for name in ("owner", "attacker", "admin")
}
TENANT = new_tenant()
TEST_CREDENTIALS = "/integrations.v1.IntegrationsService/TestCredentials"
DENIED = "CREDENTIAL_DESTINATION_DENIED"


def _callers(path: Path) -> Path:
    """The owner manages the tenant's credentials; the attacker may only write integrations and
    connectors of the same tenant (no credentials.* scope at all)."""
    def entry(name: str, scopes: list[str], tenants: Any) -> dict[str, Any]:
        digest = hashlib.sha256(TOKENS[name].encode()).hexdigest()
        return {"name": name, "token_sha256": digest, "scopes": scopes, "tenants": tenants}

    path.write_text(json.dumps({"callers": [
        entry("owner", ["credentials.write", "credentials.read"], [TENANT]),
        entry("attacker", ["integrations.read", "integrations.write", "connectors.read",
                           "connectors.write"], [TENANT]),
        entry("admin", ["*"], "*"),
    ]}))
    return path


def _as(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


@pytest.fixture
async def secured(database_url: str, backend: str, tmp_path: Path) -> AsyncIterator[RunningServer]:
    config = serve_config(database_url, callers_file=str(_callers(tmp_path / "callers.json")))
    async with started(config, backend) as server:
        yield server


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as running:
        yield running


def _vault(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
    return server.stub(credentials_pb2_grpc.CredentialServiceStub)


async def _create(server: RunningServer, tenant: str, *, caller: str = "owner",
                  **fields: Any) -> pb.Credential:
    fields.setdefault("name", f"key-{uuid.uuid4().hex[:8]}")
    fields.setdefault("secret", SECRET)
    return await _vault(server).CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, **fields), metadata=_as(caller)
    )


async def _events(server: RunningServer, credential_id: str) -> list[pb.CredentialAccessEvent]:
    """The owner's log of reveals and uses of one credential (the tenant is shared by every
    test here); lifecycle rows are left out."""
    reply = await _vault(server).ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(
            tenant_id=TENANT, credential_id=credential_id, page_size=100
        ),
        metadata=_as("admin"),
    )
    return [e for e in reply.events if e.kind in (pb.ACCESS_KIND_REVEAL, pb.ACCESS_KIND_USE)]


async def _custom_integration(server: RunningServer, ref: str, health_url: str) -> str:
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    created = await stub.CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=TENANT,
            integration=integrations_pb2.Integration(
                name=f"mine-{uuid.uuid4().hex[:6]}",
                provider_type=integrations_pb2.PROVIDER_TYPE_CUSTOM,
                credential_ref=ref,
                config=to_struct({"health_url": health_url}),
            ),
        ),
        metadata=_as("attacker"),
    )
    return str(created.id)


async def _test_credentials(server: RunningServer, integration_id: str) -> Any:
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    return await stub.TestCredentials(
        integrations_pb2.TestCredentialsRequest(tenant_id=TENANT, integration_id=integration_id),
        metadata=_as("attacker"),
    )


async def test_a_provider_key_is_not_sent_to_a_custom_health_url(
    secured: RunningServer, provider: FakeProvider
) -> None:
    """The attack: a caller without credentials.* points a CUSTOM integration at its own server
    and names the tenant's OpenAI key; its server must not receive the key."""
    key = await _create(secured, TENANT, provider="OPENAI")
    assert list(key.allowed_destinations) == ["api.openai.com:443"]
    attacker_url = provider.route("steal")
    integration_id = await _custom_integration(secured, key.credential_ref, attacker_url)

    refused = await fails(_test_credentials(secured, integration_id))
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION and refused.reason == DENIED
    assert f"127.0.0.1:{provider.port}" in refused.message and SECRET not in refused.message
    assert provider.requests == []  # not a single packet carried the key

    use = [e for e in await _events(secured, key.id) if e.kind == pb.ACCESS_KIND_USE]
    assert [(e.outcome, e.destination, e.rpc, e.credential_id) for e in use] == [
        (pb.ACCESS_OUTCOME_DENIED, f"127.0.0.1:{provider.port}", TEST_CREDENTIALS, key.id)
    ]
    assert "allowed destinations" in use[0].detail

    # Only a credentials.write caller can widen the destinations; then the probe gets the key.
    widen = pb.UpdateCredentialDestinationsRequest(
        tenant_id=TENANT, credential_id=key.id, allowed_destinations=["api.openai.com:443",
                                                                     "127.0.0.1"]
    )
    denied = await fails(_vault(secured).UpdateCredentialDestinations(widen, metadata=_as("attacker")))
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    updated = await _vault(secured).UpdateCredentialDestinations(widen, metadata=_as("owner"))
    assert list(updated.allowed_destinations) == ["api.openai.com:443", "127.0.0.1"]
    result = await _test_credentials(secured, integration_id)
    assert result.health_state == common_pb2.HEALTH_STATE_HEALTHY
    assert provider.seen("steal")[0].headers["authorization"] == f"Bearer {SECRET}"
    last = (await _events(secured, key.id))[-1]
    assert (last.kind, last.outcome, last.destination, last.rpc) == (
        pb.ACCESS_KIND_USE, pb.ACCESS_OUTCOME_ALLOWED, f"127.0.0.1:{provider.port}",
        TEST_CREDENTIALS,
    )


async def test_an_encrypted_ref_goes_only_where_it_was_sealed_for(
    secured: RunningServer, provider: FakeProvider
) -> None:
    vault = _vault(secured)
    unbound = await vault.EncryptCredential(
        pb.EncryptCredentialRequest(tenant_id=TENANT, plaintext=SECRET), metadata=_as("admin")
    )
    bound = await vault.EncryptCredential(
        pb.EncryptCredentialRequest(
            tenant_id=TENANT, plaintext=SECRET, allowed_destinations=["127.0.0.1"]
        ),
        metadata=_as("admin"),
    )
    assert bound.credential_ref.startswith("encrypted://v2/")
    url = provider.route("probe")
    refused = await fails(
        _test_credentials(secured, await _custom_integration(secured, unbound.credential_ref, url))
    )
    assert refused.reason == DENIED and provider.requests == []
    await _test_credentials(secured, await _custom_integration(secured, bound.credential_ref, url))
    assert provider.seen("probe")[0].headers["authorization"] == f"Bearer {SECRET}"
    # Relabelling a bound ref as v1 (to shed its destinations) makes it name nothing.
    relabelled = bound.credential_ref.replace("encrypted://v2/", "encrypted://v1/")
    revealed = await fails(vault.GetCredential(
        pb.GetCredentialRequest(tenant_id=TENANT, credential_ref=relabelled), metadata=_as("admin")
    ))
    assert revealed.code == grpc.StatusCode.NOT_FOUND


async def test_a_connector_bearer_token_is_not_sent_to_another_host(
    secured: RunningServer
) -> None:
    key = await _create(secured, TENANT, allowed_destinations=["crm.example.com:443"])
    stub = secured.stub(connectors_pb2_grpc.ConnectorsServiceStub)
    async with http_target(200) as target:
        created = await stub.RegisterConnector(
            connectors_pb2.RegisterConnectorRequest(
                tenant_id=TENANT,
                connector=connectors_pb2.Connector(
                    name="crm", connector_type=connectors_pb2.CONNECTOR_TYPE_HTTP,
                    endpoint=target.url, credential_ref=key.credential_ref,
                ),
            ),
            metadata=_as("attacker"),
        )
        refused = await fails(stub.TestConnector(
            connectors_pb2.TestConnectorRequest(tenant_id=TENANT, connector_id=created.id),
            metadata=_as("attacker"),
        ))
        assert refused.code == grpc.StatusCode.FAILED_PRECONDITION and refused.reason == DENIED
        assert target.requests == []
    unchanged = await stub.GetConnector(
        connectors_pb2.GetConnectorRequest(tenant_id=TENANT, connector_id=created.id),
        metadata=_as("attacker"),
    )
    assert unchanged.status == created.status and unchanged.etag == created.etag
    last = (await _events(secured, key.id))[-1]
    assert (last.kind, last.outcome, last.destination, last.rpc) == (
        pb.ACCESS_KIND_USE, pb.ACCESS_OUTCOME_DENIED, target.address,
        "/integrations.v1.ConnectorsService/TestConnector",
    )


_DENIED_THERE = (grpc.StatusCode.FAILED_PRECONDITION, DENIED)


@pytest.mark.parametrize(
    ("dsn", "refusal"),
    [
        pytest.param("postgresql://app:pw@127.0.0.1:5432/service", _DENIED_THERE, id="other-host"),
        pytest.param("postgresql://app:pw@db.example.com:6543/x", _DENIED_THERE, id="other-port"),
        pytest.param(
            "postgresql://app:pw@db.example.com:5432/x?host=127.0.0.1", _DENIED_THERE,
            id="query-host",
        ),
        pytest.param(
            "postgresql://app:pw@db.example.com,127.0.0.1/x", _DENIED_THERE, id="second-host"
        ),
        # Its destination cannot be read at all: a bad argument, and nothing is sent.
        pytest.param(
            "host=db.example.com password=pw",
            (grpc.StatusCode.INVALID_ARGUMENT, "CONNECTION_STRING_INVALID"),
            id="not-a-url",
        ),
    ],
)
async def test_a_gateway_connects_only_to_an_allowed_database(
    server: RunningServer, tenant: str, dsn: str, refusal: tuple[grpc.StatusCode, str]
) -> None:
    """The destination of a connection string is the host:port inside it."""
    vault = _vault(server)
    created = await vault.CreateCredential(pb.CreateCredentialRequest(
        tenant_id=tenant, name="dsn", secret=register_secret(dsn),
        allowed_destinations=["db.example.com:5432"],
    ))
    stub = server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)
    await stub.CreateQueryTemplate(pb_sql.CreateQueryTemplateRequest(
        tenant_id=tenant,
        template=pb_sql.QueryTemplate(id="one", name="one", sql="SELECT 1", read_only=True),
    ))
    gateway = await stub.CreateGateway(pb_sql.CreateGatewayRequest(
        tenant_id=tenant,
        gateway=pb_sql.Gateway(name="g", connection_string_ref=created.credential_ref,
                               allowed_template_ids=["one"]),
    ))
    refused = await fails(stub.ExecuteQuery(
        pb_sql.ExecuteQueryRequest(tenant_id=tenant, gateway_id=gateway.id, template_id="one")
    ))
    assert (refused.code, refused.reason) == refusal
    assert "pw" not in refused.message
    events = (await vault.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=tenant)
    )).events
    assert [(e.kind, e.outcome, e.rpc) for e in events if e.kind != pb.ACCESS_KIND_CREATE] == [
        (pb.ACCESS_KIND_USE, pb.ACCESS_OUTCOME_DENIED,
         "/integrations.v1.SqlGatewayService/ExecuteQuery")
    ]


async def test_destinations_are_checked_and_provider_defaults_named(
    server: RunningServer, tenant: str
) -> None:
    vault = _vault(server)
    bad = await fails(vault.CreateCredential(pb.CreateCredentialRequest(
        tenant_id=tenant, name="k", secret="s",
        allowed_destinations=["https://api.openai.com/v1", "api.openai.com:99999", "ok.example"],
    )))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(bad.field_violations) == ["allowed_destinations[0]", "allowed_destinations[1]"]
    custom = await fails(vault.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret="s", provider="CUSTOM")
    ))
    assert "official" in custom.field_violations["provider"]
    azure = await vault.CreateCredential(pb.CreateCredentialRequest(
        tenant_id=tenant, name="az", secret="s", provider="PROVIDER_TYPE_AZURE_OPENAI"
    ))
    assert list(azure.allowed_destinations) == ["*.openai.azure.com:443"]
    normalised = await vault.UpdateCredentialDestinations(pb.UpdateCredentialDestinationsRequest(
        tenant_id=tenant, credential_id=azure.id,
        allowed_destinations=["DB.Example.COM.", "[::1]:5432", "db.example.com"],
    ))
    assert list(normalised.allowed_destinations) == ["db.example.com", "[::1]:5432"]
    looked_up = await vault.LookupCredential(
        pb.LookupCredentialRequest(tenant_id=tenant, credential_ref=azure.id)
    )
    assert list(looked_up.allowed_destinations) == ["db.example.com", "[::1]:5432"]
    # Another tenant's credential is not there to change.
    other = await fails(vault.UpdateCredentialDestinations(pb.UpdateCredentialDestinationsRequest(
        tenant_id=new_tenant(), credential_id=azure.id, allowed_destinations=["evil.example"]
    )))
    assert other.code == grpc.StatusCode.NOT_FOUND


async def test_a_cross_tenant_ref_reads_like_a_random_one_in_the_callers_log(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    vault = _vault(server)
    existing = await vault.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=SECRET)
    )
    random_ref = f"cus-vault://{tenant}/{uuid.uuid4()}"
    answers = []
    for ref in (existing.credential_ref, random_ref):
        refused = await fails(vault.GetCredential(
            pb.GetCredentialRequest(tenant_id=other_tenant, credential_ref=ref)
        ))
        answers.append((refused.code, refused.message.replace(ref.rsplit("/", 1)[1], "ID")))
    assert answers[0] == answers[1] and answers[0][0] == grpc.StatusCode.NOT_FOUND

    def shape(event: pb.CredentialAccessEvent) -> tuple[Any, ...]:
        return (event.tenant_id, event.outcome, event.detail, event.kind, event.allowed,
                event.requester_tenant_id)

    mine = (await vault.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=other_tenant)
    )).events
    assert len(mine) == 2 and shape(mine[0]) == shape(mine[1])
    owners = (await vault.ListCredentialAccessEvents(
        pb.ListCredentialAccessEventsRequest(tenant_id=tenant)
    )).events
    assert [(e.outcome, e.requester_tenant_id) for e in owners
            if e.kind != pb.ACCESS_KIND_CREATE] == [
        (pb.ACCESS_OUTCOME_DENIED, other_tenant)
    ]


def _mangled(ref: str) -> list[str]:
    body_at = len(ref) - 10
    flipped = "A" if ref[body_at] != "A" else "B"
    return [ref + "\n", ref + " ", " " + ref, ref + "A", ref[:-1],
            ref[:body_at] + flipped + ref[body_at + 1:], ref[:14] + ref[14:].upper()]


async def test_any_changed_character_of_a_ref_names_nothing(
    server: RunningServer, tenant: str
) -> None:
    vault = _vault(server)
    sealed = await vault.EncryptCredential(pb.EncryptCredentialRequest(tenant_id=tenant, plaintext=SECRET))
    stored = await vault.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name="k", secret=SECRET)
    )
    for ref in (sealed.credential_ref, stored.credential_ref):
        got = await vault.GetCredential(pb.GetCredentialRequest(tenant_id=tenant, credential_ref=ref))
        assert got.value == SECRET
        for variant in _mangled(ref):
            refused = await fails(vault.GetCredential(
                pb.GetCredentialRequest(tenant_id=tenant, credential_ref=variant)
            ))
            assert refused.code == grpc.StatusCode.NOT_FOUND, repr(variant)


async def test_a_gateway_refuses_another_tenants_ref(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    theirs = await _vault(server).CreateCredential(pb.CreateCredentialRequest(
        tenant_id=other_tenant, name="dsn", secret="postgresql://u:p@127.0.0.1/x",
        allowed_destinations=list(LOOPBACK_DESTINATIONS),
    ))
    stub = server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)
    refused = await fails(stub.CreateGateway(pb_sql.CreateGatewayRequest(
        tenant_id=tenant,
        gateway=pb_sql.Gateway(name="g", connection_string_ref=theirs.credential_ref),
    )))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "names no credential of this tenant" in refused.field_violations[
        "gateway.connection_string_ref"
    ]
    listed = await stub.ListGateways(pb_sql.ListGatewaysRequest(tenant_id=tenant))
    assert list(listed.gateways) == []


async def test_a_create_replayed_after_delete_says_it_was_deleted(
    server: RunningServer, tenant: str
) -> None:
    vault = _vault(server)
    request = pb.CreateCredentialRequest(
        tenant_id=tenant, name="once", secret=SECRET, request_id="req-1"
    )
    created = await vault.CreateCredential(request)
    await vault.DeleteCredential(
        pb.DeleteCredentialRequest(tenant_id=tenant, credential_id=created.id)
    )
    replay = await fails(vault.CreateCredential(request))
    assert replay.code == grpc.StatusCode.NOT_FOUND
    assert "deleted" in replay.message and "already exists" not in replay.message
    listed = await vault.ListCredentials(pb.ListCredentialsRequest(tenant_id=tenant))
    assert list(listed.credentials) == []


async def test_only_the_service_may_use_a_credential(secured: RunningServer) -> None:
    """UseCredential needs credentials.use, which only the service's internal caller holds; a
    caller that tries is refused and the attempt is in the owner's log as a denied use."""
    key = await _create(secured, TENANT, allowed_destinations=["127.0.0.1"])
    for caller in ("attacker", "owner"):
        refused = await fails(_vault(secured).UseCredential(
            pb.UseCredentialRequest(tenant_id=TENANT, credential_ref=key.credential_ref,
                                    destination="127.0.0.1:443", rpc="/x.v1.X/Steal"),
            metadata=_as(caller),
        ))
        assert refused.code == grpc.StatusCode.PERMISSION_DENIED and SECRET not in refused.message
    events = await _events(secured, key.id)
    assert [(e.kind, e.outcome, e.caller) for e in events] == [
        (pb.ACCESS_KIND_USE, pb.ACCESS_OUTCOME_DENIED, "attacker"),
        (pb.ACCESS_KIND_USE, pb.ACCESS_OUTCOME_DENIED, "owner"),
    ]
