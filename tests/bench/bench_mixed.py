"""A mixed workload on PostgreSQL (70% reads, 20% writes, 10% health and credential calls) at 8
and 64 concurrent callers, on one replica and on three replicas of the same machine (each
client spreads its calls round-robin over the replicas): throughput, p50 and p99 as ratios to the
standard health Check measured on the same replicas in the same run, just before and after.

The callers run in CLIENT_PROCESSES client processes, their samples merged over their joint time
window; each run prints how busy each client process was (CPU seconds per wall second) next to
the replicas' CPU time per call, so one can see which side limits the throughput."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

import grpc
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2 as grpc_health_pb2
from grpc_health.v1 import health_pb2_grpc as grpc_health_pb2_grpc

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import (
    connectors_pb2,
    connectors_pb2_grpc,
    data_sources_pb2,
    data_sources_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
    integrations_pb2_grpc,
)
from integrations.v1 import integrations_pb2 as pb
from service.convert import to_struct
from tests.bench.harness import (
    LoadResult,
    LoadSample,
    cpu_seconds,
    postgres_database,
    sample_load,
    summarize,
)
from tests.fake_provider import FakeProvider, fake_provider
from tests.replicas import Replicas, replicas

REPLICA_COUNTS = (1, 3)
CONCURRENCY = (8, 64)
CLIENT_PROCESSES = 2
CALLS = {8: 3000, 64: 6000}
WARMUP = 200
TENANTS = 4
INTEGRATIONS_PER_TENANT = 10
CHECKED_PER_TENANT = 4  # integrations with a fresh stored check, so CheckHealth answers cached
KEY_ENV = "DEV_MIXED_BENCH_PROVIDER_KEY"

# Each operation's share of 100 calls, by kind: 70 reads, 20 writes, 10 health/credential.
MIX: dict[str, dict[str, int]] = {
    "read": {
        "GetIntegration": 20, "ListIntegrations": 15, "GetLimitsStatus": 15,
        "GetDataSource": 10, "ListConnectors": 10,
    },
    "write": {"CreateIntegration": 7, "RecordUsage": 8, "UpdateIntegration": 5},
    "health/credential": {
        "GetHealthSummary": 3, "CheckHealth (cached)": 3, "EncryptCredential": 2,
        "GetCredential": 2,
    },
}


@dataclass(frozen=True)
class TenantData:
    """What the seeding made for one tenant; the workload reads and updates these."""

    tenant_id: str
    integration_ids: tuple[str, ...]
    checked_ids: tuple[str, ...]
    data_source_ids: tuple[str, ...]
    encrypted_ref: str


@dataclass(frozen=True)
class Job:
    """One client process's share of a load run (picklable: it crosses a process boundary)."""

    workload: str  # "check" or "mixed"
    addresses: tuple[str, ...]
    tenants: tuple[TenantData, ...]
    concurrency: int
    calls: int
    client: int
    run: str


@dataclass
class Stubs:
    """The stubs of one replica."""

    health: grpc_health_pb2_grpc.HealthStub
    integrations: integrations_pb2_grpc.IntegrationsServiceStub
    integration_health: health_pb2_grpc.IntegrationHealthServiceStub
    connectors: connectors_pb2_grpc.ConnectorsServiceStub
    data_sources: data_sources_pb2_grpc.DataSourcesServiceStub
    credentials: credentials_pb2_grpc.CredentialServiceStub

    @classmethod
    def of(cls, channel: grpc.aio.Channel) -> Stubs:
        return cls(
            grpc_health_pb2_grpc.HealthStub(channel),
            integrations_pb2_grpc.IntegrationsServiceStub(channel),
            health_pb2_grpc.IntegrationHealthServiceStub(channel),
            connectors_pb2_grpc.ConnectorsServiceStub(channel),
            data_sources_pb2_grpc.DataSourcesServiceStub(channel),
            credentials_pb2_grpc.CredentialServiceStub(channel),
        )


Operation = Callable[[Stubs, TenantData, int], Awaitable[object]]


