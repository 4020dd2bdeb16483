"""Composition root: the only place that builds drivers and hands them to engines and servicers."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from drivers.admission.limit_events import (
    LIMIT_EVENTS_CHANNEL,
    EventBroadcast,
    LimitEventWriter,
    SqlLimitEventStore,
)
from drivers.admission.store import SqlAdmissionStore
from drivers.admission.webhooks import HttpWebhookSender, SqlLimitWebhookStore, SqlWebhookOutbox
from drivers.connectors.connection_tester import NetworkConnectionTester
from drivers.connectors.store import SqlConnectorStore
from drivers.credentials.cache import CachedCredentialService
from drivers.credentials.client import GrpcCredentialService
from drivers.credentials.seal_samples import SqlSealSamples
from drivers.credentials.store import SqlAccessLog, SqlCredentialStore
from drivers.data_sources.store import SqlDataSourceStore
from drivers.egress.guard import EgressGuard, protected_database, protected_listener
from drivers.health.provider_probe import HttpProviderProbe
from drivers.health.store import SqlHealthStore
from drivers.integrations.cached_store import CachedIntegrationStore
from drivers.integrations.store import SqlIntegrationStore
from drivers.kernel import migrator
from drivers.kernel.database import Database
from drivers.kernel.pg_listener import (
    INTEGRATIONS_CHANNEL,
    SQL_GATEWAY_CHANNEL,
    PostgresInvalidationListener,
)
from drivers.prevention.store import SqlPreventionStore
from drivers.sql_gateway.cached_executions import CachedExecutions
from drivers.sql_gateway.pool import PostgresQueryRunner
from engines.admission.control import AdmissionEngine
from engines.admission.events import LimitEventsEngine
from engines.admission.webhooks import DeliverySettings, LimitWebhooksEngine, WebhookDeliverer
from engines.connectors.connector import ConnectorsEngine
from engines.credentials.crypto import Keyring
from engines.credentials.env_credentials import EnvNamePolicy
from engines.credentials.vault import AccessKind, CredentialVault
from engines.data_sources.data_source import DataSourcesEngine
from engines.egress.policy import EgressPolicy
from engines.health.checks import HealthEngine
from engines.integrations.integration import IntegrationsEngine
from engines.kernel.observability import NULL_OBSERVER, ServiceObserver
from engines.kernel.pagination import PageTokens
from engines.prevention.records import PreventionEngine
from engines.sql_gateway.gateway import SqlGatewayEngine
from integrations.v1 import (
    admission_pb2,
    admission_pb2_grpc,
    connectors_pb2,
    connectors_pb2_grpc,
    data_sources_pb2,
    data_sources_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
    prevention_pb2,
    prevention_pb2_grpc,
)
from integrations.v1 import health_pb2 as integration_health_pb2
from integrations.v1 import health_pb2_grpc as integration_health_pb2_grpc
from integrations.v1 import sql_gateway_pb2 as pb_sql
from integrations.v1 import sql_gateway_pb2_grpc as pb_sql_grpc
from service.auth import caller_registry
from service.call_info import current_call
from service.config import ServeConfig
from service.fifo_handlers import FifoHandlers
from service.health_runtime import HealthRuntime
from service.interceptors.auth import AuthInterceptor, RefusalHook
from service.interceptors.errors import ErrorMappingInterceptor
from service.interceptors.logging import RpcLoggingInterceptor
from service.interceptors.metrics import MetricsInterceptor
from service.internal_door import InternalCredentialDoor
from service.key_check import warn_on_unopened_secrets
from service.kms import (
    master_keyring,
    min_key_version,
    open_key_service,
    open_secret_store,
    sealing_keyring,
)
from service.metrics import ServiceMetrics
from service.metrics_http import MetricsEndpoint
from service.readiness import Readiness
from service.reflection import enable_reflection
from service.server_shutdown import stop_unstarted
from service.servicers.admission.servicer import AdmissionServicer
from service.servicers.connectors.servicer import ConnectorsServicer
from service.servicers.credentials.servicer import CredentialsServicer
from service.servicers.data_sources.servicer import DataSourcesServicer
from service.servicers.health.servicer import IntegrationHealthServicer
from service.servicers.integrations.servicer import IntegrationsServicer
from service.servicers.prevention.servicer import PreventionServicer
from service.servicers.sql_gateway.servicer import SqlGatewayServicer
from service.tls import channel_credentials, server_credentials

__all__ = ["Application", "apply_migrations", "create_server"]

log = logging.getLogger("integrations.server")

_PAGE_TOKEN_PURPOSE = "page-tokens"
# Room in a response message for everything but the rows (columns, counts, framing).
_RESPONSE_OVERHEAD_BYTES = 64 * 1024
_BACKGROUND_STOP_SECONDS = 5.0  # how long shutdown waits for a cancelled background task


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
    metrics_port: int = 0  # the Prometheus endpoint's bound port; 0: metrics are off
    # The in-process credential service's private door, opened before and closed after the rest.
    door: InternalCredentialDoor | None = None
    _started: bool = field(default=False, init=False)

    async def start(self) -> None:
        """Starts serving; health turns SERVING once storage answers."""
        if self.door is not None:
            await self.door.start()
        await self.server.start()
        self._started = True
        await self.readiness.start()
        for begin in self.starters:
            await begin()

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING first, then in-flight calls get `grace` seconds, then close."""
        await self.readiness.stop()
        if self._started:
            await self.server.stop(grace)
        else:
            await stop_unstarted(self.server)
        for close in self.closers:
            await close()
        if self.door is not None:
            await self.door.stop()
        await self.database.dispose()


