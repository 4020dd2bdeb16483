"""Customer data sources: the resource, its storage port, its lifecycle, real connection tests,
and statistics computed by the store.

Passwords and API keys are stored through the credential service as the tenant's credentials;
a data source keeps only their refs and a connection string with the password masked."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlsplit

from engines.connectors.connection_tester import (
    DEFAULT_TIMEOUT_SECONDS,
    ConnectionOutcome,
    ConnectionTester,
    PostgresTarget,
    SslMode,
    failed_before_trying,
    timeout_of,
)
from engines.credentials.credential_service import DESTINATION_DENIED, CredentialService
from engines.credentials.secret_keys import secret_key_violations
from engines.data_sources.discovery import MAX_COLUMNS, Discovery, check_max_tables
from engines.data_sources.lifecycle import DataSourceStatus, LifecycleAction, next_status
from engines.data_sources.settings import (
    ConnectionInput,
    ConnectionSettings,
    DataSourceType,
    SettingsPlan,
    plan_settings,
)
from engines.egress.destinations import url_destinations
from engines.egress.endpoints import MASK, HostPort, host_port_of_url, split_password, with_password
from engines.egress.policy import DEFAULT_POLICY, Destination, EgressCheck, TargetKind
from engines.kernel.clock import Clock, system_clock
from engines.kernel.deletion import soft_delete
from engines.kernel.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ServiceError,
)
from engines.kernel.idempotency import earlier_create, idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.optimistic import version_etag, write_with_retry
from engines.kernel.pagination import Page, PageTokens, read_page
from engines.kernel.store import VersionedStore
from engines.kernel.validation import require_name, require_uuid
from engines.kernel.violations import collect

__all__ = [
    "WRITABLE_FIELDS",
    "CallerRoles",
    "DataSource",
    "DataSourceDraft",
    "DataSourceFilters",
    "DataSourceStatistics",
    "DataSourceStatus",
    "DataSourceStore",
    "DataSourceType",
    "DataSourcesEngine",
    "ConnectionTestRecord",
]

RESOURCE = "data source"
WRITABLE_FIELDS = frozenset(
    {"name", "description", "tags", "metadata", "owner_id", "access_roles", "config"}
)
_TAG = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_MAX_TAGS = 32
_MAX_ROLES = 64
_DEFAULT_POSTGRES_PORT = 5432
_RECORD_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class DataSource:
    """A tenant's data source, as stored."""

    id: str
    tenant_id: str
    name: str
    source_type: DataSourceType
    status: DataSourceStatus
    config: ConnectionSettings
    description: str
    tags: tuple[str, ...]
    metadata: Mapping[str, Any]
    owner_id: str
    access_roles: tuple[str, ...]
    create_time: datetime
    update_time: datetime
    last_connected_time: datetime | None = None
    last_error: str = ""
    last_error_time: datetime | None = None
    connection_count: int = 0
    error_count: int = 0
    version: int = 1

    @property
    def etag(self) -> str:
        """Opaque version tag; changes on every write."""
        return version_etag(self.id, self.version)

    @property
    def tested_since_error(self) -> bool:
        """True when a test succeeded after the last failed one (or none ever failed)."""
        if self.last_error_time is None:
            return True
        return self.last_connected_time is not None and (
            self.last_connected_time > self.last_error_time
        )


@dataclass(frozen=True, slots=True)
class DataSourceDraft:
    """What a caller supplies to register a data source."""

    name: str
    source_type: DataSourceType | None
    config: ConnectionInput = field(default_factory=ConnectionInput)
    description: str = ""
    tags: Sequence[str] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    owner_id: str = ""
    access_roles: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class DataSourceFilters:
    """Optional list filters; None means any."""

    source_type: DataSourceType | None = None
    status: DataSourceStatus | None = None
    tag: str | None = None
    # Set by the engine, not by callers: the caller's roles (None: every data source is visible).
    roles: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class DataSourceStatistics:
    """Counts over a tenant's live data sources."""

    total: int
    by_status: Mapping[DataSourceStatus, int]
    by_type: Mapping[DataSourceType, int]
    total_connections: int
    total_errors: int


@dataclass(frozen=True, slots=True)
class ConnectionTestRecord:
    """A connection test's outcome as written to a data source."""

    success: bool
    when: datetime
    error: str
    status: DataSourceStatus