def _operations(job: Job) -> dict[str, Operation]:
    """Every operation of MIX, as a call on one replica's stubs for one tenant."""
    prefix = f"{job.run}-{job.client}"

    def pick(ids: Sequence[str], i: int) -> str:
        return ids[(i // 7) % len(ids)]

    return {
        "GetIntegration": lambda s, t, i: s.integrations.GetIntegration(
            pb.GetIntegrationRequest(tenant_id=t.tenant_id, integration_id=pick(t.integration_ids, i))
        ),
        "ListIntegrations": lambda s, t, i: s.integrations.ListIntegrations(
            pb.ListIntegrationsRequest(tenant_id=t.tenant_id, page_size=20)
        ),
        "GetLimitsStatus": lambda s, t, i: s.integrations.GetLimitsStatus(
            pb.GetLimitsStatusRequest(tenant_id=t.tenant_id, integration_id=pick(t.integration_ids, i))
        ),
        "GetDataSource": lambda s, t, i: s.data_sources.GetDataSource(
            data_sources_pb2.GetDataSourceRequest(
                tenant_id=t.tenant_id, data_source_id=pick(t.data_source_ids, i)
            )
        ),
        "ListConnectors": lambda s, t, i: s.connectors.ListConnectors(
            connectors_pb2.ListConnectorsRequest(tenant_id=t.tenant_id)
        ),
        "CreateIntegration": lambda s, t, i: s.integrations.CreateIntegration(
            pb.CreateIntegrationRequest(
                tenant_id=t.tenant_id, request_id=f"{prefix}-{i}",
                integration=pb.Integration(
                    name=f"mixed-{prefix}-{i}", provider_type=pb.PROVIDER_TYPE_ANTHROPIC,
                    credential_ref=f"env://{KEY_ENV}",
                ),
            )
        ),
        "RecordUsage": lambda s, t, i: s.integrations.RecordUsage(
            pb.RecordUsageRequest(
                tenant_id=t.tenant_id, integration_id=pick(t.integration_ids, i), tokens=120,
                cost_cents=2, request_id=f"{prefix}-usage-{i}",
            )
        ),
        "UpdateIntegration": lambda s, t, i: s.integrations.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=t.tenant_id,
                integration=pb.Integration(
                    id=pick(t.integration_ids, i), default_model=f"model-{i % 5}"
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["default_model"]),
            )
        ),
        "GetHealthSummary": lambda s, t, i: s.integration_health.GetHealthSummary(
            health_pb2.GetHealthSummaryRequest(tenant_id=t.tenant_id)
        ),
        "CheckHealth (cached)": lambda s, t, i: s.integration_health.CheckHealth(
            health_pb2.CheckHealthRequest(tenant_id=t.tenant_id, integration_id=pick(t.checked_ids, i))
        ),
        "EncryptCredential": lambda s, t, i: s.credentials.EncryptCredential(
            credentials_pb2.EncryptCredentialRequest(tenant_id=t.tenant_id, plaintext="sk-mixed")
        ),
        "GetCredential": lambda s, t, i: s.credentials.GetCredential(
            credentials_pb2.GetCredentialRequest(
                tenant_id=t.tenant_id, credential_ref=t.encrypted_ref, access_reason="bench"
            )
        ),
    }


def _schedule() -> list[tuple[str, str]]:
    """100 (kind, operation) slots in the proportions of MIX, shuffled reproducibly."""
    slots = [(kind, name) for kind, ops in MIX.items() for name, share in ops.items() for _ in range(share)]
    assert len(slots) == 100
    random.Random(8).shuffle(slots)
    return slots


