"""integrations.v1.AdmissionService on top of `engines.admission.control.AdmissionEngine`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from google.protobuf import duration_pb2

from engines.admission.control import (
    AdmissionEngine,
    BatchStatus,
    CallOutcome,
    GroupBy,
    Reservation,
    Settlement,
    SummaryRow,
    UsageReport,
)
from engines.admission.events import LimitEvent, LimitEventsEngine
from engines.admission.limits import (
    DEFAULT_RESERVATION_TTL,
    DEFAULT_WARN_PERCENT,
    AdmissionPolicy,
    CallEstimate,
    LimitKind,
    ModelLimits,
    Reason,
    Verdict,
)
from engines.admission.periods import LimitPeriod, PeriodKind
from engines.admission.webhooks import LimitWebhook, LimitWebhooksEngine
from engines.kernel.errors import InvalidArgument, ServiceError
from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc
from service.call_info import Context, current_call
from service.convert import from_duration, from_struct, from_timestamp, renamed_timestamp, set_timestamp
from service.enums import EnumMap
from service.servicers.integrations.servicer import LIMIT_PERIODS, PROVIDER_TYPES
from service.servicers.listing import list_response

__all__ = ["AdmissionServicer"]

VERDICTS = EnumMap(pb.AdmissionVerdict, Verdict, "ADMISSION_VERDICT")
REASONS = EnumMap(pb.AdmissionReason, Reason, "ADMISSION_REASON")
LIMIT_KINDS = EnumMap(pb.LimitKind, LimitKind, "LIMIT_KIND")
OUTCOMES = EnumMap(pb.CallOutcome, CallOutcome, "CALL_OUTCOME")
GROUP_BY = EnumMap(pb.UsageGroupBy, GroupBy, "USAGE_GROUP_BY")
_MODEL_LIMIT_FIELDS = ("budget_limit_cents", "token_limit", "rate_limit_rpm",
                       "tokens_per_minute", "max_parallel_calls")
_BATCH_STATUS = {
    BatchStatus.RECORDED: pb.USAGE_EVENT_STATUS_RECORDED,
    BatchStatus.DUPLICATE: pb.USAGE_EVENT_STATUS_DUPLICATE,
}



def _duration(value: timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(value)
    return duration


def _latency_ms(message: pb.SettleCallRequest | pb.UsageEventInput, field: str) -> int | None:
    latency = from_duration(message.latency, present=message.HasField("latency"), field=field)
    return None if latency is None else latency // timedelta(milliseconds=1)


def _outcome(number: int, field: str) -> CallOutcome:
    return OUTCOMES.to_engine(number, field) or CallOutcome.SUCCESS


def _limit_kind(kind: LimitKind | None) -> pb.LimitKind:
    return LIMIT_KINDS.to_proto(kind) if kind is not None else pb.LIMIT_KIND_UNSPECIFIED


def _reservation_to_proto(reservation: Reservation) -> pb.Reservation:
    message = pb.Reservation(
        id=reservation.id,
        call_id=reservation.call_id,
        estimated_tokens=reservation.estimated_tokens,
        estimated_cost_cents=reservation.estimated_cost_cents,
    )
    set_timestamp(message.create_time, reservation.create_time)
    set_timestamp(message.expire_time, reservation.expire_time)
    return message


def _row_to_proto(row: SummaryRow) -> pb.UsageSummaryRow:
    return pb.UsageSummaryRow(
        day=row.day,
        model=row.model,
        integration_id=row.integration_id,
        requests=row.requests,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        tokens=row.tokens,
        cost_cents=row.cost_cents,
        errors=row.errors,
    )


def _policy_to_proto(policy: AdmissionPolicy) -> pb.AdmissionPolicy:
    message = pb.AdmissionPolicy(
        integration_id=policy.integration_id,
        tokens_per_minute=policy.tokens_per_minute,
        max_parallel_calls=policy.max_parallel_calls,
        reservation_ttl=_duration(policy.reservation_ttl),
        warn_percent=policy.warn_percent,
        limit_period=LIMIT_PERIODS.to_proto(policy.period.kind),
        period_time_zone=policy.period.time_zone,
        period_anchor=policy.period.anchor,
        model_limits=[
            pb.ModelLimits(model=m.model, **{k: getattr(m, k) for k in _MODEL_LIMIT_FIELDS})
            for m in policy.model_limits
        ],
        fail_open=policy.fail_open,
    )
    if policy.period.kind is PeriodKind.ROLLING:
        message.rolling_window.CopyFrom(_duration(policy.period.rolling_window))
    set_timestamp(message.update_time, policy.update_time)
    return message


def limit_event_to_proto(event: LimitEvent) -> pb.LimitEvent:
    message = pb.LimitEvent(
        id=event.id,
        cursor=event.cursor,
        tenant_id=event.tenant_id,
        integration_id=event.integration_id,
        kind=LIMIT_KINDS.to_proto(event.kind),
        model=event.model,
        threshold_percent=event.threshold_percent,
        used=event.used,
        reserved=event.reserved,
        limit=event.limit,
    )
    set_timestamp(message.period_start, event.period_start)
    set_timestamp(message.period_end, event.period_end)
    set_timestamp(message.create_time, event.create_time)
    return message


def _webhook_to_proto(webhook: LimitWebhook) -> pb.LimitWebhook:
    message = pb.LimitWebhook(
        tenant_id=webhook.tenant_id, url=webhook.url, secret_ref=webhook.secret_ref
    )
    set_timestamp(message.update_time, webhook.update_time)
    return message


def _period(given: pb.AdmissionPolicy) -> LimitPeriod:
    window = from_duration(
        given.rolling_window,
        present=given.HasField("rolling_window"),
        field="policy.rolling_window",
    )
    return LimitPeriod(
        kind=LIMIT_PERIODS.to_engine(given.limit_period, "policy.limit_period") or PeriodKind.MONTH,
        time_zone=given.period_time_zone or "UTC",
        anchor=given.period_anchor,
        rolling_window=window or timedelta(0),
    )


def _report(event: pb.UsageEventInput, index: int) -> UsageReport:
    prefix = f"events[{index}]."
    return UsageReport(
        integration_id=event.integration_id,
        call_id=event.call_id,
        model=event.model,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cost_cents=event.cost_cents,
        outcome=_outcome(event.outcome, f"{prefix}outcome"),
        occurred_at=renamed_timestamp(event, "event_time", deprecated="occurred_at", prefix=prefix),
        latency_ms=_latency_ms(event, f"{prefix}latency"),
        error_code=event.error_code,
        session_id=event.session_id,
        agent_id=event.agent_id,
        policy_result=VERDICTS.to_engine(event.policy_result, f"{prefix}policy_result"),
        metadata=from_struct(event.metadata, field=f"{prefix}metadata"),
    )


class AdmissionServicer(admission_pb2_grpc.AdmissionServiceServicer):
    """Translates AdmissionService calls to the engine; errors are mapped by the interceptor."""

    def __init__(
        self, engine: AdmissionEngine, events: LimitEventsEngine, webhooks: LimitWebhooksEngine
    ) -> None:
        self._engine = engine
        self._events = events
        self._webhooks = webhooks

    async def AdmitCall(
        self, request: pb.AdmitCallRequest, context: Context
    ) -> pb.AdmitCallResponse:
        admission = await self._engine.admit(
            CallEstimate(
                tenant_id=request.tenant_id,
                integration_id=request.integration_id,
                call_id=request.call_id,
                model=request.model,
                input_tokens=request.estimated_input_tokens,
                max_output_tokens=request.estimated_max_output_tokens,
                cost_cents=request.estimated_cost_cents,
            ),
            include_credential=request.include_credential,
            may_reveal=current_call().holds("credentials.reveal"),
        )
        decision = admission.decision
        response = pb.AdmitCallResponse(
            verdict=VERDICTS.to_proto(decision.verdict),
            deciding_limit=_limit_kind(decision.deciding_limit),
            replayed=admission.replayed,
            unchecked=admission.unchecked,
        )
        for reason in decision.reasons:
            detail = response.reasons.add(
                reason=REASONS.to_proto(reason.reason),
                limit=_limit_kind(reason.limit),
                message=reason.message,
            )
            if reason.retry_after is not None:
                detail.retry_after.FromTimedelta(reason.retry_after)
        for snapshot in decision.limits:
            limit = response.limits.add(
                kind=LIMIT_KINDS.to_proto(snapshot.kind),
                limit=snapshot.limit,
                used=snapshot.used,
                reserved=snapshot.reserved,
                remaining=snapshot.remaining,
            )
            limit.model = snapshot.model
            set_timestamp(limit.period_start, snapshot.period_start)
            set_timestamp(limit.period_end, snapshot.period_end)
        if admission.reservation is not None:
            response.reservation.CopyFrom(_reservation_to_proto(admission.reservation))
        if admission.target is not None:
            target = admission.target
            response.target.CopyFrom(
                pb.CallTarget(
                    integration_id=target.integration_id,
                    provider_type=PROVIDER_TYPES.to_proto(target.provider_type),
                    base_url=target.base_url,
                    model=target.model,
                    credential_ref=target.credential_ref,
                    credential=target.credential.value if target.credential else "",
                )
            )
        return response

    async def SettleCall(
        self, request: pb.SettleCallRequest, context: Context
    ) -> pb.SettleCallResponse:
        outcome = await self._engine.settle(
            Settlement(
                tenant_id=request.tenant_id,
                call_id=request.call_id,
                reservation_id=request.reservation_id,
                input_tokens=request.input_tokens,
                output_tokens=request.output_tokens,
                cost_cents=request.cost_cents,
                latency_ms=_latency_ms(request, "latency"),
                outcome=_outcome(request.outcome, "outcome"),
                error_code=request.error_code,
                model=request.model,
                session_id=request.session_id,
                agent_id=request.agent_id,
                metadata=from_struct(request.metadata, field="metadata"),
            )
        )
        return pb.SettleCallResponse(
            usage_event_id=outcome.record.id,
            reservation_id=outcome.reservation.id,
            recorded=outcome.recorded,
        )

    async def RecordUsageBatch(
        self, request: pb.RecordUsageBatchRequest, context: Context
    ) -> pb.RecordUsageBatchResponse:
        # An event that does not even convert (a bad enum, timestamp or duration) is rejected
        # alone, like one the engine refuses; the others are still recorded.
        converted: list[UsageReport | InvalidArgument] = []
        for index, event in enumerate(request.events):
            try:
                converted.append(_report(event, index))
            except InvalidArgument as refused:
                converted.append(refused)
        results = await self._engine.record_batch(request.tenant_id, converted)
        response = pb.RecordUsageBatchResponse()
        for index, (status, record) in enumerate(results):
            result = response.results.add(index=index)
            if isinstance(status, ServiceError):
                result.status = pb.USAGE_EVENT_STATUS_REJECTED
                result.error_reason = status.reason or "INVALID_ARGUMENT"
                result.error_message = status.message
            elif status is BatchStatus.CONFLICT:
                result.status = pb.USAGE_EVENT_STATUS_REJECTED
                result.error_reason = "CALL_ID_CONFLICT"
                result.error_message = (
                    f"events[{index}].call_id was recorded before with other numbers"
                )
            else:
                result.status = _BATCH_STATUS[status]
                result.usage_event_id = record.id if record else ""
        response.recorded_count = sum(
            r.status == pb.USAGE_EVENT_STATUS_RECORDED for r in response.results
        )
        response.rejected_count = sum(
            r.status == pb.USAGE_EVENT_STATUS_REJECTED for r in response.results
        )
        return response

    async def GetUsageSummary(
        self, request: pb.GetUsageSummaryRequest, context: Context
    ) -> pb.GetUsageSummaryResponse:
        group_by = [
            GROUP_BY.to_engine(g, f"group_by[{i}]", required=True) for i, g in enumerate(request.group_by)
        ]
        rows, start, end = await self._engine.summary(
            request.tenant_id,
            request.integration_id,
            from_timestamp(
                request.start_time, present=request.HasField("start_time"), field="start_time"
            ),
            from_timestamp(request.end_time, present=request.HasField("end_time"), field="end_time"),
            [g for g in group_by if g is not None],
        )
        total = SummaryRow(**{
            name: sum(getattr(r, name) for r in rows)
            for name in ("requests", "input_tokens", "output_tokens", "tokens", "cost_cents", "errors")
        })
        response = pb.GetUsageSummaryResponse(
            rows=[_row_to_proto(r) for r in rows], total=_row_to_proto(total)
        )
        set_timestamp(response.start_time, start)
        set_timestamp(response.end_time, end)
        return response

    async def GetAdmissionPolicy(
        self, request: pb.GetAdmissionPolicyRequest, context: Context
    ) -> pb.AdmissionPolicy:
        return _policy_to_proto(
            await self._engine.get_policy(request.tenant_id, request.integration_id)
        )

    async def UpdateAdmissionPolicy(
        self, request: pb.UpdateAdmissionPolicyRequest, context: Context
    ) -> pb.AdmissionPolicy:
        given = request.policy
        ttl = from_duration(
            given.reservation_ttl,
            present=given.HasField("reservation_ttl"),
            field="policy.reservation_ttl",
        )
        updated = await self._engine.update_policy(
            request.tenant_id,
            AdmissionPolicy(
                integration_id=given.integration_id,
                tokens_per_minute=given.tokens_per_minute,
                max_parallel_calls=given.max_parallel_calls,
                reservation_ttl=ttl or DEFAULT_RESERVATION_TTL,
                warn_percent=given.warn_percent or DEFAULT_WARN_PERCENT,
                period=_period(given),
                model_limits=tuple(
                    ModelLimits(model=m.model, **{k: getattr(m, k) for k in _MODEL_LIMIT_FIELDS})
                    for m in given.model_limits
                ),
                fail_open=given.fail_open,
            ),
        )
        return _policy_to_proto(updated)

    async def ListLimitEvents(
        self, request: pb.ListLimitEventsRequest, context: Context
    ) -> pb.ListLimitEventsResponse:
        page = await self._events.list(
            request.tenant_id, request.integration_id, request.page_size, request.page_token
        )
        return list_response(pb.ListLimitEventsResponse, "limit_events", page, limit_event_to_proto)

    async def WatchLimitEvents(
        self, request: pb.WatchLimitEventsRequest, context: Context
    ) -> AsyncIterator[pb.LimitEvent]:
        events = await self._events.watch(
            request.tenant_id, request.integration_id, request.resume_cursor
        )
        async with contextlib.aclosing(events):
            async for event in events:
                yield limit_event_to_proto(event)

    async def GetLimitWebhook(
        self, request: pb.GetLimitWebhookRequest, context: Context
    ) -> pb.LimitWebhook:
        return _webhook_to_proto(await self._webhooks.get(request.tenant_id))

    async def UpdateLimitWebhook(
        self, request: pb.UpdateLimitWebhookRequest, context: Context
    ) -> pb.UpdateLimitWebhookResponse:
        updated = await self._webhooks.update(
            request.tenant_id, request.url, request.secret, rotate_secret=request.rotate_secret
        )
        return pb.UpdateLimitWebhookResponse(
            webhook=_webhook_to_proto(updated.webhook), generated_secret=updated.generated_secret
        )

    async def DeleteLimitWebhook(
        self, request: pb.DeleteLimitWebhookRequest, context: Context
    ) -> pb.DeleteLimitWebhookResponse:
        await self._webhooks.delete(request.tenant_id)
        return pb.DeleteLimitWebhookResponse(deleted=True)