# The roles of the caller being served; None when it may see every data source (open mode, or
# a caller file entry with `roles: "*"`).
CallerRoles = Callable[[], "frozenset[str] | None"]


class DataSourceStore(VersionedStore[DataSource, DataSourceFilters], Protocol):
    """Persistence of data sources and their statistics."""

    async def record_test(self, data_source: DataSource, record: ConnectionTestRecord) -> bool:
        """Counts a test (connection_count or error_count + 1, times, last_error, status) if the
        stored status is still `data_source.status`; False when it moved on or the row is gone."""
        ...

    async def statistics(
        self, tenant_id: str, roles: frozenset[str] | None = None
    ) -> DataSourceStatistics:
        """Grouped counts of the data sources `roles` may see (None: all), computed by the
        database without loading rows."""
        ...


def _checked_tags(name: str, tags: Sequence[str], violations: list[FieldViolation]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(t.strip() for t in tags))
    if len(unique) > _MAX_TAGS:
        violations.append(FieldViolation(name, f"must hold at most {_MAX_TAGS} tags"))
    for index, tag in enumerate(unique):
        if not _TAG.match(tag):
            violations.append(
                FieldViolation(f"{name}[{index}]", "must be 1-64 letters, digits, -, _, . or :")
            )
    return unique


def _checked_roles(name: str, roles: Sequence[str], violations: list[FieldViolation]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(r.strip() for r in roles))
    if len(unique) > _MAX_ROLES:
        violations.append(FieldViolation(name, f"must hold at most {_MAX_ROLES} roles"))
    for index, role in enumerate(unique):
        collect(violations, require_name, f"{name}[{index}]", role)
    return unique


def _checked_values(prefix: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldViolation]]:
    """Normalises the writable fields other than config that are present in `values`."""
    violations: list[FieldViolation] = []
    checked = dict(values)
    if "name" in values:
        checked["name"] = collect(violations, require_name, f"{prefix}.name", values["name"])
    if "description" in values and len(values["description"]) > 2000:
        violations.append(FieldViolation(f"{prefix}.description", "must be at most 2000 characters"))
    if "owner_id" in values:
        checked["owner_id"] = values["owner_id"].strip()
        if len(checked["owner_id"]) > 128:
            violations.append(FieldViolation(f"{prefix}.owner_id", "must be at most 128 characters"))
    if "tags" in values:
        checked["tags"] = _checked_tags(f"{prefix}.tags", values["tags"], violations)
    if "access_roles" in values:
        checked["access_roles"] = _checked_roles(
            f"{prefix}.access_roles", values["access_roles"], violations
        )
    if "metadata" in values:
        checked["metadata"] = dict(values["metadata"])
        violations.extend(secret_key_violations(f"{prefix}.metadata", checked["metadata"]))
    return checked, violations


def _replayable(draft: DataSourceDraft) -> DataSourceDraft:
    """What of a create request its idempotency digest covers: everything but the secrets
    (only whether each was given), which must not be stored even as a digest."""
    given = draft.config
    settings = replace(
        given.settings, connection_string=split_password(given.settings.connection_string).masked
    )
    return replace(
        draft,
        config=ConnectionInput(
            settings=settings,
            password=MASK if given.password else "",
            api_key=MASK if given.api_key else "",
        ),
    )