async def _drive(job: Job, barrier: Barrier) -> tuple[LoadSample, dict[str, list[float]], float]:
    """Runs the job's calls; call i goes to replica i % replicas (round-robin). Returns the
    sample, its latencies by operation and this process's CPU seconds while measuring."""
    channels = [grpc.aio.insecure_channel(address) for address in job.addresses]
    stubs = [Stubs.of(channel) for channel in channels]
    by_operation: dict[str, list[float]] = {name: [] for ops in MIX.values() for name in ops}
    operations = _operations(job)
    schedule = _schedule()
    check = grpc_health_pb2.HealthCheckRequest()
    recording = False

    async def mixed(i: int) -> None:
        _, name = schedule[i % len(schedule)]
        started = asyncio.get_running_loop().time()
        try:
            await operations[name](stubs[i % len(stubs)], job.tenants[(i // 3) % len(job.tenants)], i)
        finally:
            if recording:
                by_operation[name].append(asyncio.get_running_loop().time() - started)

    async def health_check(i: int) -> object:
        return await stubs[i % len(stubs)].health.Check(check)

    call = mixed if job.workload == "mixed" else health_check
    try:
        await sample_load(call, concurrency=job.concurrency, total_calls=WARMUP, warmup_calls=0)
        await asyncio.to_thread(barrier.wait)  # every client process measures the same window
        recording = True
        cpu_started = time.process_time()
        sample = await sample_load(
            lambda i: call(i + WARMUP), concurrency=job.concurrency, total_calls=job.calls,
            warmup_calls=0,
        )
    finally:
        for channel in channels:
            await channel.close()
    return sample, by_operation, time.process_time() - cpu_started


def _client(job: Job, barrier: Barrier, results: Any) -> None:
    results.put(asyncio.run(_drive(job, barrier)))


@dataclass(frozen=True)
class Measured:
    """A load run merged over its client processes: the figures, the mixed run's latencies by
    operation, and the CPU time the replicas spent serving it."""

    result: LoadResult
    by_operation: dict[str, list[float]]
    server_cpu_seconds: float
    client_busy: list[float]  # per client process: CPU seconds / wall seconds of the window

    @property
    def cpu_ms_per_call(self) -> float:
        served = self.result.calls + WARMUP * CLIENT_PROCESSES  # the CPU covers the warm-up too
        return self.server_cpu_seconds * 1000 / served

    def latencies(self, kind: str) -> list[float]:
        return [latency for name in MIX[kind] for latency in self.by_operation[name]]


def _server_cpu_seconds(cluster: Replicas) -> float:
    """User and system CPU time the replica processes have used so far (Linux /proc)."""
    total = 0.0
    for server in cluster.processes:
        assert server.process is not None
        total += cpu_seconds(server.process.pid)
    return total


async def _load(
    workload: str, cluster: Replicas, tenants: Sequence[TenantData], concurrency: int
) -> Measured:
    """`concurrency` callers split over CLIENT_PROCESSES client processes, all at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLIENT_PROCESSES)
    results = context.Queue()
    run = uuid.uuid4().hex[:8]
    processes = [
        context.Process(
            target=_client,
            args=(
                Job(
                    workload=workload,
                    addresses=tuple(p.address for p in cluster.processes),
                    tenants=tuple(tenants),
                    concurrency=concurrency // CLIENT_PROCESSES,
                    calls=CALLS[concurrency] // CLIENT_PROCESSES,
                    client=n,
                    run=run,
                ),
                barrier,
                results,
            ),
        )
        for n in range(CLIENT_PROCESSES)
    ]
    cpu_before = _server_cpu_seconds(cluster)
    for process in processes:
        process.start()
    # Off the event loop: the fake provider in this process must keep answering meanwhile.
    outcomes = [await asyncio.to_thread(results.get) for _ in processes]
    for process in processes:
        await asyncio.to_thread(process.join)
    cpu = _server_cpu_seconds(cluster) - cpu_before  # includes the warm-up calls
    by_operation: dict[str, list[float]] = {}
    for _, operations, _ in outcomes:
        for operation, latencies in operations.items():
            by_operation.setdefault(operation, []).extend(latencies)
    name = "health Check" if workload == "check" else "mixed 70/20/10"
    busy = [cpu / (sample.finished - sample.started) for sample, _, cpu in outcomes]
    return Measured(
        summarize(name, [sample for sample, _, _ in outcomes]), by_operation, cpu, busy
    )


async def _seed(cluster: Replicas, provider: FakeProvider) -> list[TenantData]:
    stubs = Stubs.of(cluster.channels[0])
    tenants = []
    for _ in range(TENANTS):
        tenant = str(uuid.uuid4())
        ids = []
        for n in range(INTEGRATIONS_PER_TENANT):
            created = await stubs.integrations.CreateIntegration(
                pb.CreateIntegrationRequest(
                    tenant_id=tenant,
                    integration=pb.Integration(
                        name=f"seed-{n}", provider_type=pb.PROVIDER_TYPE_OPENAI,
                        credential_ref=f"env://{KEY_ENV}",
                        config=to_struct({"base_url": provider.route(f"seed{n}")}),
                    ),
                )
            )
            await stubs.integrations.EnableIntegration(
                pb.EnableIntegrationRequest(tenant_id=tenant, integration_id=created.id)
            )
            ids.append(created.id)
        for n in range(2):
            await stubs.connectors.RegisterConnector(
                connectors_pb2.RegisterConnectorRequest(
                    tenant_id=tenant,
                    connector=connectors_pb2.Connector(
                        name=f"connector-{n}", connector_type=connectors_pb2.CONNECTOR_TYPE_HTTP,
                        endpoint=f"https://crm-{n}.example.com/api",
                    ),
                )
            )
        sources = [
            await stubs.data_sources.RegisterDataSource(
                data_sources_pb2.RegisterDataSourceRequest(
                    tenant_id=tenant,
                    data_source=data_sources_pb2.DataSource(
                        name=f"warehouse-{n}", source_type=data_sources_pb2.DATA_SOURCE_TYPE_DATABASE,
                        config=data_sources_pb2.DataSourceConfig(host="db.internal", port=5432),
                    ),
                )
            )
            for n in range(2)
        ]
        sealed = await stubs.credentials.EncryptCredential(
            credentials_pb2.EncryptCredentialRequest(tenant_id=tenant, plaintext="sk-mixed")
        )
        tenants.append(
            TenantData(
                tenant_id=tenant,
                integration_ids=tuple(ids),
                checked_ids=tuple(ids[:CHECKED_PER_TENANT]),
                data_source_ids=tuple(s.id for s in sources),
                encrypted_ref=sealed.credential_ref,
            )
        )
    return tenants


async def _refresh_checks(cluster: Replicas, tenants: Sequence[TenantData]) -> None:
    """Forced checks now, so the run's CheckHealth calls find a result younger than 60 s."""
    stub = Stubs.of(cluster.channels[0]).integration_health
    for tenant in tenants:
        for integration_id in tenant.checked_ids:
            await stub.CheckHealth(
                health_pb2.CheckHealthRequest(
                    tenant_id=tenant.tenant_id, integration_id=integration_id, force=True
                )
            )


def _ms(latencies: Sequence[float], quantile: float) -> float:
    ordered = sorted(latencies) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))] * 1000


