"""Admission periods and per-model limits end to end on both backends: a local day resets at
the zone's midnight, rolling windows, a model's own limit, bad policies naming the field."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf import duration_pb2

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import integrations_pb2 as ipb
from tests.service.admission_helpers import admit, enabled_integration, set_policy
from tests.service.test_admission_api import (
    Admission,
    Integrations,
    admission,
    integrations,
    limit,
    reasons,
    refused,
)
from tests.support import timestamp

__all__ = ["admission", "integrations"]  # fixtures shared with the API tests

TOKYO = ZoneInfo("Asia/Tokyo")


async def record(admission: Admission, tenant: str, integration: str, call_id: str,
                 when: datetime, cost: int, model: str = "") -> None:
    response = await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[pb.UsageEventInput(
            integration_id=integration, call_id=call_id, cost_cents=cost, model=model,
            event_time=timestamp(when),
        )],
    ))
    assert response.recorded_count == 1


async def test_a_local_day_counts_from_the_zones_midnight(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(admission, tenant, integration, limit_period=ipb.LIMIT_PERIOD_DAY,
                     period_time_zone="Asia/Tokyo", warn_percent=100)
    midnight = datetime.combine(datetime.now(TOKYO).date(), time(), TOKYO).astimezone(timezone.utc)
    await record(admission, tenant, integration, "yesterday", midnight - timedelta(seconds=1), 90)
    await record(admission, tenant, integration, "today", midnight + timedelta(seconds=1), 60)
    blocked = await admit(admission, tenant, integration, estimated_cost_cents=50)
    assert reasons(blocked) == [pb.ADMISSION_REASON_BUDGET_EXCEEDED]
    budget = limit(blocked, pb.LIMIT_KIND_BUDGET)
    assert budget.used == 60  # yesterday's 90 ended at Tokyo's midnight
    assert budget.period_start.ToDatetime(timezone.utc) == midnight
    assert budget.period_end.ToDatetime(timezone.utc) == midnight + timedelta(days=1)
    assert (await admit(admission, tenant, integration, estimated_cost_cents=40)).verdict != (
        pb.ADMISSION_VERDICT_BLOCK
    )


async def test_a_rolling_window_counts_the_exact_events_inside(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(admission, tenant, integration, limit_period=ipb.LIMIT_PERIOD_ROLLING,
                     rolling_window=duration_pb2.Duration(seconds=3600), warn_percent=100)
    now = datetime.now(timezone.utc)
    await record(admission, tenant, integration, "old", now - timedelta(minutes=61), 70)
    await record(admission, tenant, integration, "in", now - timedelta(minutes=59, seconds=7), 30)
    await record(admission, tenant, integration, "new", now - timedelta(minutes=1), 20)
    response = await admit(admission, tenant, integration, estimated_cost_cents=1)
    budget = limit(response, pb.LIMIT_KIND_BUDGET)
    assert budget.used == 50
    start, end = budget.period_start.ToDatetime(), budget.period_end.ToDatetime()
    assert end - start == timedelta(hours=1)


async def test_a_models_own_limit_blocks_it_while_another_model_passes(
    admission: Admission, integrations: Integrations, tenant: str, other_tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=1000)
    policy = await set_policy(admission, tenant, integration, model_limits=[
        pb.ModelLimits(model="big-model", budget_limit_cents=50, max_parallel_calls=1),
    ])
    assert [m.model for m in policy.model_limits] == ["big-model"]
    await record(admission, tenant, integration, "big", datetime.now(timezone.utc), 45,
                 "big-model")
    blocked = await admit(admission, tenant, integration, model="big-model",
                          estimated_cost_cents=10)
    assert reasons(blocked) == [pb.ADMISSION_REASON_BUDGET_EXCEEDED]
    model_budget = next(s for s in blocked.limits if s.model == "big-model"
                        and s.kind == pb.LIMIT_KIND_BUDGET)
    assert (model_budget.limit, model_budget.used) == (50, 45)
    assert limit(blocked, pb.LIMIT_KIND_BUDGET).used == 45  # the integration-wide one, first
    other = await admit(admission, tenant, integration, model="small-model",
                        estimated_cost_cents=10)
    assert other.verdict == pb.ADMISSION_VERDICT_ALLOW
    assert {s.model for s in other.limits} == {""}
    fetched = await admission.GetAdmissionPolicy(
        pb.GetAdmissionPolicyRequest(tenant_id=tenant, integration_id=integration)
    )
    assert fetched.model_limits[0].budget_limit_cents == 50
    assert fetched.limit_period == ipb.LIMIT_PERIOD_MONTH and fetched.period_time_zone == "UTC"
    assert (await refused(set_policy(admission, other_tenant, integration, model_limits=[
        pb.ModelLimits(model="x")])))[0] == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        pytest.param({"period_time_zone": "Mars/Olympus"}, "policy.period_time_zone", id="zone"),
        pytest.param({"limit_period": ipb.LIMIT_PERIOD_WEEK, "period_anchor": 8},
                     "policy.period_anchor", id="anchor"),
        pytest.param({"limit_period": ipb.LIMIT_PERIOD_ROLLING}, "policy.rolling_window",
                     id="no-window"),
        pytest.param({"model_limits": [pb.ModelLimits(model="m", token_limit=-1)]},
                     "policy.model_limits[0].token_limit", id="model-negative"),
        pytest.param({"model_limits": [pb.ModelLimits(model="")]},
                     "policy.model_limits[0].model", id="model-empty"),
    ],
)
async def test_bad_periods_and_model_limits_name_the_field_and_change_nothing(
    admission: Admission, integrations: Integrations, tenant: str, fields: dict, bad: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    await set_policy(admission, tenant, integration, limit_period=ipb.LIMIT_PERIOD_DAY,
                     model_limits=[pb.ModelLimits(model="kept", rate_limit_rpm=3)])
    code, _, violations = await refused(set_policy(admission, tenant, integration, **fields))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad in violations
    fetched = await admission.GetAdmissionPolicy(
        pb.GetAdmissionPolicyRequest(tenant_id=tenant, integration_id=integration)
    )
    assert fetched.limit_period == ipb.LIMIT_PERIOD_DAY
    assert [(m.model, m.rate_limit_rpm) for m in fetched.model_limits] == [("kept", 3)]