async def create_server(config: ServeConfig) -> Application:
    """Builds the server for `config`; binds `config.listen` (port 0 picks a free port)."""
    registry = caller_registry(config)
    tls = server_credentials(config.tls_cert, config.tls_key, config.tls_client_ca)
    serve_main = config.only != "credentials"
    serve_credentials = config.credentials_target is None
    if config.only not in (None, "credentials"):
        raise ValueError(f"--only {config.only!r}: the only choice is 'credentials'")
    if not serve_credentials and not serve_main:
        raise ValueError("--only credentials and --credentials-target exclude each other")
    keyring = master_keyring(config, create_dev=True) if serve_credentials else None
    page_tokens = _page_tokens(config, keyring)
    # A start that fails half-way releases what it opened; on success the Application owns it.
    async with AsyncExitStack() as opened:
        transit = await open_key_service(config) if serve_credentials else None
        if transit is not None:
            opened.push_async_callback(transit.close)
        payloads = await open_secret_store(config) if serve_credentials else None
        if payloads is not None:
            opened.push_async_callback(payloads.close)
        database = Database(config.database_url)
        opened.push_async_callback(database.dispose)
        if config.apply_migrations:
            await migrator.upgrade(database)

        vault = None
        if serve_credentials:
            vault = CredentialVault(
                sealing_keyring(config, database, transit, keyring),
                SqlCredentialStore(database),
                SqlAccessLog(database),
                page_tokens=page_tokens,
                env_lookup=os.environ.get if config.allow_env_credentials else None,
                env_names=EnvNamePolicy.of(config.env_credential_prefixes),
                min_key_version=min_key_version(config),
                payloads=payloads,
            )
            await warn_on_unopened_secrets(vault.keyring, SqlSealSamples(database))
        metrics = ServiceMetrics(database.pool_in_use) if config.metrics_listen else None
        if metrics is not None:
            database.on_pool_wait = metrics.pool_waited
        server = grpc.aio.server(
            interceptors=[
                RpcLoggingInterceptor(),
                *([MetricsInterceptor(metrics)] if metrics else []),
                ErrorMappingInterceptor(),
                AuthInterceptor(registry, _reveal_refusals(vault)),
            ],
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes),
                ("grpc.max_send_message_length", config.max_message_bytes),
            ],
        )
        opened.push_async_callback(stop_unstarted, server)
        port = server.add_secure_port(config.listen, tls) if tls else server.add_insecure_port(
            config.listen
        )
        if port == 0:
            raise RuntimeError(f"could not listen on {config.listen}")

        egress = _egress_guard(config, port)
        handlers = FifoHandlers(server)  # every method from one queue (service/fifo_handlers.py)
        wiring = _Wiring(
            config, handlers.as_server(), database, egress, observer=metrics or NULL_OBSERVER,
            page_tokens=page_tokens,
        )
        if transit is not None:  # token renewal while serving; the client closes last
            wiring.starters.append(transit.start)
            wiring.closers.append(transit.close)
        if payloads is not None:  # the same for the KV client of --secret-store openbao
            wiring.starters.append(payloads.start)
            wiring.closers.append(payloads.close)
        door: InternalCredentialDoor | None = None
        if vault is not None:
            credentials_servicer = CredentialsServicer(vault)
            wiring.register(
                credentials_pb2_grpc.add_CredentialServiceServicer_to_server,
                credentials_servicer,
                credentials_pb2,
                "CredentialService",
            )
            if serve_main:
                door = InternalCredentialDoor(
                    credentials_servicer,
                    on_refused=_reveal_refusals(vault),
                    max_message_bytes=config.max_message_bytes,
                    metrics=metrics,
                )
        if serve_main:
            channel = _credentials_channel(config, door)
            opened.push_async_callback(channel.close)
            wiring.closers.append(channel.close)
            credentials = GrpcCredentialService(
                channel,
                token=door.token if door is not None else config.credentials_token,
                access_reason=lambda: f"{current_call().method} for {current_call().caller}",
                rpc=lambda: current_call().method,
            )
            admission = _admission_storage(wiring)
            _add_integrations_and_health(wiring, credentials, admission)
            _add_admission(wiring, credentials, admission)
            _add_prevention(wiring)
            _add_sql_gateway(wiring, credentials)
            _add_connectors_and_data_sources(wiring, credentials)
        services, closers, starters = wiring.services, wiring.closers, wiring.starters

        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, handlers.as_server())
        enable_reflection(
            [*services, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name],
            handlers.as_server(),
        )
        handlers.install()
        readiness = Readiness(
            health_servicer, database, services, config.readiness_interval_seconds
        )
        metrics_port = 0
        if metrics is not None and config.metrics_listen:
            endpoint = MetricsEndpoint(config.metrics_listen, metrics)
            await endpoint.start()
            opened.push_async_callback(endpoint.close)
            closers.append(endpoint.close)
            metrics_port = endpoint.port
            egress.protect(protected_listener(_listen_host(config.metrics_listen), metrics_port))
        opened.pop_all()
        return Application(
            server, port, database, readiness, services, closers, starters, metrics_port,
            door=door,
        )


