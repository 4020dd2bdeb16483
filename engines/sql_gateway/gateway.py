"""The governed SQL gateway: gateways, the ExecuteQuery rules, and the ports they need.

A caller picks a registered template and supplies values; it never sends SQL. ExecuteQuery
resolves the gateway and the template, checks the allow-list, binds and screens every value,
refuses writes through read-only gateways, and runs the query under the tighter of the
template's and the gateway's caps. The connection string is revealed by the credential service
at the moment of use and never stored, logged or returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from engines.credentials.credential_service import CredentialService
from engines.credentials.refs import CredentialRefCheck, check_credential_ref, require_live_credential
from engines.kernel.clock import Clock, system_clock
from engines.kernel.deletion import soft_delete
from engines.kernel.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from engines.kernel.idempotency import earlier_create, idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.observability import NULL_OBSERVER, QueryObserver
from engines.kernel.optimistic import version_etag, write_with_retry
from engines.kernel.pagination import Page, PageTokens, read_page
from engines.kernel.store import ResourceStore, VersionedStore
from engines.kernel.validation import require_name, require_uuid
from engines.sql_gateway.parameters import CallerIdentity, bind_parameters
from engines.sql_gateway.results import QueryResult
from engines.sql_gateway.template_schema import template_input_schema
from engines.sql_gateway.templates import (
    DEFAULT_MAX_ROWS,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_ROWS_LIMIT,
    MAX_TIMEOUT_SECONDS,
    QueryTemplate,
    TemplateDraft,
    check_limit,
    check_template,
    require_template_id,
)

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "MAX_RESULT_BYTES_LIMIT",
    "BoundQuery",
    "Gateway",
    "GatewayDraft",
    "GatewayFilters",
    "GatewayStore",
    "ExecutionReader",
    "QueryLimits",
    "QueryRunner",
    "QueryTarget",
    "SqlGatewayEngine",
    "TemplateFilters",
    "TemplateStore",
    "GATEWAY_WRITABLE_FIELDS",
    "TEMPLATE_WRITABLE_FIELDS",
]

DEFAULT_MAX_RESULT_BYTES = 5 * 1024 * 1024
MAX_RESULT_BYTES_LIMIT = 64 * 1024 * 1024
MAX_ALLOWED_TEMPLATES = 1000
GATEWAY = "gateway"
TEMPLATE = "query template"
TEMPLATE_VERSION = "query template version"
# What UpdateQueryTemplate may change (each change is a new version) and UpdateGateway may.
TEMPLATE_WRITABLE_FIELDS = frozenset(
    {"name", "description", "sql", "parameters", "read_only", "max_rows", "timeout_seconds"}
)
GATEWAY_WRITABLE_FIELDS = frozenset(
    {
        "name",
        "connection_string_ref",
        "allowed_template_ids",
        "template_versions",
        "max_rows",
        "max_result_bytes",
        "timeout_seconds",
        "read_only",
    }
)


@dataclass(frozen=True, slots=True)
class GatewayDraft:
    """What a caller supplies to create a gateway; 0 limits and None read_only mean defaults."""

    name: str
    connection_string_ref: str
    allowed_template_ids: Sequence[str] = ()
    max_rows: int = 0
    max_result_bytes: int = 0
    timeout_seconds: int = 0
    read_only: bool | None = None
    template_versions: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Gateway:
    """A tenant's governed entry point to one database. Holds the ref, never the secret."""

    id: str
    tenant_id: str
    name: str
    connection_string_ref: str
    allowed_template_ids: tuple[str, ...]
    max_rows: int
    max_result_bytes: int
    timeout_seconds: int
    read_only: bool
    create_time: datetime
    # Template id -> the version this gateway runs; templates not named follow the latest.
    template_versions: Mapping[str, int] = field(default_factory=dict)
    version: int = 1
    update_time: datetime | None = None  # None: create_time

    @property
    def etag(self) -> str:
        return version_etag(self.id, self.version)

    @property
    def updated(self) -> datetime:
        return self.update_time or self.create_time


