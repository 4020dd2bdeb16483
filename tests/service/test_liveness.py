"""The `liveness` health entry (what deploy/kubernetes.yaml's liveness probe checks) stays
SERVING while storage is down, so a database outage makes replicas unready, not restarted."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.bootstrap import create_server
from service.readiness import LIVENESS_SERVICE
from tests.bench.harness import free_port
from tests.conftest import serve_config

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(channel: grpc.aio.Channel, service: str) -> int:
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
    return int(reply.status)


async def test_live_but_not_ready_without_storage() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = await create_server(serve_config(url))
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            assert await _status(channel, "") == NOT_SERVING
            assert await _status(channel, LIVENESS_SERVICE) == SERVING
    finally:
        await app.stop(0)


async def test_live_and_ready_with_storage(server) -> None:  # type: ignore[no-untyped-def]
    assert await _status(server.channel, "") == SERVING
    assert await _status(server.channel, LIVENESS_SERVICE) == SERVING
