"""IntegrationsService: Get/List throughput and latency on PostgreSQL at 8 concurrent callers,
as ratios of the standard health Check on the same server in the same run; and cold start
(launch to health SERVING) on an empty SQLite file."""

from __future__ import annotations

import statistics
import time
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc
from tests.bench.harness import (
    ServerProcess,
    postgres_database,
    run_load,
    temp_sqlite_url,
    wait_serving,
)

CONCURRENCY = 8
CALLS = 3000


async def _throughput() -> None:
    async with postgres_database() as url, ServerProcess(url) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            tenant = str(uuid.uuid4())
            ids = []
            for i in range(50):
                created = await stub.CreateIntegration(
                    pb.CreateIntegrationRequest(
                        tenant_id=tenant,
                        integration=pb.Integration(
                            name=f"bench-{i}",
                            provider_type=pb.PROVIDER_TYPE_OPENAI,
                            credential_ref="env://OPENAI_API_KEY",
                        ),
                    )
                )
                ids.append(created.id)
            check = health_pb2.HealthCheckRequest()
            baseline = await run_load(
                "health Check", lambda i: health.Check(check), concurrency=CONCURRENCY,
                total_calls=CALLS,
            )
            get = await run_load(
                "GetIntegration",
                lambda i: stub.GetIntegration(
                    pb.GetIntegrationRequest(tenant_id=tenant, integration_id=ids[i % len(ids)])
                ),
                concurrency=CONCURRENCY,
                total_calls=CALLS,
            )
            listing = await run_load(
                "ListIntegrations (page of 20)",
                lambda i: stub.ListIntegrations(
                    pb.ListIntegrationsRequest(tenant_id=tenant, page_size=20)
                ),
                concurrency=CONCURRENCY,
                total_calls=CALLS,
            )
    print(f"PostgreSQL, {CONCURRENCY} concurrent callers, {CALLS} calls each")
    for result in (baseline, get, listing):
        print("  " + result.line(baseline))
    print(f"  GetIntegration / health Check throughput: {get.throughput / baseline.throughput:.2f} "
          "(target >= 0.5)")


async def _cold_start(runs: int = 3) -> None:
    seconds = []
    for _ in range(runs):
        with temp_sqlite_url() as url:
            server = ServerProcess(url)
            started = time.perf_counter()
            server.start()
            await wait_serving(server.address)
            seconds.append(time.perf_counter() - started)
            server.stop()
    print(f"cold start to SERVING on an empty SQLite file: median {statistics.median(seconds):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in seconds)}; target < 1 s)")


async def main() -> None:
    await _throughput()
    await _cold_start()
