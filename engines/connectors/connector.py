"""The connector registry: connectors to external systems, the capabilities their type gives
them, their storage port, and real connection tests whose outcome is recorded on the connector.

Secrets a connector needs live in the credential service; the connector keeps only the ref."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from engines.connectors.connection_tester import (
    DEFAULT_TIMEOUT_SECONDS,
    ConnectionOutcome,
    ConnectionTester,
    PostgresTarget,
    SslMode,
    failed_before_trying,
    timeout_of,
)
from engines.connectors.lifecycle import ConnectorEvent, ConnectorStatus, next_status
from engines.credentials.credential_service import DESTINATION_DENIED, CredentialService
from engines.credentials.refs import (
    CredentialRefCheck,
    check_credential_ref,
    require_live_credential,
)
from engines.credentials.secret_keys import secret_key_violations
from engines.egress.destinations import url_destinations
from engines.egress.endpoints import (
    parse_host_port,
    require_http_url,
    require_url,
    split_password,
    with_password,
)
from engines.egress.policy import DEFAULT_POLICY, Destination, EgressCheck, TargetKind
from engines.kernel.clock import Clock, system_clock
from engines.kernel.deletion import soft_delete
from engines.kernel.errors import Aborted, FieldViolation, InvalidArgument, ServiceError
from engines.kernel.idempotency import earlier_create, idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.optimistic import version_etag, write_with_retry
from engines.kernel.pagination import Page, PageTokens, read_page
from engines.kernel.store import VersionedStore
from engines.kernel.validation import require_name, require_uuid
from engines.kernel.violations import collect

__all__ = [
    "CAPABILITIES",
    "WRITABLE_FIELDS",
    "Connector",
    "ConnectorCapability",
    "ConnectorDraft",
    "ConnectorFilters",
    "ConnectorStatus",
    "ConnectorStore",
    "ConnectorType",
    "ConnectorsEngine",
]

RESOURCE = "connector"
WRITABLE_FIELDS = frozenset({"name", "endpoint", "config", "metadata", "credential_ref"})
# A change to one of these puts the connector in CONFIGURING until its next test.
_CONNECTION_FIELDS = ("endpoint", "config", "credential_ref")
_RECORD_ATTEMPTS = 10
_POSTGRES_SCHEMES = ("postgresql", "postgres")


class ConnectorType(enum.StrEnum):
    HTTP = "http"
    SQL = "sql"
    MCP = "mcp"
    VECTOR = "vector"
    FILE = "file"
    SERVERLESS = "serverless"
    STREAM = "stream"
    CUSTOM = "custom"


class ConnectorCapability(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    QUERY = "query"
    STREAM = "stream"
    BATCH = "batch"
    TRANSACTION = "transaction"
    SEARCH = "search"
    VECTOR_SEARCH = "vector_search"


_C = ConnectorCapability
CAPABILITIES: Mapping[ConnectorType, tuple[ConnectorCapability, ...]] = {
    ConnectorType.HTTP: (_C.READ, _C.WRITE, _C.QUERY),
    ConnectorType.MCP: (_C.READ, _C.WRITE, _C.QUERY),
    ConnectorType.SQL: (_C.READ, _C.WRITE, _C.QUERY, _C.TRANSACTION),
    ConnectorType.VECTOR: (_C.READ, _C.WRITE, _C.VECTOR_SEARCH),
    ConnectorType.FILE: (_C.READ, _C.WRITE),
    ConnectorType.SERVERLESS: (_C.QUERY,),
    ConnectorType.STREAM: (_C.READ, _C.STREAM),
    ConnectorType.CUSTOM: (_C.READ,),
}


@dataclass(frozen=True, slots=True)
class Connector:
    """A tenant's connector, as stored."""

    id: str
    tenant_id: str
    name: str
    connector_type: ConnectorType
    status: ConnectorStatus
    endpoint: str
    config: Mapping[str, Any]
    metadata: Mapping[str, Any]
    credential_ref: str
    create_time: datetime
    update_time: datetime
    last_used_time: datetime | None = None
    last_error: str = ""
    version: int = 1

    @property
    def capabilities(self) -> tuple[ConnectorCapability, ...]:
        """What the connector can do; follows from its type."""
        return CAPABILITIES[self.connector_type]

    @property
    def etag(self) -> str:
        """Opaque version tag; changes on every write."""
        return version_etag(self.id, self.version)