@dataclass(frozen=True, slots=True)
class QueryTarget:
    """The database to run on. `source` names who may share pooled connections (one tenant's
    one gateway, in one mode); a different connection string under the same source means the
    credential rotated."""

    source: str
    connection_string: str

    def __repr__(self) -> str:  # never print the connection string
        return f"QueryTarget(source={self.source!r}, connection_string='***')"


@dataclass(frozen=True, slots=True)
class BoundQuery:
    """A template's SQL and its coerced values, in placeholder order."""

    sql: str
    parameter_names: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The caps a runner enforces: rows, serialized bytes, seconds, and READ ONLY."""

    max_rows: int
    max_result_bytes: int
    timeout_seconds: float
    read_only: bool


@dataclass(frozen=True, slots=True)
class TemplateFilters:
    """ListQueryTemplates filters; None means either state."""

    disabled: bool | None = None


@dataclass(frozen=True, slots=True)
class GatewayFilters:
    """ListGateways filters: gateways whose allow-list names `template_id` (empty: all)."""

    template_id: str = ""


class TemplateStore(ResourceStore[QueryTemplate, TemplateFilters], Protocol):
    """Templates: `get` answers the latest version of a live template; `insert` writes version 1."""

    async def get_version(self, tenant_id: str, template_id: str, version: int) -> QueryTemplate | None:
        """Version `version` of the tenant's live template (revision 0), None when missing."""
        ...

    async def save(self, template: QueryTemplate, expected_revision: int, *, new_version: bool) -> bool:
        """Writes `template` as the latest if the stored revision is still `expected_revision`
        (and, with `new_version`, stores its content as version `template.version`); False when
        the template changed meanwhile or is gone."""
        ...

    async def soft_delete(self, tenant_id: str, template_id: str, when: datetime) -> bool:
        """Marks the live template deleted (every version with it); False when there is none."""
        ...


GatewayStore = VersionedStore[Gateway, GatewayFilters]


class ExecutionReader(Protocol):
    """Reads what ExecuteQuery needs in one round trip: the tenant's live gateway and the latest
    version of its live template `template_id` (each None when missing)."""

    async def get_with_template(
        self, tenant_id: str, gateway_id: str, template_id: str
    ) -> tuple[Gateway | None, QueryTemplate | None]: ...


class QueryRunner(Protocol):
    """Runs one bound statement on a target database under the given caps.

    Errors are engine errors: DeadlineExceeded (timed out, cancelled on the server),
    FailedPrecondition / InvalidArgument (the database refused the statement or a value, with
    its message), Unavailable (the database cannot be reached). Never the connection string."""

    async def run(self, target: QueryTarget, query: BoundQuery, limits: QueryLimits) -> QueryResult: ...


