"""integrations.v1.IntegrationHealthService on top of `engines.health.checks.HealthEngine`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from engines.health.checks import HealthCheckRecord, HealthCheckResult, HealthEngine, HealthHistoryFilters
from engines.health.circuit import CircuitEvent
from engines.integrations.integration import HealthState
from integrations.v1 import health_pb2, health_pb2_grpc
from service.call_info import Context
from service.convert import from_duration, from_timestamp, set_timestamp
from service.servicers.integrations.servicer import HEALTH_STATES
from service.servicers.listing import list_response

__all__ = ["IntegrationHealthServicer", "result_to_proto"]

_CIRCUIT_EVENTS = {
    CircuitEvent.NONE: health_pb2.CIRCUIT_EVENT_UNSPECIFIED,
    CircuitEvent.OPENED: health_pb2.CIRCUIT_EVENT_OPENED,
    CircuitEvent.CLOSED: health_pb2.CIRCUIT_EVENT_CLOSED,
}


def result_to_proto(result: HealthCheckResult) -> health_pb2.HealthCheckResult:
    message = health_pb2.HealthCheckResult(
        integration_id=result.integration_id,
        integration_name=result.integration_name,
        health_state=HEALTH_STATES.to_proto(result.health_state),
        message=result.message,
        latency_ms=result.latency_ms,
        error_code=result.error_code,
        cached=result.cached,
        consecutive_failures=result.circuit.consecutive_failures,
        circuit_open=result.circuit.is_open,
        circuit_event=_CIRCUIT_EVENTS[CircuitEvent.NONE if result.cached else result.circuit_event],
    )
    set_timestamp(message.check_time, result.checked_at)
    set_timestamp(message.checked_at, result.checked_at)  # deprecated name
    set_timestamp(message.next_probe_time, result.circuit.next_probe_at)
    return message


def record_to_proto(record: HealthCheckRecord) -> health_pb2.HealthCheckRecord:
    message = health_pb2.HealthCheckRecord(
        id=record.id,
        integration_id=record.integration_id,
        health_state=HEALTH_STATES.to_proto(record.health_state),
        error_code=record.error_code,
        latency_ms=record.latency_ms,
        message=record.message,
        circuit_event=_CIRCUIT_EVENTS[record.circuit_event],
        consecutive_failures=record.consecutive_failures,
    )
    set_timestamp(message.check_time, record.checked_at)
    set_timestamp(message.checked_at, record.checked_at)  # deprecated name
    return message


class IntegrationHealthServicer(health_pb2_grpc.IntegrationHealthServiceServicer):
    """Translates IntegrationHealthService calls to the engine; errors are mapped by the
    interceptor."""

    def __init__(self, engine: HealthEngine) -> None:
        self._engine = engine

    async def CheckHealth(
        self, request: health_pb2.CheckHealthRequest, context: Context
    ) -> health_pb2.HealthCheckResult:
        result = await self._engine.check(
            request.tenant_id, request.integration_id, force=request.force
        )
        return result_to_proto(result)

    async def CheckAllIntegrations(
        self, request: health_pb2.CheckAllIntegrationsRequest, context: Context
    ) -> AsyncIterator[health_pb2.HealthCheckResult]:
        results = self._engine.check_all(
            request.tenant_id,
            from_duration(
                request.stale_threshold,
                present=request.HasField("stale_threshold"),
                field="stale_threshold",
            ),
            request.max_concurrency,
        )
        # Closing the engine's iterator when the call ends (or is cancelled) stops its probes.
        async with contextlib.aclosing(results):
            async for result in results:
                yield result_to_proto(result)

    async def GetHealthSummary(
        self, request: health_pb2.GetHealthSummaryRequest, context: Context
    ) -> health_pb2.GetHealthSummaryResponse:
        summary = await self._engine.summary(
            request.tenant_id,
            from_duration(
                request.stale_threshold,
                present=request.HasField("stale_threshold"),
                field="stale_threshold",
            ),
        )
        response = health_pb2.GetHealthSummaryResponse(
            healthy=summary.counts[HealthState.HEALTHY],
            degraded=summary.counts[HealthState.DEGRADED],
            unhealthy=summary.counts[HealthState.UNHEALTHY],
            unknown=summary.counts[HealthState.UNKNOWN],
            total=summary.total,
            stale_count=summary.stale_count,
            overall_health=HEALTH_STATES.to_proto(summary.overall_health),
        )
        set_timestamp(response.check_time, summary.checked_at)
        set_timestamp(response.checked_at, summary.checked_at)  # deprecated name
        return response

    async def ListHealthChecks(
        self, request: health_pb2.ListHealthChecksRequest, context: Context
    ) -> health_pb2.ListHealthChecksResponse:
        filters = HealthHistoryFilters(
            integration_id=request.integration_id or None,
            start_time=from_timestamp(
                request.start_time, present=request.HasField("start_time"), field="start_time"
            ),
            end_time=from_timestamp(
                request.end_time, present=request.HasField("end_time"), field="end_time"
            ),
            health_state=HEALTH_STATES.to_engine(request.health_state, "health_state"),
        )
        page = await self._engine.list_checks(
            request.tenant_id, filters, request.page_size, request.page_token
        )
        return list_response(health_pb2.ListHealthChecksResponse, "health_checks", page, record_to_proto)
