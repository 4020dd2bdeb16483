"""SQL gateway benchmark: ExecuteQuery through gRPC (pooled connections) against the design it
replaces, a client that connects, fetches and closes for every query; then a template producing
1,000,000 rows under a 1,000-row cap (latency, and the server's peak memory growth).

Run with `.venv/bin/python -m tests.bench sql_gateway`. Figures are ratios to baselines measured
in the same run against the same database and template."""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

import asyncpg
import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.bench.harness import LoadResult, ServerProcess, postgres_database, run_load

CONCURRENCY = 8
ROUNDS = 2
POOLED_CALLS = 2000
CONNECT_PER_QUERY_CALLS = 400
BIG_ROWS = 1_000_000
BIG_CALLS = 10
TENANT = "0b5e6c1e-0000-4000-8000-000000000001"
ORDER_SQL = "SELECT id, customer, amount, placed_on FROM orders WHERE id = $1"
BIG_SQL = "SELECT id, label FROM big"
ENV_NAME = "DEV_SQLGW_BENCH_CUSTOMER_DSN"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _seed(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE orders AS SELECT g AS id, 'customer-' || g AS customer,"
            " (g * 1.25)::numeric(12, 2) AS amount, DATE '2024-01-01' + g % 365 AS placed_on"
            " FROM generate_series(1, 10000) g;"
            "ALTER TABLE orders ADD PRIMARY KEY (id);"
            f"CREATE TABLE big AS SELECT g AS id, md5(g::text) AS label"
            f" FROM generate_series(1, {BIG_ROWS}) g;"
            "ANALYZE;"
        )
    finally:
        await conn.close()


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _reset_peak(pid: int) -> bool:
    """Resets VmHWM to the current RSS (Linux clear_refs 5); False if not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def _setup(stub: sql_gateway_pb2_grpc.SqlGatewayServiceStub) -> str:
    await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=TENANT,
            template=pb.QueryTemplate(
                id="order-by-id", name="order by id", sql=ORDER_SQL, read_only=True,
                parameters=[pb.ParameterSpec(name="id", type=pb.PARAMETER_TYPE_INTEGER,
                                             required=True)],
            ),
        )
    )
    await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=TENANT,
            template=pb.QueryTemplate(
                id="big", name="a million rows", sql=BIG_SQL, read_only=True, max_rows=1000,
            ),
        )
    )
    gateway = await stub.CreateGateway(
        pb.CreateGatewayRequest(
            tenant_id=TENANT,
            gateway=pb.Gateway(
                name="bench", connection_string_ref=f"env://{ENV_NAME}",
                allowed_template_ids=["order-by-id", "big"], max_rows=1000, timeout_seconds=60,
            ),
        )
    )
    return str(gateway.id)


async def main() -> None:
    async with contextlib.AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(postgres_database())
        customer_dsn = _dsn(await stack.enter_async_context(postgres_database()))
        await _seed(customer_dsn)
        server = ServerProcess(
            service_url,
            "--sql-pool-size",
            str(CONCURRENCY),
            "--allow-env-credentials",
            env={ENV_NAME: customer_dsn},
        )
        await stack.enter_async_context(server)
        assert server.process is not None
        pid = server.process.pid
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(server.address))
        stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        gateway_id = await _setup(stub)

        async def health_check(i: int) -> object:
            return await health.Check(health_pb2.HealthCheckRequest())

        async def pooled(i: int) -> object:
            result = await stub.ExecuteQuery(
                pb.ExecuteQueryRequest(
                    tenant_id=TENANT, gateway_id=gateway_id, template_id="order-by-id",
                    parameters={"id": struct_pb2.Value(number_value=i % 10000 + 1)},
                )
            )
            assert result.row_count == 1
            return result

        async def connect_per_query(i: int) -> object:
            conn = await asyncpg.connect(customer_dsn)
            try:
                rows = await conn.fetch(ORDER_SQL, i % 10000 + 1)
                assert len(rows) == 1
                return rows
            finally:
                await conn.close()

        print(f"concurrency {CONCURRENCY}, same database, same template ({ORDER_SQL!r}); "
              f"best of {ROUNDS} alternating rounds (the machine is shared)")
        rounds: dict[str, list[LoadResult]] = {"health": [], "direct": [], "gateway": []}
        for _ in range(ROUNDS):
            rounds["health"].append(await run_load(
                "health Check (reference)", health_check,
                concurrency=CONCURRENCY, total_calls=POOLED_CALLS))
            rounds["direct"].append(await run_load(
                "connect-per-query (asyncpg)", connect_per_query,
                concurrency=CONCURRENCY, total_calls=CONNECT_PER_QUERY_CALLS, warmup_calls=40))
            rounds["gateway"].append(await run_load(
                "ExecuteQuery via gRPC (pooled)", pooled,
                concurrency=CONCURRENCY, total_calls=POOLED_CALLS))
        baseline, direct, gateway = (
            max(rounds[name], key=lambda r: r.throughput) for name in ("health", "direct", "gateway")
        )
        print(baseline.line())
        print(direct.line(baseline))
        print(gateway.line(baseline))
        ratios = [
            g.throughput / d.throughput
            for g, d in zip(rounds["gateway"], rounds["direct"], strict=True)
        ]
        print(f"ExecuteQuery / connect-per-query throughput: best rounds "
              f"{gateway.throughput / direct.throughput:.2f}x; per round "
              f"{', '.join(f'{r:.2f}x' for r in ratios)} (target >= 5x)")

        # A template producing 1,000,000 rows under a 1,000-row cap.
        before = _memory_kib(pid)
        peak_reset = _reset_peak(pid)
        latencies = []
        for _ in range(BIG_CALLS):
            started = time.perf_counter()
            result = await stub.ExecuteQuery(
                pb.ExecuteQueryRequest(tenant_id=TENANT, gateway_id=gateway_id, template_id="big")
            )
            latencies.append(time.perf_counter() - started)
            assert (result.row_count, result.truncated) == (1000, True)
        after = _memory_kib(pid)
        conn = await asyncpg.connect(customer_dsn)
        try:
            started = time.perf_counter()
            everything = await conn.fetch(BIG_SQL)
            fetch_all = time.perf_counter() - started
        finally:
            await conn.close()
        assert len(everything) == BIG_ROWS
        del everything
        median = statistics.median(latencies)
        growth_kib = after["VmHWM"] - before["VmRSS"]
        print(f"{BIG_ROWS:,}-row template, max_rows 1000: p50 {median * 1000:.1f} ms over "
              f"{BIG_CALLS} calls; fetching all rows directly takes {fetch_all * 1000:.0f} ms "
              f"(ratio {median / fetch_all:.3f})")
        print(f"server memory: RSS before {before['VmRSS'] / 1024:.1f} MiB, peak during "
              f"{after['VmHWM'] / 1024:.1f} MiB, growth {growth_kib / 1024:.1f} MiB "
              f"(target < 64 MiB; peak {'reset before the run' if peak_reset else 'since start'})")