@dataclass(frozen=True)
class Row:
    """One configuration's figures: the mixed run between two health Check runs."""

    replicas: int
    callers: int
    before: Measured
    mixed: Measured
    after: Measured

    @property
    def baseline(self) -> LoadResult:
        """The two Check runs as one: summed calls and time, mean percentiles."""
        first, second = self.before.result, self.after.result
        return LoadResult(
            name=first.name,
            calls=first.calls + second.calls,
            seconds=first.seconds + second.seconds,
            p50_ms=(first.p50_ms + second.p50_ms) / 2,
            p99_ms=(first.p99_ms + second.p99_ms) / 2,
            errors=first.errors + second.errors,
        )

    @property
    def baseline_cpu_ms(self) -> float:
        return (self.before.cpu_ms_per_call + self.after.cpu_ms_per_call) / 2


def _print_table(rows: Sequence[Row]) -> None:
    print(
        f"\nPostgreSQL; {CLIENT_PROCESSES} client processes; each spreads its calls round-robin "
        "over the replicas.\nRatios are mixed / health Check (the mean of the Check runs just "
        "before and after); CPU is the replicas' CPU time per call."
    )
    header = (
        f"{'replicas':>8} {'callers':>7} | {'Check/s':>8} {'p50 ms':>7} {'p99 ms':>7} | "
        f"{'mixed/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} | "
        f"{'calls/s':>7} {'p50':>6} {'p99':>6} {'CPU':>6}"
    )
    print(f"{'':>17}| {'health Check':<25}| {'mixed workload':<33}| ratio to Check")
    print(header)
    print("-" * len(header))
    for row in rows:
        b, m = row.baseline, row.mixed.result
        print(
            f"{row.replicas:>8} {row.callers:>7} | {b.throughput:>8.0f} {b.p50_ms:>7.2f} "
            f"{b.p99_ms:>7.2f} | {m.throughput:>8.0f} {m.p50_ms:>7.2f} {m.p99_ms:>7.2f} "
            f"{m.errors:>6} | {m.throughput / b.throughput:>7.2f} {m.p50_ms / b.p50_ms:>6.1f} "
            f"{m.p99_ms / b.p99_ms:>6.1f} {row.mixed.cpu_ms_per_call / row.baseline_cpu_ms:>6.1f}"
        )
    configs = [f"{row.replicas}r/{row.callers}c" for row in rows]
    print("\nmixed run, p50 in ms by kind and operation (x: ratio to the health Check's p50)")
    print(f"{'':<24}" + "".join(f"{c:>16}" for c in configs))
    lines: list[tuple[str, Callable[[Row], Sequence[float]]]] = []
    for kind, operations in MIX.items():
        lines.append((f"{kind} ({sum(operations.values())}%)", lambda r, k=kind: r.mixed.latencies(k)))
        lines += [(f"  {name}", lambda r, n=name: r.mixed.by_operation[n]) for name in operations]
    for label, latencies in lines:
        cells = []
        for row in rows:
            p50 = _ms(latencies(row), 0.5)
            cells.append(f"{p50:>8.2f} (x{p50 / row.baseline.p50_ms:>4.1f})")
        print(f"{label:<24}" + "".join(f"{cell:>16}" for cell in cells))


async def main() -> None:
    rows = []
    async with fake_provider() as provider:
        for count in REPLICA_COUNTS:
            async with postgres_database() as url, replicas(
                url, count, env={KEY_ENV: "sk-mixed-" + uuid.uuid4().hex}
            ) as cluster:
                tenants = await _seed(cluster, provider)
                for callers in CONCURRENCY:
                    await _refresh_checks(cluster, tenants)
                    row = Row(
                        count,
                        callers,
                        before=await _load("check", cluster, tenants, callers),
                        mixed=await _load("mixed", cluster, tenants, callers),
                        after=await _load("check", cluster, tenants, callers),
                    )
                    for measured in (row.before, row.mixed, row.after):
                        busy = "/".join(f"{b:.2f}" for b in measured.client_busy)
                        print(
                            f"  {count}r/{callers}c {measured.result.line()}  server CPU "
                            f"{measured.cpu_ms_per_call:.2f} ms/call, client processes busy {busy}"
                        )
                    rows.append(row)
    _print_table(rows)
