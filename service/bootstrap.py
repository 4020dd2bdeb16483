"""Composition root: the only place that builds drivers and hands them to engines and servicers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from drivers import migrator
from drivers.database import Database
from drivers.env_credentials import EnvCredentialService
from drivers.health_store import SqlHealthStore
from drivers.integration_store import SqlIntegrationStore
from drivers.provider_probe import HttpProviderProbe
from engines.health import HealthEngine
from engines.integrations import IntegrationsEngine
from integrations.v1 import health_pb2 as integration_health_pb2
from integrations.v1 import health_pb2_grpc as integration_health_pb2_grpc
from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from service.config import ServeConfig
from service.health_runtime import HealthRuntime
from service.interceptors.errors import ErrorMappingInterceptor
from service.interceptors.logging import RpcLoggingInterceptor
from service.readiness import Readiness
from service.servicers.health import IntegrationHealthServicer
from service.servicers.integrations import IntegrationsServicer

__all__ = ["Application", "create_server"]

log = logging.getLogger("integrations.server")


class Component(Protocol):
    """Something the server starts after it serves and stops after in-flight calls end."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Application:
    """A built, not yet started server with everything it owns."""

    server: grpc.aio.Server
    port: int
    database: Database
    readiness: Readiness
    services: list[str] = field(default_factory=list)
    components: Sequence[Component] = ()

    async def start(self) -> None:
        """Starts serving; health turns SERVING once storage answers."""
        await self.server.start()
        await self.readiness.start()
        for component in self.components:
            await component.start()

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING first, then in-flight calls get `grace` seconds, then close."""
        await self.readiness.stop()
        await self.server.stop(grace)
        for component in self.components:
            await component.stop()
        await self.database.dispose()


async def create_server(config: ServeConfig) -> Application:
    """Builds the server for `config`; binds `config.listen` (port 0 picks a free port)."""
    database = Database(config.database_url)
    if config.apply_migrations:
        await migrator.upgrade(database)

    # Until the credential service is wired (issue 3), secrets resolve from env:// refs only.
    credentials = EnvCredentialService()
    integration_store = SqlIntegrationStore(database)
    # Health checks (issue 4): one shared HTTP client for every provider probe.
    probe = HttpProviderProbe(
        connect_timeout_seconds=config.health.connect_timeout_seconds,
        read_timeout_seconds=config.health.read_timeout_seconds,
    )
    health_engine = HealthEngine(
        integration_store, SqlHealthStore(database), credentials, probe, settings=config.health
    )
    integrations_engine = IntegrationsEngine(integration_store, health_tester=health_engine)

    server = grpc.aio.server(
        interceptors=[RpcLoggingInterceptor(), ErrorMappingInterceptor()],
        options=[
            ("grpc.max_receive_message_length", config.max_message_bytes),
            ("grpc.max_send_message_length", config.max_message_bytes),
        ],
    )
    integrations_pb2_grpc.add_IntegrationsServiceServicer_to_server(
        IntegrationsServicer(integrations_engine), server
    )
    integration_health_pb2_grpc.add_IntegrationHealthServiceServicer_to_server(
        IntegrationHealthServicer(health_engine), server
    )
    services = [
        integrations_pb2.DESCRIPTOR.services_by_name["IntegrationsService"].full_name,
        integration_health_pb2.DESCRIPTOR.services_by_name["IntegrationHealthService"].full_name,
    ]

    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*services, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME],
        server,
    )
    port = server.add_insecure_port(config.listen)
    if port == 0:
        raise RuntimeError(f"could not listen on {config.listen}")
    readiness = Readiness(
        health_servicer, database, services, config.readiness_interval_seconds
    )
    return Application(
        server, port, database, readiness, services,
        components=[HealthRuntime(health_engine, probe, config.health)],
    )
