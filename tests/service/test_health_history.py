"""IntegrationHealthService.ListHealthChecks end to end on each backend: the stored probe history
by integration, time range and state, paged newest first; tenants, scopes and bad input."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from integrations.v1 import common_pb2, health_pb2, health_pb2_grpc
from tests.conftest import serve_config
from tests.fake_provider import FakeProvider
from tests.secrets_registry import register_secret
from tests.service import test_health
from tests.service.servers import started
from tests.service.test_health import KEY_ENV, SECRET, Client
from tests.support import RunningServer, new_tenant, rich_error

S = common_pb2
# The health tests' server (short probe timeouts) and local provider.
health_server = test_health.health_server
provider = test_health.provider


async def list_checks(client: Client, **fields: Any) -> health_pb2.ListHealthChecksResponse:
    return await client.health.ListHealthChecks(
        health_pb2.ListHealthChecksRequest(tenant_id=client.tenant, **fields)
    )


async def all_pages(client: Client, **fields: Any) -> list[health_pb2.HealthCheckRecord]:
    records: list[health_pb2.HealthCheckRecord] = []
    token = ""
    while True:
        page = await list_checks(client, page_token=token, **fields)
        records.extend(page.health_checks)
        token = page.next_page_token
        if not token:
            return records


async def test_history_filtered_and_paged_newest_first(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    good = await client.add("good", {"base_url": provider.route("ok")})
    bad = await client.add("bad", {"base_url": provider.route("no", 401)})
    for _ in range(3):
        await client.check(good, force=True)
        await client.check(bad, force=True)
    everything = await list_checks(client)
    assert everything.total_size == 6 and everything.next_page_token == ""
    times = [r.checked_at.ToDatetime() for r in everything.health_checks]
    assert times == sorted(times, reverse=True)
    assert {r.integration_id for r in everything.health_checks} == {good, bad}
    assert all(r.id and r.latency_ms >= 0 for r in everything.health_checks)

    only_bad = await list_checks(client, integration_id=bad)
    assert only_bad.total_size == 3
    assert {(r.health_state, r.error_code) for r in only_bad.health_checks} == {
        (S.HEALTH_STATE_UNHEALTHY, "auth_failed")
    }
    unhealthy = await list_checks(client, health_state=S.HEALTH_STATE_UNHEALTHY)
    assert [r.id for r in unhealthy.health_checks] == [r.id for r in only_bad.health_checks]

    paged = await all_pages(client, page_size=4)
    assert [r.id for r in paged] == [r.id for r in everything.health_checks]
    first = await list_checks(client, page_size=4)
    assert (len(first.health_checks), first.total_size) == (4, 6) and first.next_page_token

    # [start, end): the middle entries by their own times.
    newest, oldest = everything.health_checks[0], everything.health_checks[-1]
    window = await list_checks(client, start_time=oldest.checked_at, end_time=newest.checked_at)
    assert newest.id not in {r.id for r in window.health_checks}
    assert oldest.id in {r.id for r in window.health_checks}
    later = timestamp_pb2.Timestamp()
    later.FromDatetime(newest.checked_at.ToDatetime() + timedelta(hours=1))
    assert (await list_checks(client, start_time=later)).total_size == 0


async def test_other_tenant_sees_none_of_it(
    health_server: RunningServer, provider: FakeProvider, tenant: str, other_tenant: str
) -> None:
    mine, theirs = Client(health_server, tenant), Client(health_server, other_tenant)
    integration = await mine.add("i", {"base_url": provider.route("r")})
    await mine.check(integration)
    assert (await list_checks(theirs)).total_size == 0
    missing = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await list_checks(theirs, integration_id=integration)
    with pytest.raises(grpc.aio.AioRpcError) as absent:
        await list_checks(theirs, integration_id=missing)
    assert rich_error(other.value).code == grpc.StatusCode.NOT_FOUND
    assert rich_error(other.value).message == rich_error(absent.value).message.replace(
        missing, integration
    )
    # A page token of one tenant is refused for another.
    await mine.check(await mine.add("j", {"base_url": provider.route("r")}))
    token = (await list_checks(mine, page_size=1)).next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as stolen:
        await list_checks(theirs, page_size=1, page_token=token)
    assert "page_token" in rich_error(stolen.value).field_violations
    assert (await list_checks(mine)).total_size == 2


def _ts(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        pytest.param({"tenant_id": "x"}, "tenant_id", id="tenant"),
        pytest.param({"tenant_id": ""}, "tenant_id", id="no-tenant"),
        pytest.param({"integration_id": "nope"}, "integration_id", id="integration"),
        pytest.param({"page_size": -1}, "page_size", id="page-size"),
        pytest.param({"page_token": "garbage"}, "page_token", id="page-token"),
        pytest.param({"health_state": 99}, "health_state", id="state"),
        pytest.param({"start_time": _ts(2000), "end_time": _ts(1000)}, "start_time", id="range"),
        pytest.param({"start_time": _ts(10**12)}, "start_time", id="start-far"),
        pytest.param({"end_time": _ts(0, nanos=-1)}, "end_time", id="end-nanos"),
    ],
)
async def test_bad_input_is_invalid_argument(
    health_server: RunningServer, tenant: str, fields: dict[str, Any], bad_field: str
) -> None:
    client = Client(health_server, tenant)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.health.ListHealthChecks(
            health_pb2.ListHealthChecksRequest(**{"tenant_id": tenant, **fields})
        )
    err = rich_error(caught.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and bad_field in err.field_violations


SCOPED_TENANT = new_tenant()
CALLERS = {"reader": ["integrations.read"], "admitter": ["admission.admit"]}
TOKENS = {name: register_secret(f"tok-{name}-{uuid.uuid4().hex}") for name in CALLERS}


@pytest.fixture
async def secured(
    database_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    monkeypatch.setenv(KEY_ENV, SECRET)
    callers = [
        {"name": name, "token_sha256": hashlib.sha256(TOKENS[name].encode()).hexdigest(),
         "scopes": scopes, "tenants": [SCOPED_TENANT]}
        for name, scopes in CALLERS.items()
    ]
    path = tmp_path / "callers.json"
    path.write_text(json.dumps({"callers": callers}))
    async with started(serve_config(database_url, callers_file=str(path)), backend) as server:
        yield server


async def test_needs_integrations_read_and_the_tenant(secured: RunningServer) -> None:
    stub = secured.stub(health_pb2_grpc.IntegrationHealthServiceStub)

    def call(caller: str, tenant: str) -> Any:
        return stub.ListHealthChecks(
            health_pb2.ListHealthChecksRequest(tenant_id=tenant),
            metadata=(("authorization", f"Bearer {TOKENS[caller]}"),),
        )

    assert (await call("reader", SCOPED_TENANT)).total_size == 0
    with pytest.raises(grpc.aio.AioRpcError) as scope:
        await call("admitter", SCOPED_TENANT)
    assert rich_error(scope.value).code == grpc.StatusCode.PERMISSION_DENIED
    assert rich_error(scope.value).metadata["required_scope"] == "integrations.read"
    with pytest.raises(grpc.aio.AioRpcError) as tenant:
        await call("reader", new_tenant())
    assert rich_error(tenant.value).code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.ListHealthChecks(health_pb2.ListHealthChecksRequest(tenant_id=SCOPED_TENANT))
    assert rich_error(anonymous.value).code == grpc.StatusCode.UNAUTHENTICATED
