"""FifoHandlers: generated registration functions put every method into one generic handler and
register no method with the server (grpc.aio would queue registered methods' calls apart)."""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from integrations.v1 import integrations_pb2_grpc
from service.fifo_handlers import FifoHandlers


class _RecordingServer:
    def __init__(self) -> None:
        self.generic: list[Any] = []
        self.registered: list[str] = []

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        self.generic.extend(handlers)

    def add_registered_method_handlers(self, name: str, handlers: Any) -> None:
        self.registered.append(name)


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_every_method_is_served_by_one_generic_handler_and_none_is_registered() -> None:
    server = _RecordingServer()
    handlers = FifoHandlers(server)  # type: ignore[arg-type]
    integrations_pb2_grpc.add_IntegrationsServiceServicer_to_server(
        integrations_pb2_grpc.IntegrationsServiceServicer(), handlers.as_server()
    )
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), handlers.as_server())
    handlers.install()
    handlers.install()

    assert server.registered == []
    assert server.generic == [handlers]
    for method in ("/integrations.v1.IntegrationsService/GetIntegration",
                   "/grpc.health.v1.Health/Check"):
        assert handlers.service(_Details(method)) is not None
    assert handlers.service(_Details("/integrations.v1.IntegrationsService/Nope")) is None
