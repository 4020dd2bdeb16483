"""grpc.health.v1 reports SERVING only while the service's database answers; the `liveness`
entry (what deploy/kubernetes.yaml's liveness probe checks) stays SERVING without storage, so a
database outage makes replicas unready, not restarted."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc
from service.bootstrap import create_server
from service.readiness import LIVENESS_SERVICE
from tests.bench.harness import free_port
from tests.conftest import serve_config
from tests.support import new_tenant


async def test_unreachable_database_means_not_serving_and_unavailable() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = await create_server(serve_config(url))
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "integrations.v1.IntegrationsService"):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
            live = await health.Check(health_pb2.HealthCheckRequest(service=LIVENESS_SERVICE))
            assert live.status == health_pb2.HealthCheckResponse.SERVING
            stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=new_tenant()))
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "nowhere" not in (caught.value.details() or "")
    finally:
        await app.stop(0)


async def test_every_registered_service_is_serving_with_storage(server) -> None:  # type: ignore[no-untyped-def]
    health = server.stub(health_pb2_grpc.HealthStub)
    for service in ["", LIVENESS_SERVICE, *server.app.services]:
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
