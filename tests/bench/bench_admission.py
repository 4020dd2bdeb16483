"""AdmissionService on PostgreSQL: AdmitCall alone and the AdmitCall + SettleCall pair at 8 and 64
concurrent callers, beside the three-call path it replaces (GetLimitsStatus + GetCredential +
RecordUsage), each as a ratio of health Check measured on the same server in the same run, with
the CPU each call cost the server and PostgreSQL (from /proc: on this machine both share two
cores, so a path's throughput is bounded by their sum).

Calls are spread over many integrations (the usual case: each caller's own); a last run puts
every caller on one integration, where admissions take turns on its lock.

PostgreSQL's CPU is that of the bench database's own backends and of the backends that exited
during the run (the server may serve other clients meanwhile). With BENCH_BASELINE=<git ref> a
server of that commit's tree, on a database of its own, is measured too, each load right after
the same load on this tree's server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.bench.bench_sql_gateway import _source_tree
from tests.bench.harness import (
    ROOT,
    LoadResult,
    ServerProcess,
    cpu_seconds,
    postgres_database,
    run_load,
)

CALLS = 2000
CONCURRENCY = (8, 64)
INTEGRATIONS = 64
KEY_ENV = "DEV_BENCH_ADMISSION_PROVIDER_KEY"  # env:// resolves only allowed prefixes
LIMITS = {"budget_limit_cents": 10**12, "token_limit_month": 10**12, "rate_limit_rpm": 10**9}


async def _integrations(channel: grpc.aio.Channel, tenant: str, count: int) -> list[str]:
    stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
    ids = []
    for n in range(count):
        created = await stub.CreateIntegration(integrations_pb2.CreateIntegrationRequest(
            tenant_id=tenant,
            integration=integrations_pb2.Integration(
                name=f"bench-{n}", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref=f"env://{KEY_ENV}", default_model="gpt-bench", **LIMITS,
            ),
        ))
        await stub.EnableIntegration(integrations_pb2.EnableIntegrationRequest(
            tenant_id=tenant, integration_id=created.id
        ))
        ids.append(created.id)
    return ids


def _paths(
    channel: grpc.aio.Channel, tenant: str, ids: list[str], run: str
) -> dict[str, Callable[[int], Awaitable[object]]]:
    admission = admission_pb2_grpc.AdmissionServiceStub(channel)
    integrations = integrations_pb2_grpc.IntegrationsServiceStub(channel)
    credentials = credentials_pb2_grpc.CredentialServiceStub(channel)

    def admit_request(i: int, kind: str) -> pb.AdmitCallRequest:
        return pb.AdmitCallRequest(
            tenant_id=tenant, integration_id=ids[i % len(ids)], call_id=f"{run}-{kind}-{i}",
            estimated_input_tokens=500, estimated_max_output_tokens=500, estimated_cost_cents=1,
        )

    async def pair(i: int) -> None:
        admitted = await admission.AdmitCall(admit_request(i, "pair"))
        await admission.SettleCall(pb.SettleCallRequest(
            tenant_id=tenant, reservation_id=admitted.reservation.id, input_tokens=420,
            output_tokens=180, cost_cents=1,
        ))

    async def three_calls(i: int) -> None:
        integration_id = ids[i % len(ids)]
        await integrations.GetLimitsStatus(integrations_pb2.GetLimitsStatusRequest(
            tenant_id=tenant, integration_id=integration_id
        ))
        await credentials.GetCredential(credentials_pb2.GetCredentialRequest(
            tenant_id=tenant, credential_ref=f"env://{KEY_ENV}", access_reason="bench"
        ))
        await integrations.RecordUsage(integrations_pb2.RecordUsageRequest(
            tenant_id=tenant, integration_id=integration_id, tokens=600, cost_cents=1
        ))

    return {
        "AdmitCall": lambda i: admission.AdmitCall(admit_request(i, "admit")),
        "AdmitCall + SettleCall": pair,
        "GetLimits+GetCredential+Record": three_calls,
    }


def _postmaster() -> int | None:
    """The PostgreSQL postmaster on this machine (the postgres process whose parent is not)."""
    def comm_and_parent(pid: str) -> tuple[str, str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()[1]

    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            comm, parent = comm_and_parent(stat.parent.name)
            if comm == "postgres" and comm_and_parent(parent)[0] != "postgres":
                return int(stat.parent.name)
    return None


class _Backends:
    """CPU of one database's PostgreSQL backends, and of every backend that exited meanwhile
    (the postmaster reaps them: a pool's overflow connections; other clients' too, the only
    ones counted): far less noise than every postgres process when another client is busy."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._postmaster = _postmaster()

    async def reading(self) -> dict[int, float]:
        pids = [row[0] for row in await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )]
        cpu = {}
        for pid in pids:
            with contextlib.suppress(OSError, ValueError):
                cpu[pid] = cpu_seconds(pid)
        if self._postmaster is not None:
            with contextlib.suppress(OSError, ValueError):
                whole = cpu_seconds(self._postmaster, reaped_children=True)
                cpu[-1] = whole - cpu_seconds(self._postmaster)  # the exited backends
        return cpu

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU between two readings: a backend started in between counts whole; one that
        exited in between from the postmaster's reaped children (key -1). A backend of this
        database that exited between is counted twice for what it spent before the first
        reading (the pool keeps its connections: rare)."""
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass
class _Server:
    """One server under test: its process, the database's backends, its tenant and integrations."""

    name: str
    channel: grpc.aio.Channel
    pid: int
    backends: _Backends
    tenant: str
    ids: list[str]


