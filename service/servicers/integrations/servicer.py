"""integrations.v1.IntegrationsService on top of `engines.integrations.integration.IntegrationsEngine`."""

from __future__ import annotations

from typing import Any

from engines.admission.periods import PeriodKind
from engines.integrations.integration import (
    WRITABLE_FIELDS,
    HealthState,
    Integration,
    IntegrationDraft,
    IntegrationFilters,
    IntegrationsEngine,
    IntegrationStatus,
    ProviderType,
)
from integrations.v1 import common_pb2, integrations_pb2, integrations_pb2_grpc
from service.call_info import Context, current_call
from service.convert import from_struct, renamed_timestamp, set_timestamp, to_struct
from service.enums import EnumMap
from service.field_mask import requested_changes
from service.servicers.listing import Encoded, list_response

__all__ = ["HEALTH_STATES", "LIMIT_PERIODS", "IntegrationsServicer", "integration_to_proto"]

PROVIDER_TYPES = EnumMap(integrations_pb2.ProviderType, ProviderType, "PROVIDER_TYPE")
STATUSES = EnumMap(integrations_pb2.IntegrationStatus, IntegrationStatus, "INTEGRATION_STATUS")
HEALTH_STATES = EnumMap(common_pb2.HealthState, HealthState, "HEALTH_STATE")
LIMIT_PERIODS = EnumMap(integrations_pb2.LimitPeriod, PeriodKind, "LIMIT_PERIOD")



def integration_to_proto(integration: Integration) -> integrations_pb2.Integration:
    message = integrations_pb2.Integration(
        id=integration.id,
        tenant_id=integration.tenant_id,
        name=integration.name,
        provider_type=PROVIDER_TYPES.to_proto(integration.provider_type),
        credential_ref=integration.credential_ref,
        config=to_struct(integration.config),
        default_model=integration.default_model,
        status=STATUSES.to_proto(integration.status),
        health_state=HEALTH_STATES.to_proto(integration.health_state),
        health_message=integration.health_message,
        budget_limit_cents=integration.budget_limit_cents,
        token_limit_month=integration.token_limit_month,
        rate_limit_rpm=integration.rate_limit_rpm,
        created_by=integration.created_by,
        etag=integration.etag,
        consecutive_health_failures=integration.circuit.consecutive_failures,
        circuit_open=integration.circuit.is_open,
        circuit_reason=integration.circuit.reason,
    )
    set_timestamp(message.health_check_time, integration.health_checked_at)
    set_timestamp(message.health_checked_at, integration.health_checked_at)  # deprecated name
    set_timestamp(message.circuit_open_time, integration.circuit.opened_at)
    set_timestamp(message.next_health_probe_time, integration.circuit.next_probe_at)
    set_timestamp(message.create_time, integration.create_time)
    set_timestamp(message.update_time, integration.update_time)
    return message


def _field_value(message: integrations_pb2.Integration, name: str) -> Any:
    if name == "config":
        return from_struct(message.config, field="integration.config")
    return getattr(message, name)


