"""Idempotency per AIP-155 on every create RPC that takes a request_id, on both backends: the same
request_id with the same request returns the first resource; with a different request it is
FAILED_PRECONDITION REQUEST_ID_REUSED and nothing changes; after the resource was deleted a replay
is NOT_FOUND saying so, never the deleted resource."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from credentials.v1 import credentials_pb2 as cpb
from credentials.v1 import credentials_pb2_grpc
from integrations.v1 import connectors_pb2 as conpb
from integrations.v1 import (
    connectors_pb2_grpc,
    data_sources_pb2_grpc,
    integrations_pb2_grpc,
    prevention_pb2_grpc,
    sql_gateway_pb2_grpc,
)
from integrations.v1 import data_sources_pb2 as dspb
from integrations.v1 import integrations_pb2 as ipb
from integrations.v1 import prevention_pb2 as ppb
from integrations.v1 import sql_gateway_pb2 as spb
from tests.secrets_registry import register_secret
from tests.service.integrations_helpers import integration_message
from tests.service.secret_scan import secrets_in_database
from tests.support import RunningServer, rich_error

SECRET = register_secret("sk-request-ids-0123456789abcdef")
OTHER_SECRET = register_secret("sk-request-ids-fedcba9876543210")
DB_PASSWORD = register_secret("request-ids-db-password")

Create = Callable[[RunningServer, str, str, bool], Awaitable[Any]]
Delete = Callable[[RunningServer, str, Any], Awaitable[object]]
Count = Callable[[RunningServer, str], Awaitable[int]]


@dataclass(frozen=True)
class Case:
    """One create RPC: `create(server, tenant, request_id, variant)` sends the request (another
    one when `variant`), `count` says how many the tenant has, `delete` removes one."""

    create: Create
    count: Count
    delete: Delete | None = None


def _integrations(server: RunningServer) -> integrations_pb2_grpc.IntegrationsServiceStub:
    return server.stub(integrations_pb2_grpc.IntegrationsServiceStub)


async def _create_integration(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    message = integration_message("other" if variant else "first")
    return await _integrations(server).CreateIntegration(
        ipb.CreateIntegrationRequest(tenant_id=tenant, integration=message, request_id=rid)
    )




def _credentials(server: RunningServer) -> credentials_pb2_grpc.CredentialServiceStub:
    return server.stub(credentials_pb2_grpc.CredentialServiceStub)


async def _create_credential(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    # Only the secret differs: the stored digest must tell secrets apart without holding one.
    return await _credentials(server).CreateCredential(
        cpb.CreateCredentialRequest(
            tenant_id=tenant, name="key", secret=OTHER_SECRET if variant else SECRET,
            request_id=rid,
        )
    )




def _connectors(server: RunningServer) -> connectors_pb2_grpc.ConnectorsServiceStub:
    return server.stub(connectors_pb2_grpc.ConnectorsServiceStub)


async def _register_connector(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    connector = conpb.Connector(
        name="crm", connector_type=conpb.CONNECTOR_TYPE_HTTP,
        endpoint="http://other.example/" if variant else "http://crm.example/",
    )
    return await _connectors(server).RegisterConnector(
        conpb.RegisterConnectorRequest(tenant_id=tenant, connector=connector, request_id=rid)
    )




def _data_sources(server: RunningServer) -> data_sources_pb2_grpc.DataSourcesServiceStub:
    return server.stub(data_sources_pb2_grpc.DataSourcesServiceStub)


async def _register_data_source(
    server: RunningServer, tenant: str, rid: str, variant: bool
) -> Any:
    source = dspb.DataSource(
        name="warehouse", source_type=dspb.DATA_SOURCE_TYPE_DATABASE,
        config=dspb.DataSourceConfig(
            host="db.example", port=5433 if variant else 5432, password=DB_PASSWORD
        ),
    )
    return await _data_sources(server).RegisterDataSource(
        dspb.RegisterDataSourceRequest(tenant_id=tenant, data_source=source, request_id=rid)
    )




def _gateway_stub(server: RunningServer) -> sql_gateway_pb2_grpc.SqlGatewayServiceStub:
    return server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)


async def _create_template(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    template = spb.QueryTemplate(id="orders", name="orders", sql="SELECT 2" if variant else "SELECT 1")
    return await _gateway_stub(server).CreateQueryTemplate(
        spb.CreateQueryTemplateRequest(tenant_id=tenant, template=template, request_id=rid)
    )



async def _create_gateway(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    gateway = spb.Gateway(
        name="main", connection_string_ref="env://DEV_REQUEST_IDS_GATEWAY_DSN",
        max_rows=20 if variant else 10,
    )
    return await _gateway_stub(server).CreateGateway(
        spb.CreateGatewayRequest(tenant_id=tenant, gateway=gateway, request_id=rid)
    )



def _prevention(server: RunningServer) -> prevention_pb2_grpc.PreventionServiceStub:
    return server.stub(prevention_pb2_grpc.PreventionServiceStub)


async def _create_record(server: RunningServer, tenant: str, rid: str, variant: bool) -> Any:
    candidate = ppb.PreventionCandidate(
        policy_id="policy-1", pattern_id="pattern-1", tenant_id=tenant,
        blocked_incident_id="inc-9", original_incident_id="inc-1",
        signature_match_confidence=0.9 if variant else 0.6, policy_mode="active",
    )
    return await _prevention(server).CreatePreventionRecord(
        ppb.CreatePreventionRecordRequest(candidate=candidate, request_id=rid)
    )



def _total(stub: Callable[[RunningServer], Any], rpc: str, request: Any) -> Count:
    """How many the tenant has, as the List RPC `rpc` reports it."""

    async def count(server: RunningServer, tenant: str) -> int:
        listed = await getattr(stub(server), rpc)(request(tenant_id=tenant))
        return int(listed.total_size)

    return count


def _deleter(stub: Callable[[RunningServer], Any], rpc: str, request: Any, id_field: str) -> Delete:
    """Deletes one resource through the Delete RPC `rpc`."""

    async def delete(server: RunningServer, tenant: str, created: Any) -> object:
        return await getattr(stub(server), rpc)(request(tenant_id=tenant, **{id_field: created.id}))

    return delete


CASES = [
    pytest.param(
        Case(
            _create_integration,
            _total(_integrations, "ListIntegrations", ipb.ListIntegrationsRequest),
            _deleter(
                _integrations, "DeleteIntegration", ipb.DeleteIntegrationRequest, "integration_id"
            ),
        ),
        id="integration",
    ),
    pytest.param(
        Case(
            _create_credential,
            _total(_credentials, "ListCredentials", cpb.ListCredentialsRequest),
            _deleter(_credentials, "DeleteCredential", cpb.DeleteCredentialRequest, "credential_id"),
        ),
        id="credential",
    ),
    pytest.param(
        Case(
            _register_connector,
            _total(_connectors, "ListConnectors", conpb.ListConnectorsRequest),
            _deleter(_connectors, "DeleteConnector", conpb.DeleteConnectorRequest, "connector_id"),
        ),
        id="connector",
    ),
    pytest.param(
        Case(
            _register_data_source,
            _total(_data_sources, "ListDataSources", dspb.ListDataSourcesRequest),
            _deleter(
                _data_sources, "DeleteDataSource", dspb.DeleteDataSourceRequest, "data_source_id"
            ),
        ),
        id="data_source",
    ),
    pytest.param(
        Case(
            _create_template,
            _total(_gateway_stub, "ListQueryTemplates", spb.ListQueryTemplatesRequest),
        ),
        id="query_template",
    ),
    pytest.param(
        Case(_create_gateway, _total(_gateway_stub, "ListGateways", spb.ListGatewaysRequest)),
        id="gateway",
    ),
    pytest.param(
        Case(
            _create_record,
            _total(_prevention, "ListPreventionRecords", ppb.ListPreventionRecordsRequest),
        ),
        id="prevention_record",
    ),
]
DELETABLE = [case for case in CASES if case.values[0].delete is not None]


async def _refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize("case", CASES)
async def test_a_replay_of_the_same_request_returns_the_first_resource(
    server: RunningServer, tenant: str, case: Case
) -> None:
    first = await case.create(server, tenant, "req-1", False)
    assert await case.create(server, tenant, "req-1", False) == first
    assert await case.count(server, tenant) == 1


@pytest.mark.parametrize("case", CASES)
async def test_the_same_request_id_with_another_request_is_request_id_reused(
    server: RunningServer, tenant: str, other_tenant: str, case: Case
) -> None:
    first = await case.create(server, tenant, "req-1", False)
    error = rich_error(await _refused(case.create(server, tenant, "req-1", True)))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "REQUEST_ID_REUSED"
    assert "req-1" in error.message and "different request" in error.message
    assert await case.count(server, tenant) == 1
    assert await case.create(server, tenant, "req-1", False) == first  # still answers the first
    # Request ids are per tenant: another tenant's request with the same id is its own.
    theirs = await case.create(server, other_tenant, "req-1", True)
    assert theirs != first
    # The stored digests hold no secret of the requests.
    assert await secrets_in_database(server.database_url, [SECRET, OTHER_SECRET, DB_PASSWORD]) == []


@pytest.mark.parametrize("case", DELETABLE)
async def test_a_replay_after_the_delete_is_not_found_and_creates_nothing(
    server: RunningServer, tenant: str, case: Case
) -> None:
    assert case.delete is not None
    first = await case.create(server, tenant, "req-1", False)
    await case.delete(server, tenant, first)
    error = rich_error(await _refused(case.create(server, tenant, "req-1", False)))
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert first.id in error.message and "was deleted" in error.message
    assert "already exists" not in error.message
    assert await case.count(server, tenant) == 0
    again = await case.create(server, tenant, "req-2", False)  # a new request id creates anew
    assert again.id != first.id


async def test_record_usage_refuses_a_reused_request_id_and_counts_nothing_twice(
    server: RunningServer, tenant: str
) -> None:
    stub = _integrations(server)
    integration = await _create_integration(server, tenant, "", False)

    def usage(tokens: int) -> ipb.RecordUsageRequest:
        return ipb.RecordUsageRequest(
            tenant_id=tenant, integration_id=integration.id, tokens=tokens, request_id="u-1"
        )

    first = await stub.RecordUsage(usage(5))
    again = await stub.RecordUsage(usage(5))
    assert first.recorded and not again.recorded
    assert again.usage_event_id == first.usage_event_id
    error = rich_error(await _refused(stub.RecordUsage(usage(7))))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "REQUEST_ID_REUSED"
    limits = await stub.GetLimitsStatus(
        ipb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=integration.id)
    )
    assert limits.tokens_used_month == 5