@contextlib.asynccontextmanager
async def _server(name: str, root: Path) -> AsyncIterator[_Server]:
    async with postgres_database() as url, ServerProcess(
        url, "--allow-env-credentials", env={KEY_ENV: "sk-bench-" + uuid.uuid4().hex}, root=root
    ) as server:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                tenant = str(uuid.uuid4())
                ids = await _integrations(channel, tenant, INTEGRATIONS)
                assert server.process is not None
                yield _Server(name, channel, server.process.pid, _Backends(conn), tenant, ids)
        finally:
            await conn.close()


async def _measured(
    server: _Server, name: str, call: Callable[[int], Awaitable[object]], concurrency: int
) -> tuple[LoadResult, str, float]:
    """A load run and the CPU per call it cost the server and PostgreSQL (read from /proc)."""
    server_before, postgres_before = cpu_seconds(server.pid), await server.backends.reading()
    result = await run_load(name, call, concurrency=concurrency, total_calls=CALLS)
    server_ms = (cpu_seconds(server.pid) - server_before) * 1000 / CALLS
    spent = _Backends.spent(postgres_before, await server.backends.reading())
    postgres_ms = spent * 1000 / CALLS
    return result, f"CPU per call: server {server_ms:.2f} ms, PostgreSQL {postgres_ms:.2f} ms", (
        server_ms + postgres_ms
    )


async def _level(server: _Server, ids: list[str], label: str, concurrency: int) -> None:
    health = health_pb2_grpc.HealthStub(server.channel)
    check = health_pb2.HealthCheckRequest()
    run = f"{label}-{concurrency}"
    baseline, baseline_cpu, _ = await _measured(
        server, "health Check", lambda i: health.Check(check), concurrency
    )
    results: dict[str, LoadResult] = {}
    cpu = {"health Check": baseline_cpu}
    for name, call in _paths(server.channel, server.tenant, ids, run).items():
        results[name], cpu[name], _ = await _measured(server, name, call, concurrency)
    print(f"PostgreSQL, {label}, {concurrency} concurrent callers, {CALLS} calls each "
          f"(a path's calls/s counts whole paths): {server.name}")
    for result in (baseline, *results.values()):
        print("  " + result.line(baseline) + "  " + cpu[result.name])
    pair = results["AdmitCall + SettleCall"].throughput
    three = results["GetLimits+GetCredential+Record"].throughput
    print(f"  AdmitCall / health Check: "
          f"{results['AdmitCall'].throughput / baseline.throughput:.2f} (target >= 0.5 at 8)")
    print(f"  admit+settle / three-call path: {pair / three:.2f} (target >= 2)")


async def main() -> None:
    reference = os.environ.get("BENCH_BASELINE", "")
    async with contextlib.AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(_server("this tree", ROOT))]
        if reference:
            tree = stack.enter_context(_source_tree(reference))
            servers.append(await stack.enter_async_context(_server(f"at {reference}", tree)))
        for label, count in ((f"{INTEGRATIONS} integrations", INTEGRATIONS),
                             ("one integration", 1)):
            for concurrency in CONCURRENCY:
                for server in servers:
                    await _level(server, server.ids[:count], label, concurrency)
