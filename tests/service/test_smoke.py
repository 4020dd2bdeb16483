from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from tests.support import RunningServer, rich_error


async def test_health_serving_and_create(server: RunningServer, tenant: str) -> None:
    health = server.stub(health_pb2_grpc.HealthStub)
    reply = await health.Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    created = await stub.CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=tenant,
            integration=integrations_pb2.Integration(
                name="a", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref="env://K",
            ),
        )
    )
    assert created.name == "a"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetIntegration(
            integrations_pb2.GetIntegrationRequest(tenant_id=tenant, integration_id="nope")
        )
    err = rich_error(caught.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "integration_id" in err.field_violations