class DataSourcesEngine:
    """The rules of DataSourcesService: validation, secrets through the credential service,
    lifecycle, etags, idempotency, connection tests and statistics."""

    def __init__(
        self,
        store: DataSourceStore,
        tester: ConnectionTester,
        credentials: CredentialService,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
        egress: EgressCheck = DEFAULT_POLICY,
        caller_roles: CallerRoles = lambda: None,
    ) -> None:
        """`egress` refuses settings naming an address the egress policy refuses; `caller_roles`
        says which roles the caller being served holds (a data source with access roles is
        visible, testable and changeable only by a caller holding one of them)."""
        self._caller_roles = caller_roles
        self._egress = egress
        self._store = store
        self._tester = tester
        self._credentials = credentials
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only

    async def list(
        self, tenant_id: str, page_size: int, page_token: str, filters: DataSourceFilters
    ) -> Page[DataSource]:
        tenant_id = require_uuid("tenant_id", tenant_id)
        if filters.tag is not None and not _TAG.match(filters.tag):
            raise InvalidArgument.single("tag", "must be 1-64 letters, digits, -, _, . or :")
        fingerprint = {
            "tenant": tenant_id,
            "type": filters.source_type,
            "status": filters.status,
            "tag": filters.tag,
        }
        visible = replace(filters, roles=self._caller_roles())
        return await read_page(
            page_size,
            page_token,
            fingerprint,
            lambda page: self._store.list(tenant_id, visible, page),
            tokens=self._page_tokens,
        )

    async def get(self, tenant_id: str, data_source_id: str) -> DataSource:
        """A live data source of the tenant that the caller may see; another tenant's, or one
        whose access roles the caller holds none of, is the same NOT_FOUND as a missing one."""
        found = await find_owned(
            self._store.get, tenant_id, data_source_id, resource=RESOURCE, id_field="data_source_id"
        )
        if not _visible(found.access_roles, self._caller_roles()):
            raise NotFound(RESOURCE, data_source_id)
        return found

    def _check_roles_held(
        self, field_name: str, roles: Sequence[str]
    ) -> tuple[FieldViolation, ...]:
        """A caller may not restrict a data source to roles it holds none of (it would lose it)."""
        if _visible(tuple(roles), self._caller_roles()):
            return ()
        return (FieldViolation(field_name, "must include a role the caller holds"),)

    async def register(
        self, tenant_id: str, draft: DataSourceDraft, *, request_id: str = ""
    ) -> DataSource:
        tenant_id = require_uuid("tenant_id", tenant_id)
        key = idempotency_key(request_id, _replayable(draft))
        earlier = await earlier_create(
            self._store.find_by_request_id, tenant_id, key, resource=RESOURCE
        )
        if earlier is not None:
            return earlier
        if draft.source_type is None:
            raise InvalidArgument.single("data_source.source_type", "is required")
        values, violations = _checked_values(
            "data_source",
            {
                "name": draft.name,
                "description": draft.description,
                "tags": draft.tags,
                "metadata": draft.metadata,
                "owner_id": draft.owner_id,
                "access_roles": draft.access_roles,
            },
        )
        violations += self._check_roles_held(
            "data_source.access_roles", values.get("access_roles", ())
        )
        try:
            plan = plan_settings("data_source", draft.source_type, draft.config)
        except InvalidArgument as exc:
            violations.extend(exc.violations)
        if violations:
            raise InvalidArgument(violations)
        _check_egress(self._egress, draft.source_type, plan.settings)
        data_source_id = str(uuid.uuid4())
        settings, created = await self._store_secrets(
            tenant_id, data_source_id, draft.source_type, plan
        )
        now = self._clock()
        data_source = DataSource(
            id=data_source_id,
            tenant_id=tenant_id,
            source_type=draft.source_type,
            status=DataSourceStatus.PENDING,
            config=settings,
            create_time=now,
            update_time=now,
            **values,
        )
        try:
            stored = await self._store.insert(data_source, key)
        except BaseException:
            await self._revoke(tenant_id, created)
            raise
        if stored.id != data_source_id:  # a concurrent retry with the same request_id won
            await self._revoke(tenant_id, created)
        return stored

    async def update(
        self, tenant_id: str, data_source_id: str, changes: Mapping[str, Any], etag: str
    ) -> DataSource:
        """Applies `changes` (each key one of WRITABLE_FIELDS, which the servicer checks the update
        mask against; config is a ConnectionInput); after validation, a stale `etag` is ABORTED."""
        current = await self.get(tenant_id, data_source_id)
        values, violations = _checked_values("data_source", dict(changes))
        if "access_roles" in values:
            violations += self._check_roles_held("data_source.access_roles", values["access_roles"])
        plan = None
        if "config" in changes:
            try:
                plan = plan_settings(
                    "data_source", current.source_type, changes["config"], current.config
                )
            except InvalidArgument as exc:
                violations.extend(exc.violations)
        if violations:
            raise InvalidArgument(violations)
        if plan is not None:
            _check_egress(self._egress, current.source_type, plan.settings)
        values.pop("config", None)
        created: Sequence[str] = ()
        new_settings = None
        if plan is not None:
            new_settings, created = await self._store_secrets(
                current.tenant_id, current.id, current.source_type, plan
            )
        replaced: list[str] = []  # refs the write supersedes, revoked once it landed

        def apply(data_source: DataSource) -> DataSource:
            config = data_source.config
            if new_settings is not None and plan is not None:
                old = data_source.config
                config = replace(
                    new_settings,
                    password_ref=new_settings.password_ref
                    if plan.replaces_password
                    else old.password_ref,
                    api_key_ref=new_settings.api_key_ref
                    if plan.replaces_api_key
                    else old.api_key_ref,
                )
                replaced[:] = [
                    ref
                    for ref, renewed in (
                        (old.password_ref, plan.replaces_password),
                        (old.api_key_ref, plan.replaces_api_key),
                    )
                    if ref and renewed
                ]
            return replace(
                data_source,
                **values,
                config=config,
                update_time=self._clock(),
                version=data_source.version + 1,
            )

        try:
            updated = await write_with_retry(
                current,
                etag,
                resource=RESOURCE,
                apply=apply,
                save=self._store.replace,
                reload=lambda: self.get(current.tenant_id, current.id),
            )
        except BaseException:
            await self._revoke(current.tenant_id, created)
            raise
        await self._revoke(current.tenant_id, replaced)
        return updated

    async def delete(self, tenant_id: str, data_source_id: str) -> DataSource:
        """Soft-deletes the data source and revokes the secrets it stored."""
        data_source = await self.get(tenant_id, data_source_id)
        await soft_delete(data_source, self._store, self._clock(), resource=RESOURCE)
        config = data_source.config
        await self._revoke(
            data_source.tenant_id, [r for r in (config.password_ref, config.api_key_ref) if r]
        )
        return data_source

    async def activate(self, tenant_id: str, data_source_id: str) -> tuple[DataSource, str]:
        return await self._transition(tenant_id, data_source_id, LifecycleAction.ACTIVATE)

    async def deactivate(self, tenant_id: str, data_source_id: str) -> tuple[DataSource, str]:
        return await self._transition(tenant_id, data_source_id, LifecycleAction.DEACTIVATE)

    async def deprecate(self, tenant_id: str, data_source_id: str) -> tuple[DataSource, str]:
        return await self._transition(tenant_id, data_source_id, LifecycleAction.DEPRECATE)

    async def statistics(self, tenant_id: str) -> DataSourceStatistics:
        return await self._store.statistics(
            require_uuid("tenant_id", tenant_id), self._caller_roles()
        )

    async def test_connection(
        self, tenant_id: str, data_source_id: str
    ) -> tuple[ConnectionOutcome, DataSource]:
        """Connects now and counts the outcome on the data source (a failure sets ERROR)."""
        data_source = await self.get(tenant_id, data_source_id)
        outcome = await self._attempt(data_source)
        when = self._clock()
        for _ in range(_RECORD_ATTEMPTS):
            status = data_source.status
            if not outcome.success:
                status = next_status(status, LifecycleAction.FAIL_TEST, tested_since_error=True)
            record = ConnectionTestRecord(outcome.success, when, outcome.error, status)
            if await self._store.record_test(data_source, record):
                return outcome, await self.get(data_source.tenant_id, data_source.id)
            data_source = await self.get(data_source.tenant_id, data_source.id)
        raise Aborted(f"the {RESOURCE} is being changed too often; retry later")

    async def discover(
        self, tenant_id: str, data_source_id: str, max_tables: int = 0
    ) -> Discovery:
        """For a DATABASE source, its tables, views and columns as its own login sees them; for
        an API source, what a HEAD and an OPTIONS say. Counted like no test: nothing changes."""
        limit = check_max_tables(max_tables)
        data_source = await self.get(tenant_id, data_source_id)
        if data_source.source_type not in (DataSourceType.DATABASE, DataSourceType.API):
            raise FailedPrecondition(
                "DISCOVERY_NOT_SUPPORTED",
                f"discovery covers DATABASE and API data sources, not {data_source.source_type.name}",
            )
        config = data_source.config
        secrets = await self._secrets_for(data_source)
        if isinstance(secrets, ConnectionOutcome):
            return Discovery(secrets)
        password, api_key = secrets
        timeout = _timeout(config)
        if data_source.source_type is DataSourceType.DATABASE:
            outcome, tables, truncated = await self._tester.postgres_catalog(
                _postgres_target(config, password),
                timeout=timeout,
                max_tables=limit,
                max_columns=MAX_COLUMNS,
            )
            return Discovery(outcome, tuple(tables), truncated)
        outcome, found = await self._tester.http_describe(
            _api_url(config, password),
            timeout=timeout,
            headers=_api_headers(config, api_key),
            verify_tls=not (config.ssl_enabled and not config.ssl_verify),
        )
        return Discovery(outcome, http=found)

    async def _transition(
        self, tenant_id: str, data_source_id: str, action: LifecycleAction
    ) -> tuple[DataSource, str]:
        data_source = await self.get(tenant_id, data_source_id)
        target = next_status(
            data_source.status, action, tested_since_error=data_source.tested_since_error
        )
        if target is data_source.status:
            return data_source, f"already {target.value}"
        updated = replace(
            data_source, status=target, update_time=self._clock(), version=data_source.version + 1
        )
        if not await self._store.replace(updated, data_source.version):
            raise Aborted(f"the {RESOURCE} changed concurrently; read it again and retry")
        return updated, f"{target.value} (was {data_source.status.value})"

    async def _store_secrets(
        self,
        tenant_id: str,
        data_source_id: str,
        source_type: DataSourceType,
        plan: SettingsPlan,
    ) -> tuple[ConnectionSettings, Sequence[str]]:
        """Stores the plan's new secrets as the tenant's credentials, each allowed to go only
        where these settings send it; returns the settings with their refs and the refs created
        (to revoke if the write that needs them fails)."""
        settings = plan.settings
        destination = _secret_destination(source_type, settings)
        destinations = destination.split(",") if destination else []
        created: Sequence[str] = ()
        try:
            if plan.new_password:
                ref = await self._credentials.store(
                    tenant_id,
                    _secret_name(data_source_id, "password"),
                    plan.new_password,
                    destinations,
                )
                settings, created = replace(settings, password_ref=ref), (*created, ref)
            if plan.new_api_key:
                ref = await self._credentials.store(
                    tenant_id,
                    _secret_name(data_source_id, "api_key"),
                    plan.new_api_key,
                    destinations,
                )
                settings, created = replace(settings, api_key_ref=ref), (*created, ref)
        except BaseException:
            await self._revoke(tenant_id, created)
            raise
        return settings, created

    async def _revoke(self, tenant_id: str, refs: Sequence[str]) -> None:
        """Best effort: a ref left behind is harmless (it is unreachable), a failed call is not."""
        for ref in refs:
            try:
                await self._credentials.delete(tenant_id, ref)
            except ServiceError:
                pass

    async def _secret(self, ref: str, tenant_id: str, destination: str | None) -> str:
        """The secret for a test that sends it to `destination` (None: the test sends none)."""
        if not ref or destination is None:
            return ""
        return (await self._credentials.use(ref, tenant_id, destination)).value

    async def _secrets_for(self, data_source: DataSource) -> tuple[str, str] | ConnectionOutcome:
        """The source's password and API key, each released only towards where it connects;
        an outcome saying why not when one cannot be read."""
        config = data_source.config
        destination = _secret_destination(data_source.source_type, config)
        try:
            password = await self._secret(config.password_ref, data_source.tenant_id, destination)
            api_key = await self._secret(config.api_key_ref, data_source.tenant_id, destination)
        except ServiceError as exc:
            if exc.reason == DESTINATION_DENIED:
                raise
            return failed_before_trying(
                "credential_unavailable",
                f"a stored secret of the data source could not be read ({exc.message}); "
                "send the password or api_key again with UpdateDataSource",
            )
        return password, api_key

    async def _attempt(self, data_source: DataSource) -> ConnectionOutcome:
        config = data_source.config
        timeout = _timeout(config)
        secrets = await self._secrets_for(data_source)
        if isinstance(secrets, ConnectionOutcome):
            return secrets
        password, api_key = secrets
        if data_source.source_type is DataSourceType.DATABASE:
            return await self._tester.postgres_select_one(
                _postgres_target(config, password), timeout=timeout
            )
        if data_source.source_type is DataSourceType.API:
            return await self._tester.http_get(
                _api_url(config, password),
                timeout=timeout,
                headers=_api_headers(config, api_key),
                verify_tls=not (config.ssl_enabled and not config.ssl_verify),
            )
        target = _tcp_target(config)
        if target is None:
            return failed_before_trying(
                "no_endpoint", "the data source has no host and port to connect to; set them"
            )
        return await self._tester.tcp_connect(target.host, target.port, timeout=timeout)


