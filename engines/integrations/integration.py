"""LLM provider integrations (bring your own key): the resource, its rules and its storage port.

Keys are never held here: an integration names its key by a `credential_ref`; anything that is
not a reference is refused without being stored, logged or echoed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from engines.admission.periods import UTC_MONTH, LimitPeriod
from engines.credentials.refs import (
    CredentialRefCheck,
    check_credential_ref,
    require_live_credential,
)
from engines.egress.policy import DEFAULT_POLICY, EgressCheck
from engines.health.circuit import CircuitState, refuse_enable_while_open
from engines.kernel.clock import Clock, system_clock
from engines.kernel.deletion import soft_delete
from engines.kernel.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Unimplemented,
)
from engines.kernel.idempotency import IdempotencyKey, earlier_create, idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.optimistic import version_etag, write_with_retry
from engines.kernel.pagination import Page, PageTokens, read_page
from engines.kernel.store import Reader, VersionedStore
from engines.kernel.validation import require_name, require_non_negative, require_uuid

__all__ = [
    "WRITABLE_FIELDS",
    "AdmissionUsage",
    "HealthState",
    "HealthTester",
    "Integration",
    "IntegrationDraft",
    "IntegrationFilters",
    "IntegrationStatus",
    "IntegrationStore",
    "IntegrationsEngine",
    "LimitsStatus",
    "MAX_USAGE_PER_EVENT",
    "ModelStatus",
    "ModelUsage",
    "PeriodUsage",
    "ProviderType",
    "UsageEvent",
    "UsageTotals",
    "IntegrationReader",
    "find_integration",
]

RESOURCE = "integration"
WRITABLE_FIELDS = frozenset(
    {
        "name",
        "credential_ref",
        "config",
        "default_model",
        "budget_limit_cents",
        "token_limit_month",
        "rate_limit_rpm",
    }
)
_URL_CONFIG_KEYS = ("base_url", "azure_endpoint", "health_url")
_SECRET_WORDS = ("api_key", "apikey", "password", "secret", "token", "authorization")
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_MAX_FUTURE_USAGE = timedelta(minutes=5)
# The most tokens or cents one usage event may carry; sums of events are reported saturated at
# the int64 maximum, so a month of events at this bound can never overflow a response field.
MAX_USAGE_PER_EVENT = 10**12
_RATE_WINDOW = timedelta(seconds=60)


class ProviderType(enum.StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    AZURE_OPENAI = "azure_openai"
    GOOGLE = "google"
    BEDROCK = "bedrock"
    CUSTOM = "custom"


class IntegrationStatus(enum.StrEnum):
    CREATED = "created"
    ENABLED = "enabled"
    DISABLED = "disabled"
    ERROR = "error"


class HealthState(enum.StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class Integration:
    """A tenant's integration with an LLM provider, as stored."""

    id: str
    tenant_id: str
    name: str
    provider_type: ProviderType
    credential_ref: str
    config: Mapping[str, Any]
    default_model: str
    status: IntegrationStatus
    health_state: HealthState
    health_message: str
    health_checked_at: datetime | None
    budget_limit_cents: int
    token_limit_month: int
    rate_limit_rpm: int
    created_by: str
    create_time: datetime
    update_time: datetime
    version: int = 1
    # Circuit breaking of health (engines/health/circuit.py); written only by health probes.
    circuit: CircuitState = CircuitState()

    @property
    def etag(self) -> str:
        """Opaque version tag; changes on every write."""
        return version_etag(self.id, self.version)


@dataclass(frozen=True, slots=True)
class IntegrationDraft:
    """What a caller supplies to create an integration."""

    name: str
    provider_type: ProviderType | None
    credential_ref: str
    config: Mapping[str, Any] = field(default_factory=dict)
    default_model: str = ""
    budget_limit_cents: int = 0
    token_limit_month: int = 0
    rate_limit_rpm: int = 0


@dataclass(frozen=True, slots=True)
class IntegrationFilters:
    """Optional list filters; None means any."""

    status: IntegrationStatus | None = None
    provider_type: ProviderType | None = None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One recorded use of an integration: tokens and cost at an instant."""

    id: str
    tenant_id: str
    integration_id: str
    tokens: int
    cost_cents: int
    occurred_at: datetime
    request_id: str | None
    create_time: datetime


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums a store computes for GetLimitsStatus: exact, however large (the engine saturates
    them for the response)."""

    cost_cents: int
    tokens: int
    requests_in_window: int


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """One model's own limits (AdmissionPolicy.model_limits) and what admission counts against
    them: the model's usage in the period and its requests in the last 60 seconds."""

    model: str
    budget_limit_cents: int = 0
    cost_used: int = 0
    token_limit: int = 0
    tokens_used: int = 0
    rate_limit_rpm: int = 0
    requests_in_window: int = 0


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """What admission counts for an integration at an instant: its policy's limit period, the
    usage in that period (settled usage and reservations that expired unsettled) and the
    requests of the last 60 seconds, and the same for every model with limits of its own."""

    period: LimitPeriod
    period_start: datetime
    period_end: datetime
    cost_used: int
    tokens_used: int
    requests_in_window: int
    models: tuple[ModelUsage, ...] = ()


