"""CheckAllIntegrations over 100 enabled integrations whose provider answers after 100 ms, against
the sequential lower bound measured in the same run (100 x one forced probe through the same
server). Target: at most 0.2 at the default concurrency (8)."""

from __future__ import annotations

import os
import time
import uuid

import grpc

from integrations.v1 import health_pb2, health_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from service.convert import to_struct
from tests.bench.harness import ServerProcess, postgres_database
from tests.fake_provider import fake_provider

KEY_ENV = "HEALTH_BENCH_KEY"
INTEGRATIONS = 100
DELAY_SECONDS = 0.1
BASELINE_PROBES = 10


async def _tenant_with_integrations(
    stub: integrations_pb2_grpc.IntegrationsServiceStub, base_url: str, count: int
) -> tuple[str, list[str]]:
    tenant = str(uuid.uuid4())
    ids = []
    for n in range(count):
        created = await stub.CreateIntegration(
            integrations_pb2.CreateIntegrationRequest(
                tenant_id=tenant,
                integration=integrations_pb2.Integration(
                    name=f"bench-{n}", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                    credential_ref=f"env://{KEY_ENV}", config=to_struct({"base_url": base_url}),
                ),
            )
        )
        await stub.EnableIntegration(
            integrations_pb2.EnableIntegrationRequest(tenant_id=tenant, integration_id=created.id)
        )
        ids.append(created.id)
    return tenant, ids


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    async with fake_provider() as provider, postgres_database() as url:
        base = provider.route("p", delay=DELAY_SECONDS)
        async with ServerProcess(url, env={KEY_ENV: "sk-bench"}) as server:
            async with grpc.aio.insecure_channel(server.address) as channel:
                integrations = integrations_pb2_grpc.IntegrationsServiceStub(channel)
                health = health_pb2_grpc.IntegrationHealthServiceStub(channel)

                tenant, (one,) = await _tenant_with_integrations(integrations, base, 1)
                request = health_pb2.CheckHealthRequest(
                    tenant_id=tenant, integration_id=one, force=True
                )
                await health.CheckHealth(request)  # warm-up: connection pools
                started = time.perf_counter()
                for _ in range(BASELINE_PROBES):
                    await health.CheckHealth(request)
                per_probe = (time.perf_counter() - started) / BASELINE_PROBES
                bound = per_probe * INTEGRATIONS
                print(
                    f"one forced probe (provider delay {DELAY_SECONDS * 1000:.0f} ms): "
                    f"{per_probe * 1000:.1f} ms; sequential lower bound for {INTEGRATIONS}: "
                    f"{bound:.2f} s"
                )
                for concurrency in (0, 32):
                    tenant, _ = await _tenant_with_integrations(integrations, base, INTEGRATIONS)
                    before = len(provider.requests)
                    assert server.process is not None
                    cpu_before = _cpu_seconds(server.process.pid)
                    started = time.perf_counter()
                    results = [
                        r async for r in health.CheckAllIntegrations(
                            health_pb2.CheckAllIntegrationsRequest(
                                tenant_id=tenant, max_concurrency=concurrency
                            )
                        )
                    ]
                    wall = time.perf_counter() - started
                    cpu = _cpu_seconds(server.process.pid) - cpu_before
                    probed = len(provider.requests) - before
                    label = "default (8)" if concurrency == 0 else str(concurrency)
                    print(
                        f"CheckAllIntegrations x{len(results)} ({probed} provider requests), "
                        f"max_concurrency {label}: {wall:.2f} s, ratio to sequential bound "
                        f"{wall / bound:.3f} (target <= 0.2), to nominal "
                        f"{INTEGRATIONS} x {DELAY_SECONDS * 1000:.0f} ms "
                        f"{wall / (INTEGRATIONS * DELAY_SECONDS):.3f}; server CPU "
                        f"{cpu * 1000 / max(1, len(results)):.1f} ms per check"
                    )