class IntegrationsServicer(integrations_pb2_grpc.IntegrationsServiceServicer):
    """Translates IntegrationsService calls to the engine; errors are mapped by the interceptor."""

    def __init__(self, engine: IntegrationsEngine) -> None:
        self._engine = engine
        # Lists and gets hand out the same Integration for an unchanged row (the store's and
        # the cache's), so each is encoded once.
        self._encoded = Encoded(integration_to_proto)

    async def ListIntegrations(
        self, request: integrations_pb2.ListIntegrationsRequest, context: Context
    ) -> integrations_pb2.ListIntegrationsResponse:
        filters = IntegrationFilters(
            status=STATUSES.to_engine(request.status, "status"),
            provider_type=PROVIDER_TYPES.to_engine(request.provider_type, "provider_type"),
        )
        page = await self._engine.list(
            request.tenant_id, request.page_size, request.page_token, filters
        )
        return list_response(
            integrations_pb2.ListIntegrationsResponse, "integrations", page, self._encoded
        )

    async def GetIntegration(
        self, request: integrations_pb2.GetIntegrationRequest, context: Context
    ) -> integrations_pb2.Integration:
        return self._encoded.message(
            await self._engine.get(request.tenant_id, request.integration_id)
        )

    async def CreateIntegration(
        self, request: integrations_pb2.CreateIntegrationRequest, context: Context
    ) -> integrations_pb2.Integration:
        given = request.integration
        draft = IntegrationDraft(
            name=given.name,
            provider_type=PROVIDER_TYPES.to_engine(
                given.provider_type, "integration.provider_type"
            ),
            credential_ref=given.credential_ref,
            config=from_struct(given.config, field="integration.config"),
            default_model=given.default_model,
            budget_limit_cents=given.budget_limit_cents,
            token_limit_month=given.token_limit_month,
            rate_limit_rpm=given.rate_limit_rpm,
        )
        created = await self._engine.create(
            request.tenant_id,
            draft,
            request_id=request.request_id,
            created_by=current_call().caller,
        )
        return integration_to_proto(created)

    async def UpdateIntegration(
        self, request: integrations_pb2.UpdateIntegrationRequest, context: Context
    ) -> integrations_pb2.Integration:
        changes = requested_changes(
            request, "integration", writable=WRITABLE_FIELDS, value_of=_field_value
        )
        updated = await self._engine.update(
            request.tenant_id, request.integration.id, changes, request.integration.etag
        )
        return integration_to_proto(updated)

    async def DeleteIntegration(
        self, request: integrations_pb2.DeleteIntegrationRequest, context: Context
    ) -> integrations_pb2.DeleteIntegrationResponse:
        deleted = await self._engine.delete(request.tenant_id, request.integration_id)
        return integrations_pb2.DeleteIntegrationResponse(deleted=True, integration_id=deleted.id)

    async def EnableIntegration(
        self, request: integrations_pb2.EnableIntegrationRequest, context: Context
    ) -> integrations_pb2.EnableIntegrationResponse:
        integration, message = await self._engine.enable(
            request.tenant_id, request.integration_id
        )
        return integrations_pb2.EnableIntegrationResponse(
            integration_id=integration.id,
            status=STATUSES.to_proto(integration.status),
            message=message,
        )

    async def DisableIntegration(
        self, request: integrations_pb2.DisableIntegrationRequest, context: Context
    ) -> integrations_pb2.DisableIntegrationResponse:
        integration, message = await self._engine.disable(
            request.tenant_id, request.integration_id
        )
        return integrations_pb2.DisableIntegrationResponse(
            integration_id=integration.id,
            status=STATUSES.to_proto(integration.status),
            message=message,
        )

    async def GetHealthStatus(
        self, request: integrations_pb2.GetHealthStatusRequest, context: Context
    ) -> integrations_pb2.GetHealthStatusResponse:
        integration = await self._engine.get(request.tenant_id, request.integration_id)
        response = integrations_pb2.GetHealthStatusResponse(
            integration_id=integration.id,
            health_state=HEALTH_STATES.to_proto(integration.health_state),
            health_message=integration.health_message,
        )
        set_timestamp(response.health_check_time, integration.health_checked_at)
        set_timestamp(response.health_checked_at, integration.health_checked_at)  # deprecated
        return response

    async def TestCredentials(
        self, request: integrations_pb2.TestCredentialsRequest, context: Context
    ) -> integrations_pb2.TestCredentialsResponse:
        result = await self._engine.test_credentials(request.tenant_id, request.integration_id)
        response = integrations_pb2.TestCredentialsResponse(
            integration_id=request.integration_id,
            health_state=HEALTH_STATES.to_proto(result.health_state),
            message=result.message,
            latency_ms=result.latency_ms,
            circuit_open=result.circuit.is_open,
            consecutive_failures=result.circuit.consecutive_failures,
        )
        set_timestamp(response.check_time, result.checked_at)
        set_timestamp(response.checked_at, result.checked_at)  # deprecated name
        return response

    async def GetLimitsStatus(
        self, request: integrations_pb2.GetLimitsStatusRequest, context: Context
    ) -> integrations_pb2.GetLimitsStatusResponse:
        status = await self._engine.limits_status(request.tenant_id, request.integration_id)
        limits = status.integration
        response = integrations_pb2.GetLimitsStatusResponse(
            integration_id=limits.id,
            budget_limit_cents=limits.budget_limit_cents,
            budget_used_cents=status.budget_used_cents,
            budget_percent=status.budget_percent,
            token_limit_month=limits.token_limit_month,
            tokens_used_month=status.tokens_used_month,
            token_percent=status.token_percent,
            rate_limit_rpm=limits.rate_limit_rpm,
            requests_this_minute=status.requests_this_minute,
            rate_percent=status.rate_percent,
            limit_period=LIMIT_PERIODS.to_proto(status.period.kind),
            period_time_zone=status.period.time_zone,
            model_limits=[
                integrations_pb2.ModelLimitsStatus(
                    model=m.model,
                    budget_limit_cents=m.budget_limit_cents,
                    budget_used_cents=m.budget_used_cents,
                    token_limit=m.token_limit,
                    tokens_used=m.tokens_used,
                    rate_limit_rpm=m.rate_limit_rpm,
                    requests_this_minute=m.requests_this_minute,
                )
                for m in status.models
            ],
        )
        set_timestamp(response.period_start, status.period_start)
        set_timestamp(response.period_end, status.period_end)
        return response

    async def RecordUsage(
        self, request: integrations_pb2.RecordUsageRequest, context: Context
    ) -> integrations_pb2.RecordUsageResponse:
        event, recorded = await self._engine.record_usage(
            request.tenant_id,
            request.integration_id,
            tokens=request.tokens,
            cost_cents=request.cost_cents,
            occurred_at=renamed_timestamp(request, "event_time", deprecated="occurred_at"),
            request_id=request.request_id,
        )
        return integrations_pb2.RecordUsageResponse(usage_event_id=event.id, recorded=recorded)
