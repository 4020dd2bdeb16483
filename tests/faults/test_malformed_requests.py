"""The fixes the bad-input fuzzing led to, pinned as plain end-to-end tests: a request nested past
protobuf's depth limit, an out-of-range Timestamp or Duration, and a Struct number without a JSON
form (NaN, Infinity) are INVALID_ARGUMENT naming the field, not UNKNOWN/INTERNAL, and change
nothing."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import (
    health_pb2,
    health_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
    prevention_pb2,
    prevention_pb2_grpc,
)
from tests.support import RunningServer, rich_error


def _nest(level: struct_pb2.Struct, depth: int) -> None:
    # Built in place: copying a message this deep would itself hit the parser's limit.
    for _ in range(depth):
        level = level.fields["k"].struct_value
    level.fields["leaf"].string_value = "x"


def _create_request(tenant: str, name: str) -> integrations_pb2.CreateIntegrationRequest:
    """A valid CreateIntegration request; each test then spoils its config."""
    return integrations_pb2.CreateIntegrationRequest(
        tenant_id=tenant,
        integration=integrations_pb2.Integration(
            name=name, provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
            credential_ref="env://DEV_FAULT_TEST_PROVIDER_KEY",
        ),
    )


async def test_request_nested_past_the_parser_limit_is_invalid_argument(
    server: RunningServer, tenant: str
) -> None:
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    request = _create_request(tenant, "deep")
    _nest(request.integration.config, 80)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateIntegration(request)
    error = rich_error(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "MALFORMED_REQUEST"
    assert "request" in error.field_violations
    listed = await stub.ListIntegrations(integrations_pb2.ListIntegrationsRequest(tenant_id=tenant))
    assert listed.total_size == 0


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param(timestamp_pb2.Timestamp(seconds=253402300800), id="after-9999"),
        pytest.param(timestamp_pb2.Timestamp(seconds=0, nanos=-1), id="negative-nanos"),
    ],
)
async def test_out_of_range_timestamps_name_their_field(
    server: RunningServer, tenant: str, timestamp: timestamp_pb2.Timestamp
) -> None:
    credentials = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await credentials.CreateCredential(
            credentials_pb2.CreateCredentialRequest(
                tenant_id=tenant, name="n", secret="s", expire_time=timestamp
            )
        )
    assert rich_error(caught.value).field_violations.keys() == {"expire_time"}
    listed = await credentials.ListCredentials(
        credentials_pb2.ListCredentialsRequest(tenant_id=tenant)
    )
    assert len(listed.credentials) == 0

    prevention = server.stub(prevention_pb2_grpc.PreventionServiceStub)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await prevention.EvaluateGraduation(
            prevention_pb2.EvaluateGraduationRequest(
                tenant_id=tenant, policy_id="p", policy_activated_at=timestamp
            )
        )
    error = rich_error(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.field_violations.keys() == {"policy_activated_at"}


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param(315_576_000_000, id="ten-thousand-years"),  # the largest valid Duration
        pytest.param(2**62, id="beyond-python-timedelta"),
    ],
)
async def test_out_of_range_stale_threshold_is_invalid_argument(
    server: RunningServer, tenant: str, seconds: int
) -> None:
    stub = server.stub(health_pb2_grpc.IntegrationHealthServiceStub)
    threshold = duration_pb2.Duration(seconds=seconds)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetHealthSummary(
            health_pb2.GetHealthSummaryRequest(tenant_id=tenant, stale_threshold=threshold)
        )
    assert rich_error(caught.value).field_violations.keys() == {"stale_threshold"}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.CheckAllIntegrations(
            health_pb2.CheckAllIntegrationsRequest(tenant_id=tenant, stale_threshold=threshold)
        ):
            pass
    error = rich_error(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.field_violations.keys() == {"stale_threshold"}


@pytest.mark.parametrize("number", [float("nan"), float("inf")], ids=["nan", "infinity"])
async def test_struct_numbers_without_a_json_form_name_their_field(
    server: RunningServer, tenant: str, number: float
) -> None:
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    request = _create_request(tenant, "nan")
    request.integration.config.fields["temperature"].number_value = number
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateIntegration(request)
    error = rich_error(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.field_violations.keys() == {"integration.config"}
    listed = await stub.ListIntegrations(integrations_pb2.ListIntegrationsRequest(tenant_id=tenant))
    assert listed.total_size == 0
