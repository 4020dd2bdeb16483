"""GetLimitsStatus reports what AdmitCall counts, on both backends: the policy's period (a UTC
month, a local day, a rolling window), its sums, the last minute's requests, and the limits of
every model with limits of its own."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from google.protobuf import duration_pb2

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import integrations_pb2 as ipb
from tests.service.admission_helpers import admit, enabled_integration, set_policy, settle
from tests.service.test_admission_api import Admission, Integrations, admission, integrations, limit
from tests.support import timestamp

__all__ = ["admission", "integrations"]  # fixtures shared with the API tests


async def record(admission: Admission, tenant: str, integration: str, call_id: str,
                 when: datetime, cost: int, tokens: int = 0, model: str = "") -> None:
    response = await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[pb.UsageEventInput(
            integration_id=integration, call_id=call_id, cost_cents=cost, input_tokens=tokens,
            model=model, event_time=timestamp(when),
        )],
    ))
    assert response.recorded_count == 1


async def status(integrations: Integrations, tenant: str, integration: str) -> ipb.GetLimitsStatusResponse:
    return await integrations.GetLimitsStatus(
        ipb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=integration)
    )


def assert_equal_counts(
    reply: ipb.GetLimitsStatusResponse, admitted: pb.AdmitCallResponse
) -> None:
    """GetLimitsStatus after an admission with a zero estimate: the snapshot's `used`."""
    budget = limit(admitted, pb.LIMIT_KIND_BUDGET)
    tokens = limit(admitted, pb.LIMIT_KIND_TOKENS)
    rpm = limit(admitted, pb.LIMIT_KIND_REQUESTS_PER_MINUTE)
    assert reply.budget_used_cents == budget.used and reply.budget_limit_cents == budget.limit
    assert reply.tokens_used_month == tokens.used and reply.token_limit_month == tokens.limit
    assert reply.requests_this_minute == rpm.used  # this admission included


async def test_a_utc_month_by_default(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(
        integrations, tenant, budget_limit_cents=1000, token_limit_month=5000, rate_limit_rpm=50
    )
    now = datetime.now(timezone.utc)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    await record(admission, tenant, integration, "this-month", month_start, 70, 300)
    await record(admission, tenant, integration, "last-month",
                 month_start - timedelta(microseconds=1), 500, 500)
    settled = await admit(admission, tenant, integration, "settled", estimated_cost_cents=40)
    await settle(admission, tenant, "settled", cost_cents=25, input_tokens=100)
    assert settled.verdict == pb.ADMISSION_VERDICT_ALLOW
    admitted = await admit(admission, tenant, integration)
    reply = await status(integrations, tenant, integration)
    assert_equal_counts(reply, admitted)
    assert (reply.budget_used_cents, reply.tokens_used_month) == (95, 400)
    assert reply.limit_period == ipb.LIMIT_PERIOD_MONTH and reply.period_time_zone == "UTC"
    budget = limit(admitted, pb.LIMIT_KIND_BUDGET)
    assert reply.period_start == budget.period_start and reply.period_end == budget.period_end
    assert list(reply.model_limits) == []


async def test_a_local_day_in_a_time_zone(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    zone = ZoneInfo("America/St_Johns")  # UTC-03:30 or -02:30: not a whole hour
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(admission, tenant, integration, limit_period=ipb.LIMIT_PERIOD_DAY,
                     period_time_zone="America/St_Johns")
    midnight = datetime.combine(datetime.now(zone).date(), time(), zone).astimezone(timezone.utc)
    await record(admission, tenant, integration, "yesterday", midnight - timedelta(seconds=1), 90)
    await record(admission, tenant, integration, "today", midnight + timedelta(seconds=1), 30)
    admitted = await admit(admission, tenant, integration)
    reply = await status(integrations, tenant, integration)
    assert_equal_counts(reply, admitted)
    assert reply.budget_used_cents == 30 and reply.budget_percent == 30.0
    assert reply.limit_period == ipb.LIMIT_PERIOD_DAY
    assert reply.period_time_zone == "America/St_Johns"
    assert reply.period_start.ToDatetime(timezone.utc) == midnight
    budget = limit(admitted, pb.LIMIT_KIND_BUDGET)
    assert reply.period_start == budget.period_start and reply.period_end == budget.period_end


async def test_a_rolling_window(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(admission, tenant, integration, limit_period=ipb.LIMIT_PERIOD_ROLLING,
                     rolling_window=duration_pb2.Duration(seconds=3600))
    now = datetime.now(timezone.utc)
    await record(admission, tenant, integration, "old", now - timedelta(minutes=61), 70)
    await record(admission, tenant, integration, "in", now - timedelta(minutes=59, seconds=7), 30)
    await record(admission, tenant, integration, "new", now - timedelta(minutes=1), 20)
    admitted = await admit(admission, tenant, integration)
    reply = await status(integrations, tenant, integration)
    assert_equal_counts(reply, admitted)
    assert reply.budget_used_cents == 50
    assert reply.limit_period == ipb.LIMIT_PERIOD_ROLLING
    start, end = reply.period_start.ToDatetime(), reply.period_end.ToDatetime()
    assert end - start == timedelta(hours=1)
    assert end >= limit(admitted, pb.LIMIT_KIND_BUDGET).period_end.ToDatetime()  # ends now


async def test_a_models_own_limits(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=1000)
    await set_policy(admission, tenant, integration, model_limits=[
        pb.ModelLimits(model="big-model", budget_limit_cents=50, token_limit=900,
                       rate_limit_rpm=7),
        pb.ModelLimits(model="small-model", token_limit=10),
    ])
    now = datetime.now(timezone.utc)
    await record(admission, tenant, integration, "big", now, 45, 300, "big-model")
    await record(admission, tenant, integration, "other", now, 5, 1, "other-model")
    admitted = await admit(admission, tenant, integration, model="big-model")
    reply = await status(integrations, tenant, integration)
    assert_equal_counts(reply, admitted)
    assert reply.budget_used_cents == 50
    big, small = reply.model_limits
    snapshot = {s.kind: s for s in admitted.limits if s.model == "big-model"}
    assert (big.model, big.budget_limit_cents, big.token_limit, big.rate_limit_rpm) == (
        "big-model", 50, 900, 7
    )
    assert big.budget_used_cents == snapshot[pb.LIMIT_KIND_BUDGET].used == 45
    assert big.tokens_used == snapshot[pb.LIMIT_KIND_TOKENS].used == 300
    # the recorded event and this admission
    assert big.requests_this_minute == snapshot[pb.LIMIT_KIND_REQUESTS_PER_MINUTE].used == 2
    assert (small.model, small.token_limit, small.tokens_used, small.budget_used_cents) == (
        "small-model", 10, 0, 0
    )
