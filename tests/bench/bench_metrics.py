"""Metrics: what `--metrics-listen` costs. Two server processes on one PostgreSQL database, one
without and one with metrics; the health Check and GetIntegration at 8 concurrent callers on
each, as ratios of the same RPC without metrics; and a scrape of /metrics (one caller) as a
ratio of the health Check's latency on the same server, in the same run; and the metrics
interceptor's own work per RPC, timed in this process, as a share of that latency."""

from __future__ import annotations

import time
import uuid

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc
from service.interceptors.metrics import MetricsInterceptor
from service.metrics import ServiceMetrics
from tests.bench.harness import LoadResult, ServerProcess, free_port, postgres_database, run_load

CONCURRENCY = 8
CALLS = 3000
SCRAPES = 300
ROUNDS = 3  # alternate the servers, keep each one's best round: the machine is shared
METERED_CALLS = 20000


class _FinishedContext:
    """What the meter reads from a servicer context once a call returned OK."""

    def cancelled(self) -> bool:
        return False

    def code(self) -> None:
        return None


def _meter_microseconds() -> float:
    """The metrics interceptor's work for one RPC (in-flight up and down, histogram, counter)."""

    async def no_connections() -> int:
        return 0

    interceptor, context = MetricsInterceptor(ServiceMetrics(no_connections)), _FinishedContext()
    methods = [f"/integrations.v1.IntegrationsService/Method{i}" for i in range(20)]
    started = time.perf_counter()
    for i in range(METERED_CALLS):
        interceptor._start(methods[i % len(methods)]).finish(context, False)  # type: ignore[arg-type]
    return (time.perf_counter() - started) / METERED_CALLS * 1e6


async def _seed(address: str) -> tuple[str, list[str]]:
    tenant, ids = str(uuid.uuid4()), []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
        for i in range(50):
            created = await stub.CreateIntegration(pb.CreateIntegrationRequest(
                tenant_id=tenant,
                integration=pb.Integration(
                    name=f"bench-{i}", provider_type=pb.PROVIDER_TYPE_OPENAI,
                    credential_ref="env://OPENAI_API_KEY",
                ),
            ))
            ids.append(created.id)
    return tenant, ids


async def _rpcs(address: str, label: str, tenant: str, ids: list[str]) -> list[LoadResult]:
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
        check = health_pb2.HealthCheckRequest()
        return [
            await run_load(f"health Check ({label})", lambda i: health.Check(check),
                           concurrency=CONCURRENCY, total_calls=CALLS),
            await run_load(
                f"GetIntegration ({label})",
                lambda i: stub.GetIntegration(
                    pb.GetIntegrationRequest(tenant_id=tenant, integration_id=ids[i % len(ids)])
                ),
                concurrency=CONCURRENCY, total_calls=CALLS,
            ),
        ]


async def _scrapes(address: str, metrics_port: int) -> tuple[LoadResult, LoadResult, int]:
    async with grpc.aio.insecure_channel(address) as channel, httpx.AsyncClient() as client:
        health = health_pb2_grpc.HealthStub(channel)
        check = await run_load("health Check (1 caller)",
                               lambda i: health.Check(health_pb2.HealthCheckRequest()),
                               concurrency=1, total_calls=SCRAPES)
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        scrape = await run_load("GET /metrics (1 caller)", lambda i: client.get(url),
                                concurrency=1, total_calls=SCRAPES)
        size = len((await client.get(url)).content)
    return check, scrape, size


def _best(results: list[LoadResult]) -> LoadResult:
    return max(results, key=lambda r: r.throughput)


async def main() -> None:
    metrics_port = free_port()
    args = ("--allow-env-credentials",)
    async with postgres_database() as url:
        async with (
            ServerProcess(url, *args) as plain,
            ServerProcess(url, *args, "--metrics-listen", f"127.0.0.1:{metrics_port}") as metered,
        ):
            tenant, ids = await _seed(plain.address)
            runs: dict[str, list[list[LoadResult]]] = {"off": [], "on": []}
            for _ in range(ROUNDS):
                runs["off"].append(await _rpcs(plain.address, "metrics off", tenant, ids))
                runs["on"].append(await _rpcs(metered.address, "metrics on", tenant, ids))
            check, scrape, size = await _scrapes(metered.address, metrics_port)
    off = [_best([run[k] for run in runs["off"]]) for k in range(2)]
    on = [_best([run[k] for run in runs["on"]]) for k in range(2)]
    print(f"PostgreSQL, {CONCURRENCY} concurrent callers, {CALLS} calls each, best of {ROUNDS} "
          "rounds; ratio = throughput with metrics / without")
    for without, with_metrics in zip(off, on, strict=True):
        print("  " + without.line(without))
        print("  " + with_metrics.line(without))
    print(f"scrape of /metrics ({size} bytes of text after the load), {SCRAPES} scrapes:")
    print("  " + check.line(check))
    print("  " + scrape.line(check))
    print(f"  scrape p50 / health Check p50: {scrape.p50_ms / check.p50_ms:.2f}")
    meter = _meter_microseconds()
    print(f"metrics interceptor work per RPC: {meter:.1f} us = "
          f"{meter / 1000 / check.p50_ms:.3f} of a health Check's p50 (1 caller)")