class AdmissionUsage(Protocol):
    """The usage admission counts (implemented by the admission store), so GetLimitsStatus
    reports the numbers AdmitCall decides on."""

    async def period_usage(self, integration: Integration, now: datetime) -> PeriodUsage:
        """The usage of `integration` over its admission policy's period containing `now`."""
        ...


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One model's usage against its own limits; sums saturated like LimitsStatus's."""

    model: str
    budget_limit_cents: int
    budget_used_cents: int
    token_limit: int
    tokens_used: int
    rate_limit_rpm: int
    requests_this_minute: int


@dataclass(frozen=True, slots=True)
class LimitsStatus:
    """Usage against an integration's limits; percentages are 0 when unlimited, capped at 100."""

    integration: Integration
    budget_used_cents: int
    budget_percent: float
    tokens_used_month: int
    token_percent: float
    requests_this_minute: int
    rate_percent: float
    period_start: datetime
    period_end: datetime
    period: LimitPeriod = UTC_MONTH
    models: tuple[ModelStatus, ...] = ()


class IntegrationStore(VersionedStore[Integration, IntegrationFilters], Protocol):
    """Persistence of integrations and usage events."""

    async def append_usage(
        self, event: UsageEvent, key: IdempotencyKey | None, *, check_limits: bool = False
    ) -> tuple[UsageEvent, bool]:
        """Stores `event` with its idempotency key; when the request_id was recorded before,
        returns what `key.replay` answers for that event, and False. With `check_limits` (the
        integration has a budget or token limit) the transaction that stores it also stores the
        limit events the integration's usage reaches with it, as AdmitCall counts it."""

    async def usage_totals(
        self, integration_id: str, month_start: datetime, month_end: datetime, window_start: datetime
    ) -> UsageTotals: ...


IntegrationReader = Reader[Integration]


async def find_integration(
    reader: IntegrationReader, tenant_id: str, integration_id: str
) -> Integration:
    """The tenant's live integration; NotFound (same message for another tenant's) otherwise."""
    return await find_owned(
        reader.get, tenant_id, integration_id, resource=RESOURCE, id_field="integration_id"
    )


class HealthTester(Protocol):
    """Runs a forced probe of an integration (the health engine implements it)."""

    async def test(self, integration: Integration) -> Any: ...


def _check_config(config: Mapping[str, Any]) -> list[FieldViolation]:
    violations = []
    for key, value in config.items():
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS):
            violations.append(
                FieldViolation(
                    f"config.{key}",
                    "secrets are not accepted in config; store them in the credential service "
                    "and pass credential_ref",
                )
            )
        elif key in _URL_CONFIG_KEYS and not (
            isinstance(value, str) and value.startswith(("http://", "https://"))
        ):
            violations.append(FieldViolation(f"config.{key}", "must be an http(s) URL"))
    return violations


def _percent(used: int, limit: int) -> float:
    if limit <= 0:
        return 0.0
    return min(100.0, round(100.0 * used / limit, 4))


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month containing `now`: [start, next month's start)."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1
    )
    return start, end