# -- the services of the main process, one builder per family --------------------------------


@dataclass
class _Wiring:
    """What the family builders share while `create_server` assembles the server."""

    config: ServeConfig
    server: grpc.aio.Server
    database: Database
    egress: EgressGuard
    observer: ServiceObserver
    page_tokens: PageTokens
    services: list[str] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    starters: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def register(
        self,
        add_to_server: Callable[[Any, grpc.aio.Server], None],
        servicer: object,
        module: Any,
        service: str,
    ) -> None:
        """Adds `servicer` to the server and its service to health and reflection."""
        add_to_server(servicer, self.server)
        self.services.append(module.DESCRIPTOR.services_by_name[service].full_name)

    def listen(
        self, channel: str, notified: Callable[[str, str], None], missed: Callable[[], None]
    ) -> None:
        """On PostgreSQL, `notified(tenant_id, id)` for each notification on `channel` from a
        dedicated connection, `missed()` whenever some may have been lost; nothing on SQLite
        (one process, so every write is local)."""
        if self.database.is_sqlite:
            return
        listener = PostgresInvalidationListener(
            self.database.url, notified, missed, channel=channel
        )
        self.starters.append(listener.start)
        self.closers.append(listener.close)


def _add_integrations_and_health(
    wiring: _Wiring, credentials: GrpcCredentialService, admission: _AdmissionStorage
) -> None:
    """IntegrationsService and IntegrationHealthService (issues 2 and 4): one shared HTTP client
    for every provider probe; background checks stop before the credential channel closes."""
    config, database = wiring.config, wiring.database
    integration_store = _cached_integrations(wiring, admission.store)
    probe = HttpProviderProbe(
        egress=wiring.egress,
        connect_timeout_seconds=config.health.connect_timeout_seconds,
        read_timeout_seconds=config.health.read_timeout_seconds,
    )
    health_engine = HealthEngine(
        integration_store,
        integration_store.invalidating_health(SqlHealthStore(database)),
        credentials,
        probe,
        settings=config.health,
        observer=wiring.observer,
        page_tokens=wiring.page_tokens,
    )
    health_runtime = HealthRuntime(health_engine, probe, config.health)
    wiring.starters.append(health_runtime.start)
    wiring.closers.insert(0, health_runtime.stop)
    integrations_engine = IntegrationsEngine(
        integration_store,
        page_tokens=wiring.page_tokens,
        credential_ref_check=credentials.exists,
        health_tester=health_engine,
        egress=wiring.egress,
        admission_usage=admission.store,  # GetLimitsStatus reports what AdmitCall counts
    )
    wiring.register(
        integrations_pb2_grpc.add_IntegrationsServiceServicer_to_server,
        IntegrationsServicer(integrations_engine),
        integrations_pb2,
        "IntegrationsService",
    )
    wiring.register(
        integration_health_pb2_grpc.add_IntegrationHealthServiceServicer_to_server,
        IntegrationHealthServicer(health_engine),
        integration_health_pb2,
        "IntegrationHealthService",
    )


