"""Webhooks for limit events end to end on both backends, against a real HTTP receiver on
loopback (allowed by the test servers' egress rules): Get/Update/DeleteLimitWebhook, the URL
rules, signed deliveries, a retry after a 500 with the same event id, tenant isolation, and the
secret kept out of answers, tables and logs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator

import grpc
import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.conftest import serve_config
from tests.fake_provider import FakeProvider, fake_provider
from tests.secrets_registry import register_secret
from tests.service.admission_helpers import admit, enabled_integration, signed_by, webhook_outbox
from tests.service.secret_scan import secrets_in_database
from tests.service.servers import started
from tests.support import RunningServer, rich_error

Admission = admission_pb2_grpc.AdmissionServiceStub
GIVEN_SECRET = register_secret("whsec-given-" + hashlib.sha256(b"limit-webhooks").hexdigest())


@pytest.fixture
async def fast(database_url: str, backend: str) -> AsyncIterator[RunningServer]:
    """A server whose deliverer polls every 0.1 s and retries after 0.05-0.1 s."""
    config = serve_config(
        database_url, limit_event_poll_seconds=0.1, webhook_backoff_seconds=0.1,
        webhook_max_attempts=4,
    )
    async with started(config, backend) as server:
        yield server


@pytest.fixture
async def receiver() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as provider:
        yield provider


@pytest.fixture
def admission(fast: RunningServer) -> Admission:
    return fast.stub(Admission)


async def budget(server: RunningServer, tenant: str) -> str:
    return await enabled_integration(
        server.stub(integrations_pb2_grpc.IntegrationsServiceStub), tenant, budget_limit_cents=100
    )


async def set_webhook(
    admission: Admission, tenant: str, url: str, **fields: object
) -> pb.UpdateLimitWebhookResponse:
    return await admission.UpdateLimitWebhook(
        pb.UpdateLimitWebhookRequest(tenant_id=tenant, url=url, **fields)  # type: ignore[arg-type]
    )


async def test_each_event_is_posted_signed_with_the_generated_secret(
    fast: RunningServer, admission: Admission, receiver: FakeProvider, tenant: str
) -> None:
    url = receiver.route("hook")
    created = await set_webhook(admission, tenant, url)
    secret = register_secret(created.generated_secret)
    assert secret.startswith("whsec_") and len(secret) > 32
    assert created.webhook.url == url and created.webhook.secret_ref.startswith("cus-vault://")
    got = await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=tenant))
    assert got == created.webhook and secret not in str(got)
    integration = await budget(fast, tenant)
    await admit(admission, tenant, integration, estimated_cost_cents=85)  # 80% reached
    await admit(admission, tenant, integration, estimated_cost_cents=15)  # 100% reached
    await receiver.wait_for_requests(2)
    await asyncio.sleep(0.3)  # nothing more comes
    listed = await admission.ListLimitEvents(pb.ListLimitEventsRequest(tenant_id=tenant))
    seen = receiver.seen("hook")
    assert len(seen) == 2
    assert {r.headers["x-integrations-event-id"] for r in seen} == {
        e.id for e in listed.limit_events
    }
    for request in seen:
        assert request.method == "POST" and signed_by(request, secret)
        body = json.loads(request.body)
        assert body["id"] == request.headers["x-integrations-event-id"]
        assert (body["type"], body["tenant_id"], body["integration_id"], body["kind"]) == (
            "admission.limit_event", tenant, integration, "LIMIT_KIND_BUDGET"
        )
    assert sorted(json.loads(r.body)["threshold_percent"] for r in seen) == [80, 100]


async def test_a_500_is_retried_with_the_same_event_id_and_recorded(
    fast: RunningServer, admission: Admission, receiver: FakeProvider, tenant: str
) -> None:
    url = receiver.route("flaky", status=500)
    await set_webhook(admission, tenant, url, secret=GIVEN_SECRET)
    integration = await budget(fast, tenant)
    await admit(admission, tenant, integration, estimated_cost_cents=85)
    await receiver.wait_for_requests(1)
    receiver.routes["flaky"].status = 200
    async with asyncio.timeout(10):
        while not (rows := await _outbox(fast, tenant)) or rows[0][1] is None:
            await asyncio.sleep(0.05)
    [(attempts, _, last_error)] = rows
    seen = receiver.seen("flaky")
    assert len(seen) == attempts >= 2
    assert len({r.headers["x-integrations-event-id"] for r in seen}) == 1
    assert [r.headers["x-integrations-delivery-attempt"] for r in seen] == [
        str(n) for n in range(1, attempts + 1)
    ]
    assert all(signed_by(r, GIVEN_SECRET) for r in seen)
    assert last_error == f"attempt {attempts - 1}: HTTP 500"
    await asyncio.sleep(0.3)
    assert len(receiver.seen("flaky")) == attempts  # delivered: not sent again


async def _outbox(server: RunningServer, tenant: str) -> list[tuple[int, object, str | None]]:
    return [row[1:] for row in await webhook_outbox(server.database_url, tenant)]


async def test_a_tenant_without_a_webhook_gets_no_outbox_rows_and_others_see_nothing(
    fast: RunningServer, admission: Admission, receiver: FakeProvider, tenant: str,
    other_tenant: str,
) -> None:
    await set_webhook(admission, tenant, receiver.route("mine"), secret=GIVEN_SECRET)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=other_tenant))
    assert rich_error(caught.value).code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admission.DeleteLimitWebhook(pb.DeleteLimitWebhookRequest(tenant_id=other_tenant))
    assert rich_error(caught.value).code == grpc.StatusCode.NOT_FOUND
    other = await budget(fast, other_tenant)
    await admit(admission, other_tenant, other, estimated_cost_cents=100)
    await asyncio.sleep(0.3)
    assert receiver.seen("mine") == []
    assert await _outbox(fast, other_tenant) == []
    assert (await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=tenant))).url


@pytest.mark.parametrize(
    ("url", "secret", "field"),
    [
        ("http://hooks.example.com/x", "", "url"),
        ("ftp://hooks.example.com/x", "", "url"),
        ("https://10.0.0.1/x", "", ""),  # refused by the egress policy's default deny
        ("https://hooks.example.com/x", "short", "secret"),
        ("", "", "url"),
    ],
)
async def test_urls_and_secrets_are_checked(
    admission: Admission, tenant: str, url: str, secret: str, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await set_webhook(admission, tenant, url, secret=secret)
    error = rich_error(caught.value)
    if field:
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert list(error.field_violations) == [field]
    else:
        assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError):
        await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=tenant))


async def test_rotation_moves_and_delete(
    fast: RunningServer, admission: Admission, receiver: FakeProvider, tenant: str
) -> None:
    first = await set_webhook(admission, tenant, "https://hooks.example.com/a")
    register_secret(first.generated_secret)
    same = await set_webhook(admission, tenant, "https://hooks.example.com/b")
    assert same.generated_secret == "" and same.webhook.secret_ref == first.webhook.secret_ref
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await set_webhook(admission, tenant, "https://hooks.example.com/b", secret=GIVEN_SECRET,
                          rotate_secret=True)
    assert rich_error(caught.value).code == grpc.StatusCode.INVALID_ARGUMENT
    rotated = await set_webhook(admission, tenant, "https://hooks.example.com/b", rotate_secret=True)
    register_secret(rotated.generated_secret)
    assert rotated.generated_secret not in ("", first.generated_secret)
    assert rotated.webhook.secret_ref != first.webhook.secret_ref
    # Moved to another host without a new secret: the same secret signs there.
    moved = await set_webhook(admission, tenant, receiver.route("moved"))
    assert moved.generated_secret == "" and moved.webhook.secret_ref != rotated.webhook.secret_ref
    integration = await budget(fast, tenant)
    await admit(admission, tenant, integration, estimated_cost_cents=85)
    await receiver.wait_for_requests(1)
    assert signed_by(receiver.seen("moved")[0], rotated.generated_secret)
    deleted = await admission.DeleteLimitWebhook(pb.DeleteLimitWebhookRequest(tenant_id=tenant))
    assert deleted.deleted
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=tenant))
    assert rich_error(caught.value).code == grpc.StatusCode.NOT_FOUND


async def test_the_secret_is_in_no_answer_and_no_table(
    fast: RunningServer, admission: Admission, receiver: FakeProvider, tenant: str
) -> None:
    created = await set_webhook(admission, tenant, receiver.route("scan"))
    generated = register_secret(created.generated_secret)
    other = await set_webhook(admission, tenant, receiver.route("scan"), secret=GIVEN_SECRET)
    assert other.generated_secret == "" and GIVEN_SECRET not in str(other)
    got = await admission.GetLimitWebhook(pb.GetLimitWebhookRequest(tenant_id=tenant))
    assert GIVEN_SECRET not in got.SerializeToString().decode("latin-1")
    integration = await budget(fast, tenant)
    await admit(admission, tenant, integration, estimated_cost_cents=85)
    await receiver.wait_for_requests(1)
    assert signed_by(receiver.seen("scan")[0], GIVEN_SECRET)
    assert GIVEN_SECRET.encode() not in receiver.seen("scan")[0].body
    assert await secrets_in_database(fast.database_url, [generated, GIVEN_SECRET]) == []
    # Log lines are checked for every registered secret by the suite's secret guard.
