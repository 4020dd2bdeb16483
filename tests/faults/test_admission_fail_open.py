"""fail_open on a running server whose PostgreSQL goes away: an integration with fail_open that
this server admitted before is ALLOWed unchecked (no reservation, counted by
integrations_admission_unchecked_total), a fail-closed one is UNAVAILABLE at once, and so is a
fail_open one this server never read; once the database is back admission is checked again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import grpc
import httpx

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.bench.harness import ServerProcess, free_port
from tests.faults.outage import SERVICE_DATABASE, create_service_database
from tests.private_postgres import PrivatePostgres
from tests.service.admission_helpers import enabled_integration, set_policy
from tests.support import new_tenant

UNCHECKED_METRIC = 'integrations_admission_unchecked_total{provider="openai"}'


def _admit(tenant: str, integration: str, call_id: str) -> pb.AdmitCallRequest:
    return pb.AdmitCallRequest(
        tenant_id=tenant, integration_id=integration, call_id=call_id, model="gpt-x",
        estimated_input_tokens=10, estimated_max_output_tokens=10, estimated_cost_cents=1,
    )


async def _answered(rpc: Any, request: object) -> Any:
    """The answer once the server reaches the database again: each pooled connection that died
    with the outage answers UNAVAILABLE once (no pre-ping; drivers/kernel/database.py)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return await rpc(request, timeout=5)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _unchecked_count(metrics_port: int) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    for line in text.splitlines():
        if line.startswith(UNCHECKED_METRIC):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _policy_from_elsewhere(cluster: PrivatePostgres, tenant: str, integration: str) -> None:
    """A fail_open policy written by another replica: this server has never read it."""
    conn = await asyncpg.connect(cluster.dsn(SERVICE_DATABASE), timeout=5)
    try:
        await conn.execute(
            "INSERT INTO admission_policies (integration_id, tenant_id, tokens_per_minute, "
            "max_parallel_calls, reservation_ttl_ms, warn_percent, update_time, fail_open) "
            "VALUES ($1, $2, 0, 0, 300000, 80, now(), true)", integration, tenant,
        )
    finally:
        await conn.close()


async def test_fail_open_admits_unchecked_during_an_outage_and_checks_again_after(
    private_postgres_cluster: PrivatePostgres,
) -> None:
    url = await create_service_database(private_postgres_cluster)
    tenant = new_tenant()
    metrics_port = free_port()
    async with (
        ServerProcess(url, "--metrics-listen", f"127.0.0.1:{metrics_port}") as server,
        grpc.aio.insecure_channel(server.address) as channel,
    ):
        integrations = integrations_pb2_grpc.IntegrationsServiceStub(channel)
        stub = admission_pb2_grpc.AdmissionServiceStub(channel)
        # A budget of 1 cent: the warm-up admission reserves it all, so a checked admission of
        # the same integration would be BLOCKed; an unchecked one is not.
        fail_open = await enabled_integration(integrations, tenant, budget_limit_cents=1)
        closed = await enabled_integration(integrations, tenant, budget_limit_cents=100)
        unread = await enabled_integration(integrations, tenant, budget_limit_cents=100)
        await set_policy(stub, tenant, fail_open, fail_open=True)
        await _policy_from_elsewhere(private_postgres_cluster, tenant, unread)
        for integration in (fail_open, closed):
            warm = await stub.AdmitCall(_admit(tenant, integration, f"warm-{integration}"))
            assert warm.HasField("reservation") and not warm.unchecked  # WARN at 1 of 1 cent
        spent = await stub.AdmitCall(_admit(tenant, fail_open, "spent"))
        assert spent.verdict == pb.ADMISSION_VERDICT_BLOCK  # the budget is reserved

        await asyncio.to_thread(private_postgres_cluster.stop)
        try:
            admitted = await stub.AdmitCall(_admit(tenant, fail_open, "outage-1"), timeout=10)
            assert (admitted.verdict, admitted.unchecked) == (pb.ADMISSION_VERDICT_ALLOW, True)
            assert [r.reason for r in admitted.reasons] == [
                pb.ADMISSION_REASON_ADMITTED_UNCHECKED
            ]
            assert not admitted.HasField("reservation") and len(admitted.limits) == 0
            target = admitted.target
            assert (target.integration_id, target.base_url, target.model, target.credential_ref) \
                == (fail_open, "https://llm.example.com/v1", "gpt-x", "env://OPENAI_API_KEY")
            for integration in (closed, unread):
                started = time.monotonic()
                try:
                    await stub.AdmitCall(_admit(tenant, integration, "outage-2"), timeout=10)
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
                else:
                    raise AssertionError("a fail-closed admission got through the outage")
                assert time.monotonic() - started < 5.0
            assert await _unchecked_count(metrics_port) == 1.0
        finally:
            await asyncio.to_thread(private_postgres_cluster.start)

        # The database is back: admission is checked (and the spent budget blocks) again.
        after = await _answered(stub.AdmitCall, _admit(tenant, closed, "after-1"))
        assert (after.verdict, after.unchecked) == (pb.ADMISSION_VERDICT_ALLOW, False)
        assert after.HasField("reservation")
        blocked = await _answered(stub.AdmitCall, _admit(tenant, fail_open, "after-2"))
        assert (blocked.verdict, blocked.unchecked) == (pb.ADMISSION_VERDICT_BLOCK, False)
        # The unchecked call has no reservation to settle; its usage goes in by RecordUsageBatch.
        try:
            await _answered(stub.SettleCall, pb.SettleCallRequest(
                tenant_id=tenant, call_id="outage-1", cost_cents=1,
            ))
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND
            assert "RecordUsageBatch" in (exc.details() or "")
        else:
            raise AssertionError("SettleCall of an unchecked call found a reservation")
        recorded = await _answered(stub.RecordUsageBatch, pb.RecordUsageBatchRequest(
            tenant_id=tenant, events=[pb.UsageEventInput(
                integration_id=fail_open, call_id="outage-1", model="gpt-x", cost_cents=1,
                policy_result=pb.ADMISSION_VERDICT_ALLOW,
            )],
        ))
        assert recorded.recorded_count == 1
        assert await _unchecked_count(metrics_port) == 1.0