def _cached_integrations(
    wiring: _Wiring, limit_events: SqlAdmissionStore
) -> CachedIntegrationStore:
    """Integrations read through memory (docs/consistency.md); on PostgreSQL other replicas'
    commits invalidate it through LISTEN/NOTIFY. RecordUsage raises limit events through the
    admission store, in the transaction that stores the usage."""
    cache = CachedIntegrationStore(
        SqlIntegrationStore(wiring.database, limit_events),
        ttl_seconds=wiring.config.integration_cache_seconds,
    )
    wiring.listen(INTEGRATIONS_CHANNEL, cache.invalidate, cache.clear)
    return cache


@dataclass
class _AdmissionStorage:
    """The admission store and its limit-event wake-ups, shared by IntegrationsService
    (GetLimitsStatus) and AdmissionService."""

    store: SqlAdmissionStore
    broadcast: EventBroadcast


def _admission_storage(wiring: _Wiring) -> _AdmissionStorage:
    database = wiring.database
    broadcast = EventBroadcast(wiring.config.limit_event_poll_seconds)
    # Other replicas' events (docs/admission.md, "Limit events").
    wiring.listen(LIMIT_EVENTS_CHANNEL, broadcast.notify, broadcast.notify_all)
    store = SqlAdmissionStore(database, LimitEventWriter(database, broadcast.notify))
    return _AdmissionStorage(store, broadcast)


def _add_admission(
    wiring: _Wiring, credentials: GrpcCredentialService, admission: _AdmissionStorage
) -> None:
    """AdmissionService: admit and settle calls against the integrations' limits. Keys revealed
    on AdmitCall go through the credential service uncached, so each is audited."""
    database, broadcast = wiring.database, admission.broadcast
    admission_engine = AdmissionEngine(
        admission.store,
        SqlIntegrationStore(database),
        credentials,
        observer=wiring.observer,
    )
    events_engine = LimitEventsEngine(
        SqlLimitEventStore(database), broadcast, page_tokens=wiring.page_tokens
    )
    webhooks_engine = LimitWebhooksEngine(SqlLimitWebhookStore(database), credentials, wiring.egress)
    wiring.register(
        admission_pb2_grpc.add_AdmissionServiceServicer_to_server,
        AdmissionServicer(admission_engine, events_engine, webhooks_engine),
        admission_pb2,
        "AdmissionService",
    )
    _add_webhook_delivery(wiring, credentials, broadcast)


