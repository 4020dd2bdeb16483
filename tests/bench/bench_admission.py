"""AdmissionService on PostgreSQL: AdmitCall alone and the AdmitCall + SettleCall pair at 8 and 64
concurrent callers, beside the three-call path it replaces (GetLimitsStatus + GetCredential +
RecordUsage), each as a ratio of health Check measured on the same server in the same run, with
the CPU each call cost the server and PostgreSQL (from /proc: on this machine both share two
cores, so a path's throughput is bounded by their sum).

Calls are spread over many integrations (the usual case: each caller's own); a last run puts
every caller on one integration, where admissions take turns on its lock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.bench.harness import (
    LoadResult,
    ServerProcess,
    cpu_seconds,
    postgres_cpu_seconds,
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


async def _measured(
    server_pid: int, name: str, call: Callable[[int], Awaitable[object]], concurrency: int
) -> tuple[LoadResult, str]:
    """A load run and the CPU per call it cost the server and PostgreSQL (read from /proc)."""
    server_before, postgres_before = cpu_seconds(server_pid), postgres_cpu_seconds()
    result = await run_load(name, call, concurrency=concurrency, total_calls=CALLS)
    server = (cpu_seconds(server_pid) - server_before) * 1000 / CALLS
    postgres = (postgres_cpu_seconds() - postgres_before) * 1000 / CALLS
    return result, f"CPU per call: server {server:.2f} ms, PostgreSQL {postgres:.2f} ms"


async def _run(
    channel: grpc.aio.Channel, server_pid: int, tenant: str, ids: list[str], label: str
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    check = health_pb2.HealthCheckRequest()
    for concurrency in CONCURRENCY:
        run = f"{label}-{concurrency}"
        baseline, baseline_cpu = await _measured(
            server_pid, "health Check", lambda i: health.Check(check), concurrency
        )
        results: dict[str, LoadResult] = {}
        cpu = {"health Check": baseline_cpu}
        for name, call in _paths(channel, tenant, ids, run).items():
            results[name], cpu[name] = await _measured(server_pid, name, call, concurrency)
        print(f"PostgreSQL, {label}, {concurrency} concurrent callers, {CALLS} calls each "
              "(a path's calls/s counts whole paths)")
        for result in (baseline, *results.values()):
            print("  " + result.line(baseline) + "  " + cpu[result.name])
        pair = results["AdmitCall + SettleCall"].throughput
        three = results["GetLimits+GetCredential+Record"].throughput
        print(f"  AdmitCall / health Check: "
              f"{results['AdmitCall'].throughput / baseline.throughput:.2f} (target >= 0.5 at 8)")
        print(f"  admit+settle / three-call path: {pair / three:.2f} (target >= 2)")


async def main() -> None:
    async with postgres_database() as url, ServerProcess(
        url, "--allow-env-credentials", env={KEY_ENV: "sk-bench-" + uuid.uuid4().hex}
    ) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            tenant = str(uuid.uuid4())
            ids = await _integrations(channel, tenant, INTEGRATIONS)
            assert server.process is not None
            pid = server.process.pid
            await _run(channel, pid, tenant, ids, f"{INTEGRATIONS} integrations")
            await _run(channel, pid, tenant, ids[:1], "one integration")
