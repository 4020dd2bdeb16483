"""Composition root: the only place that builds drivers and hands them to engines and servicers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from drivers import migrator
from drivers.connection_tester import NetworkConnectionTester
from drivers.connector_store import SqlConnectorStore
from drivers.data_source_store import SqlDataSourceStore
from drivers.database import Database
from drivers.env_credentials import EnvCredentialService
from drivers.integration_store import SqlIntegrationStore
from engines.connectors import ConnectorsEngine
from engines.data_sources import DataSourcesEngine
from engines.integrations import IntegrationsEngine
from integrations.v1 import (
    connectors_pb2,
    connectors_pb2_grpc,
    data_sources_pb2,
    data_sources_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
)
from service.config import ServeConfig
from service.interceptors.errors import ErrorMappingInterceptor
from service.interceptors.logging import RpcLoggingInterceptor
from service.readiness import Readiness
from service.servicers.connectors import ConnectorsServicer
from service.servicers.data_sources import DataSourcesServicer
from service.servicers.integrations import IntegrationsServicer

__all__ = ["Application", "create_server"]

log = logging.getLogger("integrations.server")


@dataclass
class Application:
    """A built, not yet started server with everything it owns."""

    server: grpc.aio.Server
    port: int
    database: Database
    readiness: Readiness
    services: list[str] = field(default_factory=list)

    async def start(self) -> None:
        """Starts serving; health turns SERVING once storage answers."""
        await self.server.start()
        await self.readiness.start()

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING first, then in-flight calls get `grace` seconds, then close."""
        await self.readiness.stop()
        await self.server.stop(grace)
        await self.database.dispose()


async def create_server(config: ServeConfig) -> Application:
    """Builds the server for `config`; binds `config.listen` (port 0 picks a free port)."""
    database = Database(config.database_url)
    if config.apply_migrations:
        await migrator.upgrade(database)

    # Until the credential service is wired (issue 3), secrets resolve from env:// refs only.
    credentials = EnvCredentialService()
    integrations_engine = IntegrationsEngine(SqlIntegrationStore(database))
    # Issue 5: connectors and data sources share one connection tester.
    connection_tester = NetworkConnectionTester()
    connectors_engine = ConnectorsEngine(
        SqlConnectorStore(database), connection_tester, credentials
    )
    data_sources_engine = DataSourcesEngine(
        SqlDataSourceStore(database), connection_tester, credentials
    )

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
    # Issue 5: ConnectorsService and DataSourcesService.
    connectors_pb2_grpc.add_ConnectorsServiceServicer_to_server(
        ConnectorsServicer(connectors_engine), server
    )
    data_sources_pb2_grpc.add_DataSourcesServiceServicer_to_server(
        DataSourcesServicer(data_sources_engine), server
    )
    services = [
        integrations_pb2.DESCRIPTOR.services_by_name["IntegrationsService"].full_name,
        connectors_pb2.DESCRIPTOR.services_by_name["ConnectorsService"].full_name,
        data_sources_pb2.DESCRIPTOR.services_by_name["DataSourcesService"].full_name,
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
    return Application(server, port, database, readiness, services)