def _add_webhook_delivery(
    wiring: _Wiring, credentials: GrpcCredentialService, broadcast: EventBroadcast
) -> None:
    """The background deliverer of limit events to tenants' webhooks: woken by new events
    (here, and on PostgreSQL by other replicas' through LISTEN), at least every poll interval;
    stopped before the credential channel closes."""
    config = wiring.config
    sender = HttpWebhookSender(wiring.egress, timeout_seconds=config.webhook_timeout_seconds)
    deliverer = WebhookDeliverer(
        SqlWebhookOutbox(wiring.database),
        credentials,
        sender,
        broadcast,
        DeliverySettings(
            max_attempts=config.webhook_max_attempts,
            backoff_base=timedelta(seconds=config.webhook_backoff_seconds),
            lease=timedelta(seconds=config.webhook_timeout_seconds * 3 + 5),
        ),
    )
    task: list[asyncio.Task[None]] = []

    async def start() -> None:
        task.append(asyncio.create_task(deliverer.run(), name="limit-webhook-delivery"))

    async def stop() -> None:
        for running in task:
            running.cancel()
            # Bounded: shutdown must not hang on a delivery that ignores its cancellation.
            done, _ = await asyncio.wait({running}, timeout=_BACKGROUND_STOP_SECONDS)
            if not done:
                log.warning("limit webhook delivery did not stop within %ss; leaving it",
                            _BACKGROUND_STOP_SECONDS)
        await sender.aclose()

    wiring.starters.append(start)
    wiring.closers.insert(0, stop)


def _add_prevention(wiring: _Wiring) -> None:
    """PreventionService."""
    wiring.register(
        prevention_pb2_grpc.add_PreventionServiceServicer_to_server,
        PreventionServicer(
            PreventionEngine(SqlPreventionStore(wiring.database), page_tokens=wiring.page_tokens)
        ),
        prevention_pb2,
        "PreventionService",
    )


def _add_sql_gateway(wiring: _Wiring, credentials: GrpcCredentialService) -> None:
    """SqlGatewayService: pooled connections to tenant databases; a result must fit in
    one response message."""
    config = wiring.config
    sql_runner = PostgresQueryRunner(
        egress=wiring.egress,
        pool_size=config.sql_pool_size,
        max_pools=config.sql_max_pools,
        idle_seconds=config.sql_pool_idle_seconds,
    )
    wiring.closers.append(sql_runner.close)
    # ExecuteQuery reads the gateway and its template from memory, or both in one round trip;
    # writes here and other replicas' notified commits drop them (docs/consistency.md).
    executions = CachedExecutions(wiring.database, ttl_seconds=config.sql_gateway_cache_seconds)
    wiring.listen(SQL_GATEWAY_CHANNEL, executions.invalidate, executions.clear)
    sql_gateway_engine = SqlGatewayEngine(
        executions.templates,
        executions.gateways,
        CachedCredentialService(credentials, ttl_seconds=config.sql_credential_cache_seconds),
        sql_runner,
        page_tokens=wiring.page_tokens,
        result_bytes_ceiling=config.max_message_bytes - _RESPONSE_OVERHEAD_BYTES,
        observer=wiring.observer,
        credential_ref_check=credentials.exists,
        execution_reader=executions,
    )
    wiring.register(
        pb_sql_grpc.add_SqlGatewayServiceServicer_to_server,
        SqlGatewayServicer(sql_gateway_engine),
        pb_sql,
        "SqlGatewayService",
    )


def _add_connectors_and_data_sources(
    wiring: _Wiring, credentials: GrpcCredentialService
) -> None:
    """ConnectorsService and DataSourcesService; both engines share one connection
    tester."""
    tester = NetworkConnectionTester(egress=wiring.egress)
    wiring.register(
        connectors_pb2_grpc.add_ConnectorsServiceServicer_to_server,
        ConnectorsServicer(
            ConnectorsEngine(
                SqlConnectorStore(wiring.database),
                tester,
                credentials,
                page_tokens=wiring.page_tokens,
                credential_ref_check=credentials.exists,
                egress=wiring.egress,
            )
        ),
        connectors_pb2,
        "ConnectorsService",
    )
    wiring.register(
        data_sources_pb2_grpc.add_DataSourcesServiceServicer_to_server,
        DataSourcesServicer(
            DataSourcesEngine(
                SqlDataSourceStore(wiring.database),
                tester,
                credentials,
                page_tokens=wiring.page_tokens,
                egress=wiring.egress,
                caller_roles=lambda: current_call().roles,
            )
        ),
        data_sources_pb2,
        "DataSourcesService",
    )