class IntegrationsEngine:
    """The rules of IntegrationsService: validation, lifecycle, etags, idempotency, limits."""

    def __init__(
        self,
        store: IntegrationStore,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
        credential_ref_check: CredentialRefCheck | None = None,
        health_tester: HealthTester | None = None,
        egress: EgressCheck = DEFAULT_POLICY,
        admission_usage: AdmissionUsage | None = None,
    ) -> None:
        """`egress` refuses config URLs naming an address the egress policy refuses;
        `admission_usage` is what GetLimitsStatus reports (without it, in unit tests only, the
        store's sums over the UTC calendar month)."""
        self._egress = egress
        self._admission_usage = admission_usage
        self._store = store
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only
        self._credential_ref_check = credential_ref_check
        self._health_tester = health_tester

    async def list(
        self, tenant_id: str, page_size: int, page_token: str, filters: IntegrationFilters
    ) -> Page[Integration]:
        tenant_id = require_uuid("tenant_id", tenant_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "status": filters.status, "provider": filters.provider_type},
            lambda page: self._store.list(tenant_id, filters, page),
            tokens=self._page_tokens,
        )

    async def get(self, tenant_id: str, integration_id: str) -> Integration:
        return await find_integration(self._store, tenant_id, integration_id)

    async def create(
        self, tenant_id: str, draft: IntegrationDraft, *, request_id: str = "", created_by: str
    ) -> Integration:
        tenant_id = require_uuid("tenant_id", tenant_id)
        key = idempotency_key(request_id, draft)
        earlier = await earlier_create(
            self._store.find_by_request_id, tenant_id, key, resource=RESOURCE
        )
        if earlier is not None:
            return earlier
        values = await self._validated(tenant_id, _draft_values(draft), prefix="integration")
        if draft.provider_type is None:
            raise InvalidArgument.single("integration.provider_type", "is required")
        now = self._clock()
        integration = Integration(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            provider_type=draft.provider_type,
            status=IntegrationStatus.CREATED,
            health_state=HealthState.UNKNOWN,
            health_message="not checked yet",
            health_checked_at=None,
            created_by=created_by,
            create_time=now,
            update_time=now,
            **values,
        )
        return await self._store.insert(integration, key)

    async def update(
        self, tenant_id: str, integration_id: str, changes: Mapping[str, Any], etag: str
    ) -> Integration:
        """Applies `changes` (each key one of WRITABLE_FIELDS, which the servicer checks the update
        mask against); after validation, a non-empty stale `etag` is ABORTED."""
        current = await self.get(tenant_id, integration_id)
        values = await self._validated(current.tenant_id, dict(changes), prefix="integration")
        return await write_with_retry(
            current,
            etag,
            resource=RESOURCE,
            apply=lambda latest: replace(
                latest, **values, update_time=self._clock(), version=latest.version + 1
            ),
            save=self._store.replace,
            reload=lambda: self.get(current.tenant_id, current.id),
        )

    async def delete(self, tenant_id: str, integration_id: str) -> Integration:
        integration = await self.get(tenant_id, integration_id)
        return await soft_delete(integration, self._store, self._clock(), resource=RESOURCE)

    async def enable(self, tenant_id: str, integration_id: str) -> tuple[Integration, str]:
        integration = await self.get(tenant_id, integration_id)
        refuse_enable_while_open(integration.circuit, integration.id)
        if integration.status is IntegrationStatus.ERROR:
            raise FailedPrecondition(
                "INTEGRATION_IN_ERROR",
                "integration is in status ERROR; disable it and fix the cause before enabling",
                metadata={"status": integration.status.value},
            )
        return await self._transition(integration, IntegrationStatus.ENABLED)

    async def disable(self, tenant_id: str, integration_id: str) -> tuple[Integration, str]:
        integration = await self.get(tenant_id, integration_id)
        return await self._transition(integration, IntegrationStatus.DISABLED)

    async def test_credentials(self, tenant_id: str, integration_id: str) -> Any:
        integration = await self.get(tenant_id, integration_id)
        if self._health_tester is None:  # only engines built without one, in unit tests
            raise Unimplemented("TestCredentials needs a health tester; none is configured")
        return await self._health_tester.test(integration)

    async def limits_status(self, tenant_id: str, integration_id: str) -> LimitsStatus:
        integration = await self.get(tenant_id, integration_id)
        now = self._clock()
        if self._admission_usage is None:
            start, end = month_bounds(now)
            totals = await self._store.usage_totals(integration.id, start, end, now - _RATE_WINDOW)
            usage = PeriodUsage(UTC_MONTH, start, end, totals.cost_cents, totals.tokens,
                                totals.requests_in_window)
        else:
            usage = await self._admission_usage.period_usage(integration, now)
        return LimitsStatus(
            integration=integration,
            budget_used_cents=min(usage.cost_used, _INT64_MAX),
            budget_percent=_percent(usage.cost_used, integration.budget_limit_cents),
            tokens_used_month=min(usage.tokens_used, _INT64_MAX),
            token_percent=_percent(usage.tokens_used, integration.token_limit_month),
            requests_this_minute=min(usage.requests_in_window, _INT64_MAX),
            rate_percent=_percent(usage.requests_in_window, integration.rate_limit_rpm),
            period_start=usage.period_start,
            period_end=usage.period_end,
            period=usage.period,
            models=tuple(
                ModelStatus(
                    model=m.model,
                    budget_limit_cents=m.budget_limit_cents,
                    budget_used_cents=min(m.cost_used, _INT64_MAX),
                    token_limit=m.token_limit,
                    tokens_used=min(m.tokens_used, _INT64_MAX),
                    rate_limit_rpm=m.rate_limit_rpm,
                    requests_this_minute=min(m.requests_in_window, _INT64_MAX),
                )
                for m in usage.models
            ),
        )

    async def record_usage(
        self,
        tenant_id: str,
        integration_id: str,
        *,
        tokens: int,
        cost_cents: int,
        occurred_at: datetime | None,
        request_id: str = "",
    ) -> tuple[UsageEvent, bool]:
        """Appends a usage event; returns it and whether it is new (False on a repeated id)."""
        violations = [
            FieldViolation(name, f"must be between 0 and {MAX_USAGE_PER_EVENT}")
            for name, value in (("tokens", tokens), ("cost_cents", cost_cents))
            if not 0 <= value <= MAX_USAGE_PER_EVENT
        ]
        now = self._clock()
        if occurred_at is not None and occurred_at > now + _MAX_FUTURE_USAGE:
            violations.append(
                FieldViolation("occurred_at", "must not be more than 5 minutes in the future")
            )
        if violations:
            raise InvalidArgument(violations)
        key = idempotency_key(
            request_id,
            {
                "integration_id": integration_id,
                "tokens": tokens,
                "cost_cents": cost_cents,
                "occurred_at": occurred_at,
            },
        )
        integration = await self.get(tenant_id, integration_id)
        event = UsageEvent(
            id=str(uuid.uuid4()),
            tenant_id=integration.tenant_id,
            integration_id=integration.id,
            tokens=tokens,
            cost_cents=cost_cents,
            occurred_at=occurred_at or now,
            request_id=request_id or None,
            create_time=now,
        )
        # Usage of no model counts against the integration's own limits only; without any,
        # nothing can reach a threshold and the store runs no query for limit events.
        limited = integration.budget_limit_cents > 0 or integration.token_limit_month > 0
        return await self._store.append_usage(event, key, check_limits=limited)

    async def _transition(
        self, integration: Integration, target: IntegrationStatus
    ) -> tuple[Integration, str]:
        verb = target.value
        if integration.status is target:
            return integration, f"already {verb}"
        updated = replace(
            integration,
            status=target,
            update_time=self._clock(),
            version=integration.version + 1,
        )
        if not await self._store.replace(updated, integration.version):
            raise Aborted("the integration changed concurrently; read it again and retry")
        return updated, verb

    async def _validated(
        self, tenant_id: str, values: dict[str, Any], *, prefix: str
    ) -> dict[str, Any]:
        """Checks and normalises writable values, collecting every violation at once."""
        violations: list[FieldViolation] = []

        def check(name: str, fn: Any, *args: Any) -> None:
            if name in values:
                try:
                    values[name] = fn(f"{prefix}.{name}", values[name], *args)
                except InvalidArgument as exc:
                    violations.extend(exc.violations)

        check("name", require_name)
        check("credential_ref", check_credential_ref)
        check("budget_limit_cents", _bounded, _INT64_MAX)
        check("token_limit_month", _bounded, _INT64_MAX)
        check("rate_limit_rpm", _bounded, _INT32_MAX)
        if "default_model" in values and len(values["default_model"]) > 256:
            violations.append(
                FieldViolation(f"{prefix}.default_model", "must be at most 256 characters")
            )
        if "config" in values:
            values["config"] = dict(values["config"])
            violations.extend(
                replace(v, field=f"{prefix}.{v.field}") for v in _check_config(values["config"])
            )
        if violations:
            raise InvalidArgument(violations)
        for key in _URL_CONFIG_KEYS:
            self._egress.check_url(str(values.get("config", {}).get(key) or ""))
        await require_live_credential(
            self._credential_ref_check,
            tenant_id,
            f"{prefix}.credential_ref",
            values.get("credential_ref", ""),
        )
        return values


def _bounded(field_name: str, value: int, maximum: int) -> int:
    require_non_negative(field_name, value)
    if value > maximum:
        raise InvalidArgument.single(field_name, f"must be at most {maximum}")
    return value


def _draft_values(draft: IntegrationDraft) -> dict[str, Any]:
    return {
        "name": draft.name,
        "credential_ref": draft.credential_ref,
        "config": draft.config,
        "default_model": draft.default_model,
        "budget_limit_cents": draft.budget_limit_cents,
        "token_limit_month": draft.token_limit_month,
        "rate_limit_rpm": draft.rate_limit_rpm,
    }