def _timeout(config: ConnectionSettings) -> float:
    return (
        timeout_of("options.timeout_seconds", config.options.get("timeout_seconds"))
        or float(config.pool_timeout_seconds)
        or DEFAULT_TIMEOUT_SECONDS
    )


def _api_url(config: ConnectionSettings, password: str) -> str:
    """Where an API source is reached: options.url, else its connection string (with the
    stored password put back)."""
    url = str(config.options.get("url") or "")
    if url:
        return url
    return with_password(config.connection_string, password) if password else config.connection_string


def _visible(access_roles: Sequence[str], roles: frozenset[str] | None) -> bool:
    """Whether a caller holding `roles` (None: every role) may see a data source."""
    return roles is None or not access_roles or any(r in roles for r in access_roles)


def _check_egress(
    egress: EgressCheck, source_type: DataSourceType, config: ConnectionSettings
) -> None:
    """Refuses settings whose host is a literal address the egress policy refuses."""
    kind = {
        DataSourceType.DATABASE: TargetKind.POSTGRES,
        DataSourceType.API: TargetKind.HTTP,
    }.get(source_type, TargetKind.TCP)
    if config.connection_string:
        egress.check_url(config.connection_string, kind)
    if config.host:
        port = config.port or (_DEFAULT_POSTGRES_PORT if kind is TargetKind.POSTGRES else 1)
        database = (config.database or config.username or None) if kind is TargetKind.POSTGRES else None
        egress.check_literal(Destination(config.host, port, kind, database))
    url = config.options.get("url")
    if isinstance(url, str) and url:
        egress.check_url(url)


