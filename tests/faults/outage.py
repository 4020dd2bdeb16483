"""A PostgreSQL outage under steady load, shared by the suite's fault test and the benchmark:
a server process on a private cluster, load running, the cluster stopped for a while and started
again, then every failed create retried with its request_id, and the stored rows read back."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.bench.harness import ServerProcess
from tests.faults.steady_load import OK, SteadyLoad, percentile
from tests.private_postgres import PrivatePostgres
from tests.support import new_tenant

__all__ = ["OutageReport", "run_outage"]

SERVICE_DATABASE = "integrations"


@dataclass(frozen=True)
class OutageReport:
    """What a caller saw, and what the database holds afterwards."""

    codes: Counter[str]  # every call of the run by final code
    outage_codes: Counter[str]  # calls started while the database was down
    outage_p99_seconds: float  # latency of the failed calls started during the outage
    healthy_p99_seconds: float  # latency of the calls before the outage (the baseline)
    recovery_seconds: float | None  # database back -> calls succeed for good
    acknowledged: dict[str, str]  # request_id -> integration id, after retries
    retried: int  # creates that failed and were retried with the same request_id
    retry_codes: Counter[str]
    stored: dict[str, list[str]]  # request_id -> ids of rows stored under it
    health_during: str  # grpc.health.v1 status at the end of the outage
    health_after: str  # and once the load has run on the recovered database

    @property
    def duplicated(self) -> list[str]:
        return [rid for rid, ids in self.stored.items() if len(ids) > 1]

    @property
    def missing(self) -> list[str]:
        return [
            rid for rid, ident in self.acknowledged.items() if self.stored.get(rid) != [ident]
        ]

    def lines(self) -> list[str]:
        return [
            f"calls by code: {dict(self.codes)}",
            f"during outage: {dict(self.outage_codes)}  p99 {self.outage_p99_seconds * 1000:.0f} ms"
            f" = {self.outage_p99_seconds / max(self.healthy_p99_seconds, 1e-6):.1f}x the p99 of"
            f" healthy calls before it ({self.healthy_p99_seconds * 1000:.0f} ms)",
            "recovery after the database returned: "
            + (f"{self.recovery_seconds:.2f} s" if self.recovery_seconds is not None else "never"),
            f"creates acknowledged {len(self.acknowledged)} (retried {self.retried}: "
            f"{dict(self.retry_codes)}), stored {sum(len(v) for v in self.stored.values())}, "
            f"duplicated {len(self.duplicated)}, missing {len(self.missing)}",
            f"health: {self.health_during} at the end of the outage, {self.health_after} after",
        ]


async def _stored_rows(cluster: PrivatePostgres, tenant_id: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(cluster.dsn(SERVICE_DATABASE), timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT request_id, id FROM integrations WHERE tenant_id = $1", tenant_id
        )
    finally:
        await conn.close()
    stored: dict[str, list[str]] = {}
    for row in rows:
        stored.setdefault(row["request_id"], []).append(row["id"])
    return stored


async def _health(channel: grpc.aio.Channel) -> str:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=5
    )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def create_service_database(cluster: PrivatePostgres) -> str:
    """The service's database on the private cluster (the server migrates it on start)."""
    conn = await asyncpg.connect(cluster.dsn(), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{SERVICE_DATABASE}"')
    finally:
        await conn.close()
    return cluster.url(SERVICE_DATABASE)


async def run_outage(
    cluster: PrivatePostgres,
    *,
    before_seconds: float = 1.5,
    outage_seconds: float = 3.0,
    after_seconds: float = 6.0,
    rate_per_second: float = 40.0,
    stop_mode: str = "fast",
) -> OutageReport:
    """Runs the whole scenario against a fresh server process and returns what happened."""
    url = await create_service_database(cluster)
    tenant = new_tenant()
    async with ServerProcess(url) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            load = SteadyLoad(channel, tenant, rate_per_second=rate_per_second)
            stop = asyncio.Event()
            running = asyncio.create_task(load.run(stop))
            await asyncio.sleep(before_seconds)
            await asyncio.to_thread(cluster.stop, stop_mode)
            down = time.monotonic()
            await asyncio.sleep(outage_seconds)
            health_during = await _health(channel)
            up_started = time.monotonic()
            await asyncio.to_thread(cluster.start)
            up = time.monotonic()
            await asyncio.sleep(after_seconds)
            stop.set()
            await running
            health_after = await _health(channel)

            failed = load.unacknowledged()
            retry_codes = Counter([await load.create(rid) for rid in failed])

    outage = [o for o in load.outcomes if down <= o.started < up_started]
    return OutageReport(
        codes=Counter(o.code for o in load.outcomes),
        outage_codes=Counter(o.code for o in outage),
        outage_p99_seconds=percentile([o.seconds for o in outage if o.code != OK], 0.99),
        healthy_p99_seconds=percentile(
            [o.seconds for o in load.outcomes if o.started < down and o.code == OK], 0.99
        ),
        recovery_seconds=(
            None if (first := load.first_steady_success(up)) is None else max(0.0, first - up)
        ),
        acknowledged=dict(load.acknowledged),
        retried=len(failed),
        retry_codes=retry_codes,
        stored=await _stored_rows(cluster, tenant),
        health_during=health_during,
        health_after=health_after,
    )
