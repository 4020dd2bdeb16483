"""Circuit breaking of health end to end on each backend: three failed probes open the circuit
(ERROR with the reason), EnableIntegration and admission refuse while it is open, the history
shows the transitions, and a successful TestCredentials closes it."""

from __future__ import annotations

import grpc
import pytest

from integrations.v1 import admission_pb2 as apb
from integrations.v1 import admission_pb2_grpc, common_pb2, health_pb2, integrations_pb2
from tests.fake_provider import FakeProvider
from tests.service import test_health
from tests.service.admission_helpers import admit
from tests.service.test_health import Client
from tests.support import RunningServer, rich_error

S = common_pb2
health_server = test_health.health_server
provider = test_health.provider


async def get(client: Client, integration_id: str) -> integrations_pb2.Integration:
    return await client.integrations.GetIntegration(
        integrations_pb2.GetIntegrationRequest(tenant_id=client.tenant, integration_id=integration_id)
    )


async def enable(client: Client, integration_id: str) -> integrations_pb2.EnableIntegrationResponse:
    return await client.integrations.EnableIntegration(
        integrations_pb2.EnableIntegrationRequest(
            tenant_id=client.tenant, integration_id=integration_id
        )
    )


async def test_circuit_opens_blocks_and_test_credentials_closes_it(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("down", 500)})
    before = await get(client, integration)
    results = [await client.check(integration, force=True) for _ in range(3)]
    assert [r.consecutive_failures for r in results] == [1, 2, 3]
    assert [r.circuit_event for r in results] == [
        health_pb2.CIRCUIT_EVENT_UNSPECIFIED,
        health_pb2.CIRCUIT_EVENT_UNSPECIFIED,
        health_pb2.CIRCUIT_EVENT_OPENED,
    ]
    assert results[-1].circuit_open and results[-1].HasField("next_probe_time")

    opened = await get(client, integration)
    assert opened.status == integrations_pb2.INTEGRATION_STATUS_ERROR
    assert opened.circuit_open and opened.consecutive_health_failures == 3
    assert opened.circuit_reason.startswith("3 consecutive failed health probes; last: ")
    assert "500" in opened.circuit_reason and opened.HasField("circuit_open_time")
    assert opened.etag != before.etag  # the status change moved the version

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await enable(client, integration)
    err = rich_error(refused.value)
    assert (err.code, err.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION, "INTEGRATION_CIRCUIT_OPEN"
    )
    admission = health_server.stub(admission_pb2_grpc.AdmissionServiceStub)
    blocked = await admit(admission, tenant, integration)
    assert blocked.verdict == apb.ADMISSION_VERDICT_BLOCK
    assert apb.ADMISSION_REASON_INTEGRATION_UNHEALTHY in [r.reason for r in blocked.reasons]
    assert any("circuit is open" in r.message for r in blocked.reasons)

    provider.routes["down"].status = 200
    tested = await client.test_credentials(integration)
    assert tested.health_state == S.HEALTH_STATE_HEALTHY
    assert (tested.circuit_open, tested.consecutive_failures) == (False, 0)
    closed = await get(client, integration)
    assert closed.status == integrations_pb2.INTEGRATION_STATUS_DISABLED
    assert not closed.circuit_open and closed.circuit_reason == ""
    assert not closed.HasField("circuit_open_time")
    assert (await enable(client, integration)).status == (
        integrations_pb2.INTEGRATION_STATUS_ENABLED
    )

    history = await client.health.ListHealthChecks(
        health_pb2.ListHealthChecksRequest(tenant_id=tenant, integration_id=integration)
    )
    assert [(r.circuit_event, r.consecutive_failures) for r in reversed(history.health_checks)] == [
        (health_pb2.CIRCUIT_EVENT_UNSPECIFIED, 1),
        (health_pb2.CIRCUIT_EVENT_UNSPECIFIED, 2),
        (health_pb2.CIRCUIT_EVENT_OPENED, 3),
        (health_pb2.CIRCUIT_EVENT_CLOSED, 0),
    ]
    assert "500" in history.health_checks[-1].message


async def test_degraded_does_not_count_and_a_success_resets(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("flaky", 500)})
    await client.check(integration, force=True)
    await client.check(integration, force=True)
    provider.routes["flaky"].status = 429  # DEGRADED: still serves calls
    assert (await client.check(integration, force=True)).consecutive_failures == 0
    provider.routes["flaky"].status = 500
    assert (await client.check(integration, force=True)).consecutive_failures == 1
    stored = await get(client, integration)
    assert stored.status == integrations_pb2.INTEGRATION_STATUS_ENABLED and not stored.circuit_open