class SqlGatewayEngine:
    """The rules of SqlGatewayService."""

    def __init__(
        self,
        templates: TemplateStore,
        gateways: GatewayStore,
        credentials: CredentialService,
        runner: QueryRunner,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
        result_bytes_ceiling: int = MAX_RESULT_BYTES_LIMIT,
        observer: QueryObserver = NULL_OBSERVER,
        credential_ref_check: CredentialRefCheck | None = None,
        execution_reader: ExecutionReader | None = None,
    ) -> None:
        self._templates = templates
        self._gateways = gateways
        self._credentials = credentials
        self._runner = runner
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only
        # The server cannot send a response larger than its message size limit.
        self._result_bytes_ceiling = result_bytes_ceiling
        self._observer = observer
        self._credential_ref_check = credential_ref_check
        # None: ExecuteQuery reads the gateway and the template with one get each.
        self._execution_reader = execution_reader

    async def create_template(
        self, tenant_id: str, draft: TemplateDraft, *, request_id: str = ""
    ) -> QueryTemplate:
        tenant_id = require_uuid("tenant_id", tenant_id)
        key = idempotency_key(request_id, _digested(draft))
        earlier = await earlier_create(
            self._templates.find_by_request_id, tenant_id, key, resource=TEMPLATE
        )
        if earlier is not None:
            return earlier
        checked = check_template(draft)
        now = self._clock()
        template = QueryTemplate(
            id=checked.id,
            tenant_id=tenant_id,
            name=checked.name,
            description=checked.description,
            sql=checked.sql,
            parameters=tuple(checked.parameters),
            read_only=checked.read_only,
            max_rows=checked.max_rows,
            timeout_seconds=checked.timeout_seconds,
            create_time=now,
            update_time=now,
        )
        return await self._templates.insert(template, key)

    async def get_template(
        self, tenant_id: str, template_id: str, version: int = 0
    ) -> QueryTemplate:
        """The latest version of a live template, or version `version` (0: the latest)."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        template_id = require_template_id("template_id", template_id)
        if version < 0:
            raise InvalidArgument.single("version", "must be >= 1 (0 for the latest)")
        template = await self._templates.get(tenant_id, template_id)
        if template is None:
            raise NotFound(TEMPLATE, template_id)
        if version == 0 or version == template.version:
            return template
        if version > template.version:
            raise NotFound(TEMPLATE_VERSION, f"{template_id}@{version}")
        older = await self._templates.get_version(tenant_id, template_id, version)
        if older is None:
            raise NotFound(TEMPLATE_VERSION, f"{template_id}@{version}")
        return replace(older, disabled=template.disabled)

    async def update_template(
        self, tenant_id: str, template_id: str, changes: Mapping[str, Any], etag: str
    ) -> QueryTemplate:
        """Writes the changed content as a new version (version + 1, new etag and update time);
        the older versions stay readable. A non-empty stale `etag` is ABORTED."""

        def apply(current: QueryTemplate) -> QueryTemplate:
            merged = {name: getattr(current, name) for name in TEMPLATE_WRITABLE_FIELDS}
            merged.update(changes)
            checked = check_template(TemplateDraft(id=current.id, **merged))
            return replace(
                current,
                name=checked.name,
                description=checked.description,
                sql=checked.sql,
                parameters=tuple(checked.parameters),
                read_only=checked.read_only,
                max_rows=checked.max_rows,
                timeout_seconds=checked.timeout_seconds,
                version=current.version + 1,
                revision=current.revision + 1,
                update_time=self._clock(),
            )

        return await self._change_template(tenant_id, template_id, etag, apply, new_version=True)

    async def set_template_disabled(
        self, tenant_id: str, template_id: str, disabled: bool, etag: str
    ) -> QueryTemplate:
        """Disables (ExecuteQuery then refuses it, FAILED_PRECONDITION TEMPLATE_DISABLED) or
        enables a template; setting the state it already has changes nothing."""

        def apply(current: QueryTemplate) -> QueryTemplate:
            return replace(
                current, disabled=disabled, revision=current.revision + 1, update_time=self._clock()
            )

        return await self._change_template(
            tenant_id, template_id, etag, apply, new_version=False, unless=lambda t: t.disabled == disabled
        )

    async def delete_template(self, tenant_id: str, template_id: str, etag: str = "") -> QueryTemplate:
        """Soft-deletes a template with all its versions; its id stays taken."""
        template = await self.get_template(tenant_id, template_id)
        return await soft_delete(
            template, self._templates, self._clock(), resource=TEMPLATE, etag=etag
        )

    async def _change_template(
        self,
        tenant_id: str,
        template_id: str,
        etag: str,
        apply: Callable[[QueryTemplate], QueryTemplate],
        *,
        new_version: bool,
        unless: Callable[[QueryTemplate], bool] | None = None,
    ) -> QueryTemplate:
        current = await self.get_template(tenant_id, template_id)
        apply(current)  # validate first: bad input is INVALID_ARGUMENT whatever the etag
        return await write_with_retry(
            current,
            etag,
            resource=TEMPLATE,
            apply=apply,
            save=lambda updated, revision: self._templates.save(
                updated, revision, new_version=new_version
            ),
            reload=lambda: self.get_template(tenant_id, template_id),
            expected=lambda template: template.revision,
            unless=unless,
        )

    async def describe_template(
        self, tenant_id: str, template_id: str, version: int = 0
    ) -> tuple[QueryTemplate, dict[str, Any]]:
        """The template (at `version`, 0: the latest) and its parameters as a JSON Schema (see
        engines/sql_gateway/template_schema.py)."""
        template = await self.get_template(tenant_id, template_id, version)
        return template, template_input_schema(template)

    async def list_templates(
        self,
        tenant_id: str,
        page_size: int,
        page_token: str,
        filters: TemplateFilters = TemplateFilters(),
    ) -> Page[QueryTemplate]:
        tenant_id = require_uuid("tenant_id", tenant_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "list": "templates", "disabled": filters.disabled},
            lambda page: self._templates.list(tenant_id, filters, page),
            tokens=self._page_tokens,
        )

    async def create_gateway(
        self, tenant_id: str, draft: GatewayDraft, *, request_id: str = ""
    ) -> Gateway:
        tenant_id = require_uuid("tenant_id", tenant_id)
        key = idempotency_key(request_id, _digested(draft))
        earlier = await earlier_create(
            self._gateways.find_by_request_id, tenant_id, key, resource=GATEWAY
        )
        if earlier is not None:
            return earlier
        now = self._clock()
        gateway = replace(_checked_gateway(draft, tenant_id, now), update_time=now)
        await require_live_credential(
            self._credential_ref_check,
            tenant_id,
            "gateway.connection_string_ref",
            gateway.connection_string_ref,
        )
        return await self._gateways.insert(gateway, key)

    async def get_gateway(self, tenant_id: str, gateway_id: str) -> Gateway:
        return await find_owned(
            self._gateways.get, tenant_id, gateway_id, resource=GATEWAY, id_field="gateway_id"
        )

    async def update_gateway(
        self, tenant_id: str, gateway_id: str, changes: Mapping[str, Any], etag: str
    ) -> Gateway:
        """Applies `changes` (each key one of WRITABLE_FIELDS, which the servicer checks the update
        mask against); after validation, a non-empty stale `etag` is ABORTED."""
        current = await self.get_gateway(tenant_id, gateway_id)

        def apply(gateway: Gateway) -> Gateway:
            merged = {name: getattr(gateway, name) for name in GATEWAY_WRITABLE_FIELDS}
            merged.update(changes)
            checked = _checked_gateway(GatewayDraft(**merged), gateway.tenant_id, gateway.create_time)
            return replace(
                checked,
                id=gateway.id,
                version=gateway.version + 1,
                update_time=self._clock(),
            )

        checked = apply(current)
        if "connection_string_ref" in changes:
            await require_live_credential(
                self._credential_ref_check,
                current.tenant_id,
                "gateway.connection_string_ref",
                checked.connection_string_ref,
            )
        return await write_with_retry(
            current,
            etag,
            resource=GATEWAY,
            apply=apply,
            save=self._gateways.replace,
            reload=lambda: self.get_gateway(tenant_id, gateway_id),
        )

    async def delete_gateway(self, tenant_id: str, gateway_id: str, etag: str = "") -> Gateway:
        """Soft-deletes a gateway; its name is free again."""
        gateway = await self.get_gateway(tenant_id, gateway_id)
        return await soft_delete(gateway, self._gateways, self._clock(), resource=GATEWAY, etag=etag)

    async def list_gateways(
        self,
        tenant_id: str,
        page_size: int,
        page_token: str,
        filters: GatewayFilters = GatewayFilters(),
    ) -> Page[Gateway]:
        tenant_id = require_uuid("tenant_id", tenant_id)
        if filters.template_id:
            require_template_id("template_id", filters.template_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "list": "gateways", "template_id": filters.template_id},
            lambda page: self._gateways.list(tenant_id, filters, page),
            tokens=self._page_tokens,
        )

    async def execute(
        self,
        tenant_id: str,
        gateway_id: str,
        template_id: str,
        parameters: Mapping[str, Any],
        *,
        caller: str = "",
    ) -> QueryResult:
        """Runs an allowed template through a gateway; see the module docstring for the steps.

        Identity-bound parameters are filled with the gateway's tenant id and `caller`."""
        gateway, template = await self._execution_rows(tenant_id, gateway_id, template_id)
        if template.id not in gateway.allowed_template_ids:
            raise PermissionDenied(
                f"template {template.id!r} is not in the allow-list of gateway {gateway.id!r}",
                reason="TEMPLATE_NOT_ALLOWED",
                metadata={"template_id": template.id, "gateway_id": gateway.id},
            )
        if template.disabled:
            raise FailedPrecondition(
                "TEMPLATE_DISABLED",
                f"template {template.id!r} is disabled; EnableQueryTemplate allows it again",
                metadata={"template_id": template.id},
            )
        pinned = gateway.template_versions.get(template.id)
        if pinned is not None and pinned != template.version:
            older = None
            if pinned < template.version:
                older = await self._templates.get_version(template.tenant_id, template.id, pinned)
            if older is None:
                raise FailedPrecondition(
                    "TEMPLATE_VERSION_MISSING",
                    f"gateway {gateway.id!r} pins version {pinned} of template {template.id!r}, "
                    f"which does not exist (the latest is {template.version})",
                    metadata={"template_id": template.id, "gateway_id": gateway.id,
                              "version": str(pinned)},
                )
            template = older
        bound = bind_parameters(
            template.parameters, parameters, CallerIdentity(gateway.tenant_id, caller)
        )
        if gateway.read_only and not template.read_only:
            raise FailedPrecondition(
                "GATEWAY_READ_ONLY",
                f"template {template.id!r} may write, and gateway {gateway.id!r} is read-only",
                metadata={"template_id": template.id, "gateway_id": gateway.id},
            )
        limits = QueryLimits(
            max_rows=min(template.max_rows, gateway.max_rows),
            max_result_bytes=min(gateway.max_result_bytes, self._result_bytes_ceiling),
            timeout_seconds=min(template.timeout_seconds, gateway.timeout_seconds),
            # A template flagged read-only runs READ ONLY everywhere: the database enforces the
            # flag even if the SQL hides a write (e.g. a data-modifying CTE).
            read_only=gateway.read_only or template.read_only,
        )
        target = await self._target(gateway)
        try:
            result = await self._runner.run(
                target, BoundQuery(template.sql, bound.names, bound.values), limits
            )
        except DeadlineExceeded:
            self._observer.query_timed_out()
            raise
        reason = result.truncation_reason
        self._observer.query_finished(
            result.row_count, result.result_bytes, reason.value if reason else None
        )
        return replace(result, ignored_parameters=bound.ignored, template_version=template.version)

    async def _execution_rows(
        self, tenant_id: str, gateway_id: str, template_id: str
    ) -> tuple[Gateway, QueryTemplate]:
        if self._execution_reader is None:
            gateway = await self.get_gateway(tenant_id, gateway_id)
            return gateway, await self.get_template(gateway.tenant_id, template_id)
        tenant_id = require_uuid("tenant_id", tenant_id)
        gateway_id = require_uuid("gateway_id", gateway_id)
        template_id = require_template_id("template_id", template_id)
        found, template = await self._execution_reader.get_with_template(
            tenant_id, gateway_id, template_id
        )
        if found is None:
            raise NotFound(GATEWAY, gateway_id)
        if template is None:
            raise NotFound(TEMPLATE, template_id)
        return found, template

    async def _target(self, gateway: Gateway) -> QueryTarget:
        try:
            # The secret is the connection string: its own host:port is the destination.
            credential = await self._credentials.use(
                gateway.connection_string_ref, gateway.tenant_id, None
            )
        except NotFound:
            # The gateway exists; its secret does not. That is the gateway's state, not a
            # missing resource of the request.
            raise FailedPrecondition(
                "GATEWAY_CREDENTIAL_UNRESOLVED",
                f"the connection credential of gateway {gateway.id!r} cannot be resolved; "
                "store it in the credential service or create a new gateway",
                metadata={"gateway_id": gateway.id},
            ) from None
        return QueryTarget(
            source=f"{gateway.tenant_id}:{gateway.id}:{'ro' if gateway.read_only else 'rw'}",
            connection_string=credential.value,
        )


