"""PostgreSQL stopped and started while callers admit and settle: each caller retries a failed
AdmitCall or SettleCall with the same call_id and numbers until it succeeds. Afterwards no
admitted call is missing from the counters and none is counted twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
import grpc

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.bench.harness import ServerProcess
from tests.faults.outage import SERVICE_DATABASE, create_service_database
from tests.private_postgres import PrivatePostgres
from tests.service.admission_helpers import enabled_integration
from tests.support import new_tenant

CALLERS = 8
CALLS_PER_CALLER = 40


async def _until_done(rpc: Any, request: object, codes: Counter[str]) -> Any:
    """Retries an idempotent call while the database is away (UNAVAILABLE)."""
    while True:
        try:
            return await rpc(request, timeout=5)
        except grpc.aio.AioRpcError as exc:
            codes[exc.code().name] += 1
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            await asyncio.sleep(0.05)


async def test_restart_during_admissions_loses_and_doubles_nothing(
    private_postgres_cluster: PrivatePostgres,
) -> None:
    url = await create_service_database(private_postgres_cluster)
    tenant = new_tenant()
    codes: Counter[str] = Counter()
    async with ServerProcess(url) as server, grpc.aio.insecure_channel(server.address) as channel:
        integration = await enabled_integration(
            integrations_pb2_grpc.IntegrationsServiceStub(channel), tenant,
            budget_limit_cents=10**9,
        )
        stub = admission_pb2_grpc.AdmissionServiceStub(channel)

        async def caller(index: int) -> None:
            for n in range(CALLS_PER_CALLER):
                call_id = f"c{index}-{n}"
                admitted = await _until_done(stub.AdmitCall, pb.AdmitCallRequest(
                    tenant_id=tenant, integration_id=integration, call_id=call_id,
                    estimated_cost_cents=5,
                ), codes)
                assert admitted.verdict != pb.ADMISSION_VERDICT_BLOCK
                await _until_done(stub.SettleCall, pb.SettleCallRequest(
                    tenant_id=tenant, call_id=call_id, cost_cents=1, input_tokens=2,
                ), codes)
                await asyncio.sleep(0.01)

        load = asyncio.gather(*(caller(i) for i in range(CALLERS)))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(private_postgres_cluster.stop, "immediate")
        await asyncio.sleep(2.0)
        await asyncio.to_thread(private_postgres_cluster.start)
        await load
        after = await stub.AdmitCall(pb.AdmitCallRequest(
            tenant_id=tenant, integration_id=integration, call_id="after",
            estimated_cost_cents=5,
        ))
    assert codes["UNAVAILABLE"] > 0, codes  # the outage was felt
    calls = CALLERS * CALLS_PER_CALLER
    budget = next(s for s in after.limits if s.kind == pb.LIMIT_KIND_BUDGET)
    assert (budget.used, budget.reserved) == (calls, 5)
    conn = await asyncpg.connect(private_postgres_cluster.dsn(SERVICE_DATABASE), timeout=5)
    try:
        events = await conn.fetch(
            "SELECT call_id, count(*) AS n, sum(cost_cents) AS cost FROM usage_events "
            "WHERE tenant_id = $1 GROUP BY call_id", tenant
        )
        states = await conn.fetch(
            "SELECT state, count(*) AS n FROM admission_reservations WHERE tenant_id = $1 "
            "GROUP BY state", tenant
        )
    finally:
        await conn.close()
    assert len(events) == calls and {(r["n"], r["cost"]) for r in events} == {(1, 1)}
    assert {r["state"]: r["n"] for r in states} == {"settled": calls, "open": 1}
