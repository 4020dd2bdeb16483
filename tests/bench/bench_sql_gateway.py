"""SQL gateway benchmark: ExecuteQuery through gRPC (pooled connections) against the design it
replaces, a client that connects, fetches and closes for every query; then a template producing
1,000,000 rows under a 1,000-row cap (latency, and the server's peak memory growth).

Run with `.venv/bin/python -m tests.bench sql_gateway`. Figures are ratios to baselines measured
in the same run against the same database and template. With `SQL_BENCH_BASELINE=<git ref>` a
second server runs that commit's code in the same rounds (e.g. the commit before a change to
the gateway), for a before/after ratio from one run.

The customer database is read through a role that is not a superuser (the gateway refuses
superusers)."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.bench.harness import (
    ROOT,
    LoadResult,
    ServerProcess,
    cpu_seconds,
    postgres_cpu_seconds,
    postgres_database,
    run_load,
)

CONCURRENCY = 8
ROUNDS = int(os.environ.get("SQL_BENCH_ROUNDS", "2"))
POOLED_CALLS = 2000
CONNECT_PER_QUERY_CALLS = 400
BIG_ROWS = 1_000_000
BIG_CALLS = 10
TENANT = "0b5e6c1e-0000-4000-8000-000000000001"
ORDER_SQL = "SELECT id, customer, amount, placed_on FROM orders WHERE id = $1"
BIG_SQL = "SELECT id, label FROM big"
HUGE_SQL = "SELECT g, repeat('f', 6000000) AS blob FROM generate_series(1, 50) g"
HUGE_CAP = 1 << 20
ENV_NAME = "DEV_SQLGW_BENCH_CUSTOMER_DSN"


@dataclass(frozen=True)
class _CpuPerCall:
    """Milliseconds of CPU per call of one run: the server under test, PostgreSQL (all its
    processes) and this load generator."""

    server: float
    postgres: float
    client: float

    @property
    def total(self) -> float:
        return self.server + self.postgres + self.client

    def line(self) -> str:
        return (f"{self.total:.2f} ms (server {self.server:.2f}, PostgreSQL {self.postgres:.2f}, "
                f"load generator {self.client:.2f})")


async def _load_with_cpu(
    pid: int, name: str, call: Any, *, total_calls: int, warmup_calls: int = 100
) -> tuple[LoadResult, _CpuPerCall]:
    """`run_load` at CONCURRENCY, and the CPU each call cost (warm-up calls included)."""

    def readings() -> tuple[float, float, float]:
        return cpu_seconds(pid), postgres_cpu_seconds(), time.process_time()

    before = readings()
    result = await run_load(name, call, concurrency=CONCURRENCY, total_calls=total_calls,
                            warmup_calls=warmup_calls)
    calls = total_calls + warmup_calls
    spent = [(after - earlier) * 1000 / calls for after, earlier in zip(readings(), before, strict=True)]
    return result, _CpuPerCall(*spent)


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


@contextlib.asynccontextmanager
async def _reader(dsn: str) -> AsyncIterator[str]:
    """A login role that may only read the seeded tables; yields its DSN."""
    role = f"ibench_reader_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE ROLE "{role}" LOGIN; GRANT SELECT ON orders, big TO "{role}"')
    finally:
        await conn.close()
    try:
        yield make_url(dsn).set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
        finally:
            await conn.close()


@contextlib.contextmanager
def _source_tree(ref: str) -> Iterator[Path]:
    """The tree of commit `ref`, extracted to a temporary directory."""
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="sqlgw-baseline-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


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
    await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=TENANT,
            template=pb.QueryTemplate(id="huge", name="50 rows of 6 MB", sql=HUGE_SQL, read_only=True),
        )
    )
    gateway = await stub.CreateGateway(
        pb.CreateGatewayRequest(
            tenant_id=TENANT,
            gateway=pb.Gateway(
                name="bench", connection_string_ref=f"env://{ENV_NAME}",
                allowed_template_ids=["order-by-id", "big", "huge"], max_rows=1000,
                timeout_seconds=60,
            ),
        )
    )
    capped = await stub.CreateGateway(
        pb.CreateGatewayRequest(
            tenant_id=TENANT,
            gateway=pb.Gateway(
                name="capped", connection_string_ref=f"env://{ENV_NAME}",
                allowed_template_ids=["huge"], max_result_bytes=HUGE_CAP, timeout_seconds=60,
            ),
        )
    )
    return f"{gateway.id} {capped.id}"


async def main() -> None:
    baseline_ref = os.environ.get("SQL_BENCH_BASELINE", "")
    async with contextlib.AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(postgres_database())
        owner_dsn = _dsn(await stack.enter_async_context(postgres_database()))
        await _seed(owner_dsn)
        customer_dsn = await stack.enter_async_context(_reader(owner_dsn))
        server_args = ("--sql-pool-size", str(CONCURRENCY), "--allow-env-credentials")
        server = ServerProcess(service_url, *server_args, env={ENV_NAME: customer_dsn})
        await stack.enter_async_context(server)
        assert server.process is not None
        pid = server.process.pid
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(server.address))
        stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        gateway_id, capped_id = (await _setup(stub)).split()
        baseline_stub, baseline_gateway = None, ""
        if baseline_ref:
            tree = stack.enter_context(_source_tree(baseline_ref))
            baseline_url = await stack.enter_async_context(postgres_database())
            baseline = ServerProcess(baseline_url, *server_args, env={ENV_NAME: customer_dsn},
                                     root=tree)
            await stack.enter_async_context(baseline)
            baseline_channel = await stack.enter_async_context(
                grpc.aio.insecure_channel(baseline.address))
            baseline_stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub(baseline_channel)
            baseline_gateway = (await _setup(baseline_stub)).split()[0]

        async def health_check(i: int) -> object:
            return await health.Check(health_pb2.HealthCheckRequest())

        def execute(on: sql_gateway_pb2_grpc.SqlGatewayServiceStub, gateway: str) -> Any:
            async def call(i: int) -> object:
                result = await on.ExecuteQuery(
                    pb.ExecuteQueryRequest(
                        tenant_id=TENANT, gateway_id=gateway, template_id="order-by-id",
                        parameters={"id": struct_pb2.Value(number_value=i % 10000 + 1)},
                    )
                )
                assert result.row_count == 1
                return result
            return call

        pooled = execute(stub, gateway_id)

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
        cpu: dict[str, list[_CpuPerCall]] = {"direct": [], "gateway": []}
        if baseline_stub is not None:
            rounds["baseline"] = []
        for _ in range(ROUNDS):
            rounds["health"].append(await run_load(
                "health Check (reference)", health_check,
                concurrency=CONCURRENCY, total_calls=POOLED_CALLS))
            for name, label, call, calls, warmup in (
                ("direct", "connect-per-query (asyncpg)", connect_per_query,
                 CONNECT_PER_QUERY_CALLS, 40),
                ("gateway", "ExecuteQuery via gRPC (pooled)", pooled, POOLED_CALLS, 100),
            ):
                result, spent = await _load_with_cpu(
                    pid, label, call, total_calls=calls, warmup_calls=warmup)
                rounds[name].append(result)
                cpu[name].append(spent)
            if baseline_stub is not None:
                rounds["baseline"].append(await run_load(
                    f"ExecuteQuery at {baseline_ref[:12]}", execute(baseline_stub, baseline_gateway),
                    concurrency=CONCURRENCY, total_calls=POOLED_CALLS))
        best = {name: max(runs, key=lambda r: r.throughput) for name, runs in rounds.items()}
        baseline_health, direct, gateway = best["health"], best["direct"], best["gateway"]
        print(baseline_health.line())
        print(direct.line(baseline_health))
        print(gateway.line(baseline_health))
        ratios = [
            g.throughput / d.throughput
            for g, d in zip(rounds["gateway"], rounds["direct"], strict=True)
        ]
        print(f"ExecuteQuery / connect-per-query throughput: best rounds "
              f"{gateway.throughput / direct.throughput:.2f}x; per round "
              f"{', '.join(f'{r:.2f}x' for r in ratios)} (target >= 8x, issue 15)")
        # Both sides saturate this machine's CPU, so the throughput ratio cannot exceed the
        # ratio of what a call costs in CPU, whatever the latencies.
        least = {name: min(spent, key=lambda c: c.total) for name, spent in cpu.items()}
        print(f"CPU per call, least of the rounds: connect-per-query {least['direct'].line()}; "
              f"ExecuteQuery {least['gateway'].line()}")
        print(f"throughput ratio a CPU-bound machine allows: at most "
              f"{least['direct'].total / least['gateway'].total:.2f}x")
        if "baseline" in best:
            print(best["baseline"].line(baseline_health))
            per_round = [
                g.throughput / b.throughput
                for g, b in zip(rounds["gateway"], rounds["baseline"], strict=True)
            ]
            print(f"ExecuteQuery this tree / {baseline_ref}: best rounds "
                  f"{gateway.throughput / best['baseline'].throughput:.2f}x; per round "
                  f"{', '.join(f'{r:.2f}x' for r in per_round)}")

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

        # 50 rows of 6 MB under a 1 MiB byte cap: the server's peak memory growth.
        before = _memory_kib(pid)
        peak_reset = _reset_peak(pid)
        result = await stub.ExecuteQuery(
            pb.ExecuteQueryRequest(tenant_id=TENANT, gateway_id=capped_id, template_id="huge")
        )
        after = _memory_kib(pid)
        assert result.truncated
        growth_kib = after["VmHWM"] - before["VmRSS"]
        print(f"50 x 6 MB rows at max_result_bytes 1 MiB: {result.row_count} rows, server peak "
              f"growth {growth_kib / 1024:.1f} MiB (target <= 3 MiB; peak "
              f"{'reset before the run' if peak_reset else 'since start'})")