# Fields added after digests were first stored: left out of the digest while unset, so a create
# retried across the upgrade still matches the digest stored with its first attempt.
_LATER_SPEC_FIELDS = {"allowed_values": (), "pattern": "", "bound_to": None}


def _digested(draft: TemplateDraft | GatewayDraft) -> dict[str, Any]:
    """What the idempotency digest of a create covers: the draft, without unset later fields."""
    values = asdict(draft)
    if isinstance(draft, GatewayDraft):
        if not draft.template_versions:
            values.pop("template_versions")
        return values
    values["parameters"] = [
        {k: v for k, v in spec.items() if not (k in _LATER_SPEC_FIELDS and v in ((), [], "", None))}
        for spec in values["parameters"]
    ]
    return values


def _checked_gateway(draft: GatewayDraft, tenant_id: str, now: datetime) -> Gateway:
    violations: list[FieldViolation] = []
    name, ref = draft.name, draft.connection_string_ref
    try:
        name = require_name("gateway.name", draft.name)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    try:
        ref = check_credential_ref("gateway.connection_string_ref", draft.connection_string_ref)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
    allowed = list(dict.fromkeys(draft.allowed_template_ids))
    if len(allowed) > MAX_ALLOWED_TEMPLATES:
        violations.append(
            FieldViolation("gateway.allowed_template_ids", f"must list at most {MAX_ALLOWED_TEMPLATES}")
        )
    for index, template_id in enumerate(allowed):
        try:
            require_template_id(f"gateway.allowed_template_ids[{index}]", template_id)
        except InvalidArgument as exc:
            violations.extend(exc.violations)
    pins: dict[str, int] = {}
    for template_id, version in sorted(dict(draft.template_versions).items()):
        where = f"gateway.template_versions[{template_id}]"
        if template_id not in allowed:
            violations.append(FieldViolation(where, "pins a template not in allowed_template_ids"))
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            violations.append(FieldViolation(where, "must be a version >= 1"))
        else:
            pins[template_id] = version
    max_rows, bad = check_limit("gateway.max_rows", draft.max_rows, DEFAULT_MAX_ROWS, MAX_ROWS_LIMIT)
    violations.extend(bad)
    max_bytes, bad = check_limit(
        "gateway.max_result_bytes",
        draft.max_result_bytes,
        DEFAULT_MAX_RESULT_BYTES,
        MAX_RESULT_BYTES_LIMIT,
    )
    violations.extend(bad)
    timeout, bad = check_limit(
        "gateway.timeout_seconds", draft.timeout_seconds, DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS
    )
    violations.extend(bad)
    if violations:
        raise InvalidArgument(violations, reason=_ref_reason(violations))
    return Gateway(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        name=name,
        connection_string_ref=ref,
        allowed_template_ids=tuple(allowed),
        max_rows=max_rows,
        max_result_bytes=max_bytes,
        timeout_seconds=timeout,
        read_only=True if draft.read_only is None else draft.read_only,
        create_time=now,
        template_versions=pins,
    )


def _ref_reason(violations: Sequence[FieldViolation]) -> str | None:
    if any(v.field == "gateway.connection_string_ref" for v in violations):
        return "CREDENTIAL_REF_INVALID"
    return None