# -- egress policy (docs/egress.md) ------------------------------------------------------------


def _listen_host(listen: str) -> str:
    return listen.rsplit(":", 1)[0].strip("[]") or "0.0.0.0"


def _egress_guard(config: ServeConfig, port: int) -> EgressGuard:
    """The egress policy of every tenant connection: the operator's rules, and the service's
    own database and public listener protected (more listeners are added once bound)."""
    policy = EgressPolicy.from_rules(config.egress_allow, config.egress_deny)
    protected = [protected_listener(_listen_host(config.listen), port)]
    url = make_url(config.database_url)
    if url.get_backend_name() == "postgresql":
        host = url.host or str(url.query.get("host") or "localhost")
        protected.append(protected_database(host, url.port or 5432, url.database or ""))
    return EgressGuard(policy.with_protected(*protected))


# -- credential service ------------------------------------------------------------------


def _page_tokens(config: ServeConfig, keyring: Keyring | None) -> PageTokens:
    """The signer of page tokens: a key derived from the master keys, so replicas accept each
    other's tokens and they survive restarts and key rotations; without master keys (a main
    service whose credential service is remote and that has none configured), a key of this
    process only."""
    if keyring is None and (config.master_keys or config.master_key_file):
        keyring = master_keyring(config, create_dev=False)
    if keyring is None:
        log.warning(
            "no master key configured here: page tokens are signed with a key of this process "
            "only, so they do not survive a restart or work on another replica; configure "
            "CREDENTIAL_MASTER_KEYS or --master-key-file"
        )
        return PageTokens.ephemeral()
    return PageTokens(keyring.purpose_keys(_PAGE_TOKEN_PURPOSE))


def _credentials_channel(
    config: ServeConfig, door: InternalCredentialDoor | None
) -> grpc.aio.Channel:
    """The channel of the credential client: a remote target, or the private Unix-socket door
    of the in-process credential service."""
    if door is not None:
        return grpc.aio.insecure_channel(door.target)
    if config.credentials_target:
        if config.credentials_tls_ca or config.credentials_tls_cert:
            credentials = channel_credentials(
                config.credentials_tls_ca, config.credentials_tls_cert, config.credentials_tls_key
            )
            return grpc.aio.secure_channel(config.credentials_target, credentials)
        return grpc.aio.insecure_channel(config.credentials_target)
    raise ValueError("no credential service: set --credentials-target")


_LOGGED_REFUSALS = {
    "/credentials.v1.CredentialService/GetCredential": AccessKind.REVEAL,
    "/credentials.v1.CredentialService/UseCredential": AccessKind.USE,
    "/credentials.v1.CredentialService/RotateCredential": AccessKind.ROTATE,
    "/credentials.v1.CredentialService/UpdateCredentialDestinations": AccessKind.UPDATE,
    "/credentials.v1.CredentialService/DeleteCredential": AccessKind.DELETE,
}


def _reveal_refusals(vault: CredentialVault | None) -> RefusalHook | None:
    """Writes reveals, uses and lifecycle changes of an existing credential that authorization
    refused to the access log (a refused create has no credential to log it under)."""
    if vault is None:
        return None

    async def record(method: str, request: Any, caller: str, why: str) -> None:
        kind = _LOGGED_REFUSALS.get(method)
        if kind is not None:
            await vault.record_refused(
                request.tenant_id,
                getattr(request, "credential_ref", ""),
                credential_id=getattr(request, "credential_id", ""),
                caller=caller,
                access_reason=request.access_reason,
                detail=why,
                kind=kind,
            )

    return record


async def apply_migrations(database_url: str) -> None:
    """`integrations-service migrate`: every migration head applied to the service's database."""
    database = Database(database_url)
    try:
        await migrator.upgrade(database)
    finally:
        await database.dispose()