def _secret_destination(source_type: DataSourceType, config: ConnectionSettings) -> str | None:
    """Where a connection test sends the data source's password and API key (host:port, or
    several comma-separated); None when it sends neither."""
    if source_type is DataSourceType.DATABASE:
        return url_destinations(_postgres_target(config, "").dsn)
    if source_type is DataSourceType.API:
        return url_destinations(str(config.options.get("url") or "") or config.connection_string)
    return None


def _secret_name(data_source_id: str, kind: str) -> str:
    return f"data-source/{data_source_id}/{kind}/{uuid.uuid4().hex[:8]}"


def _postgres_target(config: ConnectionSettings, password: str) -> PostgresTarget:
    if config.connection_string:
        dsn = config.connection_string
        from_dsn = any(k == "sslmode" for k, _ in parse_qsl(urlsplit(dsn).query))
    else:
        host = f"[{config.host}]" if ":" in config.host else config.host
        port = config.port or _DEFAULT_POSTGRES_PORT
        dsn = f"postgresql://{quote(config.username, safe='')}@{host}:{port}/" + quote(
            config.database, safe=""
        )
        from_dsn = False
    if password:
        dsn = with_password(dsn, password)
    if config.ssl_enabled:
        ssl = SslMode.VERIFY_FULL if config.ssl_verify else SslMode.REQUIRE
    else:
        ssl = SslMode.FROM_DSN if from_dsn else SslMode.DISABLE
    return PostgresTarget(dsn=dsn, ssl=ssl)


def _api_headers(config: ConnectionSettings, api_key: str) -> dict[str, str]:
    if not api_key or config.auth_type == "none":
        return {}
    if config.auth_type == "header":
        return {str(config.options.get("auth_header") or "X-API-Key"): api_key}
    return {"Authorization": f"Bearer {api_key}"}


def _tcp_target(config: ConnectionSettings) -> HostPort | None:
    if config.host and config.port:
        return HostPort(config.host, config.port)
    if config.connection_string:
        return host_port_of_url(config.connection_string)
    return None
