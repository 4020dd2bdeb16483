"""Composition root: the only place that builds drivers and hands them to engines and servicers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from drivers import migrator
from drivers.database import Database
from drivers.env_credentials import EnvCredentialService
from drivers.health_store import SqlHealthStore
from drivers.integration_store import SqlIntegrationStore
from drivers.prevention_store import SqlPreventionStore
from drivers.provider_probe import HttpProviderProbe
from drivers.sql_gateway_pool import PostgresQueryRunner
from drivers.sql_gateway_store import SqlGatewayStore, SqlTemplateStore
from engines.health import HealthEngine
from engines.integrations import IntegrationsEngine
from engines.prevention import PreventionEngine
from engines.sql_gateway import SqlGatewayEngine
from integrations.v1 import health_pb2 as integration_health_pb2
from integrations.v1 import health_pb2_grpc as integration_health_pb2_grpc
from integrations.v1 import integrations_pb2, integrations_pb2_grpc, prevention_pb2, prevention_pb2_grpc
from service.config import ServeConfig
from service.health_runtime import HealthRuntime
from service.interceptors.errors import ErrorMappingInterceptor
from service.interceptors.logging import RpcLoggingInterceptor
from service.readiness import Readiness
from service.servicers.health import IntegrationHealthServicer
from service.servicers.integrations import IntegrationsServicer
from service.servicers.prevention import PreventionServicer
from service.servicers.sql_gateway import SqlGatewayServicer

__all__ = ["Application", "create_server"]

log = logging.getLogger("integrations.server")

# Room in a response message for everything but the rows (columns, counts, framing).
_RESPONSE_OVERHEAD_BYTES = 64 * 1024


@dataclass
class Application:
    """A built, not yet started server with everything it owns."""

    server: grpc.aio.Server
    port: int
    database: Database
    readiness: Readiness
    services: list[str] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    starters: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def start(self) -> None:
        """Starts serving; health turns SERVING once storage answers."""
        await self.server.start()
        await self.readiness.start()
        for begin in self.starters:
            await begin()

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING first, then in-flight calls get `grace` seconds, then close."""
        await self.readiness.stop()
        await self.server.stop(grace)
        for close in self.closers:
            await close()
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
    health_runtime = HealthRuntime(health_engine, probe, config.health)
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
    services = [
        integrations_pb2.DESCRIPTOR.services_by_name["IntegrationsService"].full_name,
    ]
    # Health checks (issue 4).
    integration_health_pb2_grpc.add_IntegrationHealthServiceServicer_to_server(
        IntegrationHealthServicer(health_engine), server
    )
    services.append(
        integration_health_pb2.DESCRIPTOR.services_by_name["IntegrationHealthService"].full_name
    )
    # Prevention records (issue 7).
    prevention_pb2_grpc.add_PreventionServiceServicer_to_server(
        PreventionServicer(PreventionEngine(SqlPreventionStore(database))), server
    )
    services.append(prevention_pb2.DESCRIPTOR.services_by_name["PreventionService"].full_name)
    # SQL gateway (issue 6): pooled connections to tenant databases; a result must fit in one
    # response message.
    sql_runner = PostgresQueryRunner(
        pool_size=config.sql_pool_size,
        max_pools=config.sql_max_pools,
        idle_seconds=config.sql_pool_idle_seconds,
    )
    sql_gateway_engine = SqlGatewayEngine(
        SqlTemplateStore(database),
        SqlGatewayStore(database),
        credentials,
        sql_runner,
        result_bytes_ceiling=config.max_message_bytes - _RESPONSE_OVERHEAD_BYTES,
    )
    services.append(SqlGatewayServicer(sql_gateway_engine).add_to_server(server))

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
        closers=[sql_runner.close, health_runtime.stop],
        starters=[health_runtime.start],
    )