@dataclass(frozen=True, slots=True)
class ConnectorDraft:
    """What a caller supplies to register a connector."""

    name: str
    connector_type: ConnectorType | None
    endpoint: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    credential_ref: str = ""


@dataclass(frozen=True, slots=True)
class ConnectorFilters:
    """Optional list filters; None means any."""

    connector_type: ConnectorType | None = None
    status: ConnectorStatus | None = None


class ConnectorStore(VersionedStore[Connector, ConnectorFilters], Protocol):
    """Persistence of connectors."""

    async def record_test(
        self,
        tenant_id: str,
        connector_id: str,
        *,
        from_status: ConnectorStatus,
        status: ConnectorStatus,
        when: datetime,
        error: str,
    ) -> Connector | None:
        """Stores a test outcome if the stored status is still `from_status`: `last_used_time`
        on success (empty `error`), else `last_error`; returns the connector as written, None
        when it is gone or its status moved on."""
        ...


def _require_postgres_url(field_name: str, value: str) -> str:
    return require_url(field_name, value, schemes=_POSTGRES_SCHEMES)


def _check_endpoint(
    prefix: str, connector_type: ConnectorType, endpoint: str, violations: list[FieldViolation]
) -> str:
    name = f"{prefix}.endpoint"
    endpoint = endpoint.strip()
    if connector_type in (ConnectorType.HTTP, ConnectorType.MCP):
        return collect(violations, require_http_url, name, endpoint) or endpoint
    if not endpoint:
        return endpoint
    if connector_type is ConnectorType.SQL:
        url = collect(violations, _require_postgres_url, name, endpoint)
        if url and split_password(url).password is not None:
            violations.append(
                FieldViolation(name, "must not carry a password; put it in credential_ref")
            )
        return endpoint
    if parse_host_port(endpoint) is None:
        collect(violations, require_http_url, name, endpoint)
    return endpoint


def validated(prefix: str, connector_type: ConnectorType, values: dict[str, Any]) -> dict[str, Any]:
    """Checks and normalises a connector's writable values for its type, all violations at once.

    `values` holds the full set of writable fields (the stored ones merged with the changes)."""
    violations: list[FieldViolation] = []
    values["name"] = collect(violations, require_name, f"{prefix}.name", values["name"])
    values["endpoint"] = _check_endpoint(prefix, connector_type, values["endpoint"], violations)
    ref = values["credential_ref"].strip()
    if ref or connector_type is ConnectorType.SQL:
        if not ref:
            violations.append(
                FieldViolation(
                    f"{prefix}.credential_ref",
                    "is required for SQL connectors: the ref of the connection string, or of "
                    "the password when endpoint is a postgresql:// URL",
                )
            )
        else:
            ref = collect(violations, check_credential_ref, f"{prefix}.credential_ref", ref)
    values["credential_ref"] = ref or ""
    for name in ("config", "metadata"):
        values[name] = dict(values[name])
        violations.extend(secret_key_violations(f"{prefix}.{name}", values[name]))
    collect(
        violations, timeout_of, f"{prefix}.config.timeout_seconds",
        values["config"].get("timeout_seconds"),
    )
    if violations:
        raise InvalidArgument(violations)
    return values


class ConnectorsEngine:
    """The rules of ConnectorsService: validation, capabilities, etags, idempotency, tests."""

    def __init__(
        self,
        store: ConnectorStore,
        tester: ConnectionTester,
        credentials: CredentialService,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
        credential_ref_check: CredentialRefCheck | None = None,
        egress: EgressCheck = DEFAULT_POLICY,
    ) -> None:
        """`egress` refuses endpoints naming an address the egress policy refuses."""
        self._egress = egress
        self._store = store
        self._tester = tester
        self._credentials = credentials
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only
        self._credential_ref_check = credential_ref_check

    async def list(
        self, tenant_id: str, page_size: int, page_token: str, filters: ConnectorFilters
    ) -> Page[Connector]:
        tenant_id = require_uuid("tenant_id", tenant_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "type": filters.connector_type, "status": filters.status},
            lambda page: self._store.list(tenant_id, filters, page),
            tokens=self._page_tokens,
        )

    async def get(self, tenant_id: str, connector_id: str) -> Connector:
        return await find_owned(
            self._store.get, tenant_id, connector_id, resource=RESOURCE, id_field="connector_id"
        )

    async def register(
        self, tenant_id: str, draft: ConnectorDraft, *, request_id: str = ""
    ) -> Connector:
        tenant_id = require_uuid("tenant_id", tenant_id)
        key = idempotency_key(request_id, draft)
        earlier = await earlier_create(
            self._store.find_by_request_id, tenant_id, key, resource=RESOURCE
        )
        if earlier is not None:
            return earlier
        if draft.connector_type is None:
            raise InvalidArgument.single("connector.connector_type", "is required")
        values = validated(
            "connector",
            draft.connector_type,
            {
                "name": draft.name,
                "endpoint": draft.endpoint,
                "config": draft.config,
                "metadata": draft.metadata,
                "credential_ref": draft.credential_ref,
            },
        )
        self._check_egress(draft.connector_type, values["endpoint"])
        await self._require_live_credential(tenant_id, values["credential_ref"])
        now = self._clock()
        connector = Connector(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            connector_type=draft.connector_type,
            status=ConnectorStatus.REGISTERED,
            create_time=now,
            update_time=now,
            **values,
        )
        return await self._store.insert(connector, key)

    async def update(
        self, tenant_id: str, connector_id: str, changes: Mapping[str, Any], etag: str
    ) -> Connector:
        """Applies `changes` (each key one of WRITABLE_FIELDS, which the servicer checks the update
        mask against); after validation, a non-empty stale `etag` is ABORTED."""
        current = await self.get(tenant_id, connector_id)
        # Changed connection settings make the last test stale: CONFIGURING until the next one.
        reconfigured = any(
            changes[f] != getattr(current, f) for f in _CONNECTION_FIELDS if f in changes
        )

        def apply(connector: Connector) -> Connector:
            merged = {name: getattr(connector, name) for name in WRITABLE_FIELDS} | dict(changes)
            values = validated("connector", connector.connector_type, merged)
            status = (
                next_status(connector.status, ConnectorEvent.RECONFIGURE)
                if reconfigured
                else connector.status
            )
            return replace(
                connector,
                **values,
                status=status,
                update_time=self._clock(),
                version=connector.version + 1,
            )

        checked = apply(current)  # validate before touching the etag or the store
        self._check_egress(checked.connector_type, checked.endpoint)
        if "credential_ref" in changes:
            await self._require_live_credential(current.tenant_id, checked.credential_ref)
        return await write_with_retry(
            current,
            etag,
            resource=RESOURCE,
            apply=apply,
            save=self._store.replace,
            reload=lambda: self.get(current.tenant_id, current.id),
        )

    async def delete(self, tenant_id: str, connector_id: str) -> Connector:
        connector = await self.get(tenant_id, connector_id)
        return await soft_delete(connector, self._store, self._clock(), resource=RESOURCE)

    async def test(self, tenant_id: str, connector_id: str) -> tuple[ConnectionOutcome, Connector]:
        """Reaches the connector's endpoint now and records the outcome on it."""
        connector = await self.get(tenant_id, connector_id)
        outcome = await self._attempt(connector)
        event = ConnectorEvent.PASS_TEST if outcome.success else ConnectorEvent.FAIL_TEST
        when = self._clock()
        for _ in range(_RECORD_ATTEMPTS):
            recorded = await self._store.record_test(
                connector.tenant_id,
                connector.id,
                from_status=connector.status,
                status=next_status(connector.status, event),
                when=when,
                error="" if outcome.success else outcome.error,
            )
            if recorded is not None:
                return outcome, recorded
            connector = await self.get(connector.tenant_id, connector.id)  # moved on: again
        raise Aborted(f"the {RESOURCE} is being changed too often; retry later")

    async def disconnect(self, tenant_id: str, connector_id: str) -> tuple[Connector, str]:
        """Takes the connector out of service (DISCONNECTED)."""
        return await self._transition(tenant_id, connector_id, ConnectorEvent.DISCONNECT)

    async def reconnect(self, tenant_id: str, connector_id: str) -> tuple[Connector, str]:
        """Puts a DISCONNECTED connector back in service as READY."""
        return await self._transition(tenant_id, connector_id, ConnectorEvent.RECONNECT)

    async def deprecate(self, tenant_id: str, connector_id: str) -> tuple[Connector, str]:
        """Retires the connector for good (DEPRECATED)."""
        return await self._transition(tenant_id, connector_id, ConnectorEvent.DEPRECATE)

    async def _transition(
        self, tenant_id: str, connector_id: str, event: ConnectorEvent
    ) -> tuple[Connector, str]:
        connector = await self.get(tenant_id, connector_id)
        target = next_status(connector.status, event)
        if target is connector.status:
            return connector, f"already {target.value}"
        updated = replace(
            connector, status=target, update_time=self._clock(), version=connector.version + 1
        )
        if not await self._store.replace(updated, connector.version):
            raise Aborted(f"the {RESOURCE} changed concurrently; read it again and retry")
        return updated, f"{target.value} (was {connector.status.value})"

    def _check_egress(self, connector_type: ConnectorType, endpoint: str) -> None:
        """Refuses an endpoint that is a literal address the egress policy refuses."""
        if connector_type is ConnectorType.SQL:
            self._egress.check_url(endpoint, TargetKind.POSTGRES)
            return
        target = parse_host_port(endpoint)
        if target is not None:
            self._egress.check_literal(Destination(target.host, target.port, TargetKind.TCP))
        else:
            self._egress.check_url(endpoint)

    async def _require_live_credential(self, tenant_id: str, ref: str) -> None:
        await require_live_credential(
            self._credential_ref_check, tenant_id, "connector.credential_ref", ref
        )

    async def _attempt(self, connector: Connector) -> ConnectionOutcome:
        timeout = timeout_of("config.timeout_seconds", connector.config.get("timeout_seconds"))
        timeout = timeout or DEFAULT_TIMEOUT_SECONDS
        endpoint = connector.endpoint
        is_sql = connector.connector_type is ConnectorType.SQL
        is_http = endpoint.startswith(("http://", "https://"))
        secret = ""
        if connector.credential_ref and (is_sql or is_http):
            # Without an endpoint a SQL connector's secret is the connection string itself.
            destination = url_destinations(endpoint) if endpoint else None
            try:
                secret = (
                    await self._credentials.use(
                        connector.credential_ref, connector.tenant_id, destination
                    )
                ).value
            except ServiceError as exc:
                if exc.reason == DESTINATION_DENIED:
                    raise
                return failed_before_trying(
                    "credential_unavailable",
                    f"the connector's credential_ref could not be resolved ({exc.message}); "
                    "check that the credential exists for this tenant and is not expired",
                )
        if is_sql:
            return await self._attempt_sql(endpoint, secret, timeout)
        if is_http:
            headers = {"Authorization": f"Bearer {secret}"} if secret else {}
            return await self._tester.http_get(endpoint, timeout=timeout, headers=headers)
        target = parse_host_port(endpoint)
        if target is None:
            return failed_before_trying(
                "no_endpoint", "the connector has no endpoint to test; set an http(s) URL or "
                "host:port"
            )
        return await self._tester.tcp_connect(target.host, target.port, timeout=timeout)

    async def _attempt_sql(self, endpoint: str, secret: str, timeout: float) -> ConnectionOutcome:
        dsn = with_password(endpoint, secret) if endpoint else secret
        try:
            _require_postgres_url("dsn", dsn)
        except InvalidArgument:
            return failed_before_trying(
                "bad_connection_string",
                "the credential does not hold a postgresql:// connection string; store one, or "
                "set endpoint to a postgresql:// URL and store only the password",
            )
        return await self._tester.postgres_select_one(
            PostgresTarget(dsn=dsn, ssl=SslMode.FROM_DSN), timeout=timeout
        )
