"""Every row of the hot-path table (issue "Hot paths close to the framework's limit") in one run,
each as a ratio to the standard health Check measured on the same server in the same run:
`make bench ARGS=table`, or `make bench ARGS="table --quick"` (fewer calls, one cold start; under
2 minutes). With BENCH_BASELINE=<git ref> the same is measured on that commit's tree as well,
one after the other, and printed side by side.

Rows: GetIntegration, ListIntegrations (page of 20) and GetCredential `cus-vault://` at 8 callers;
ExecuteQuery against a client connecting per query and against health Check; the mixed workload
(70/20/10) at 8 callers on one replica; cold start to SERVING on an empty SQLite file (the tree
compiled to bytecode first, as the image is: `harness.compile_bytecode`); and
GetIntegration's p50 in the mixed workload at 64 callers as a multiple of health Check's p50
(with the worst other method's)."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc, sql_gateway_pb2_grpc
from integrations.v1 import sql_gateway_pb2 as pb_sql
from tests.bench import bench_mixed
from tests.bench.bench_sql_gateway import _dsn, _source_tree
from tests.bench.harness import (
    LoadResult,
    ServerProcess,
    compile_bytecode,
    postgres_database,
    run_load,
    temp_sqlite_url,
    wait_serving,
)
from tests.fake_provider import fake_provider
from tests.replicas import replicas

QUICK = os.environ.get("BENCH_QUICK") == "1"
CONCURRENCY = 8
CALLS = 800 if QUICK else 3000
CONNECT_CALLS = 150 if QUICK else 400
COLD_STARTS = 1 if QUICK else 3
MIXED_CALLS = {8: 1000, 64: 2000} if QUICK else {8: 3000, 64: 6000}
TENANT = str(uuid.uuid4())
ORDER_SQL = "SELECT id, customer, amount FROM orders WHERE id = $1"
ENV_NAME = "DEV_TABLE_BENCH_CUSTOMER_DSN"
Row = tuple[str, str, str]  # name, figure, target


@contextlib.asynccontextmanager
async def _customer_database() -> AsyncIterator[str]:
    """A customer database with an `orders` table and a role that may only read it."""
    async with postgres_database() as url:
        owner = _dsn(url)
        role = f"ibench_table_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(owner)
        try:
            await conn.execute(
                "CREATE TABLE orders AS SELECT g AS id, 'customer-' || g AS customer,"
                " (g * 1.25)::numeric(12, 2) AS amount FROM generate_series(1, 10000) g;"
                "ALTER TABLE orders ADD PRIMARY KEY (id); ANALYZE;"
                f'CREATE ROLE "{role}" LOGIN; GRANT SELECT ON orders TO "{role}"'
            )
        finally:
            await conn.close()
        try:
            yield make_url(owner).set(username=role, password=None).render_as_string(
                hide_password=False
            )
        finally:
            conn = await asyncpg.connect(owner)
            try:
                await conn.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
            finally:
                await conn.close()


async def _seed(channel: grpc.aio.Channel) -> dict[str, Any]:
    integrations = integrations_pb2_grpc.IntegrationsServiceStub(channel)
    ids = []
    for i in range(50):
        created = await integrations.CreateIntegration(
            pb.CreateIntegrationRequest(
                tenant_id=TENANT,
                integration=pb.Integration(
                    name=f"bench-{i}", provider_type=pb.PROVIDER_TYPE_OPENAI,
                    credential_ref="env://DEV_TABLE_BENCH_KEY",
                ),
            )
        )
        ids.append(created.id)
    credentials = credentials_pb2_grpc.CredentialServiceStub(channel)
    stored = await credentials.CreateCredential(
        credentials_pb2.CreateCredentialRequest(tenant_id=TENANT, name="bench", secret="s")
    )
    gateways = sql_gateway_pb2_grpc.SqlGatewayServiceStub(channel)
    await gateways.CreateQueryTemplate(
        pb_sql.CreateQueryTemplateRequest(
            tenant_id=TENANT,
            template=pb_sql.QueryTemplate(
                id="order-by-id", name="order by id", sql=ORDER_SQL, read_only=True,
                parameters=[pb_sql.ParameterSpec(name="id", type=pb_sql.PARAMETER_TYPE_INTEGER,
                                                 required=True)],
            ),
        )
    )
    gateway = await gateways.CreateGateway(
        pb_sql.CreateGatewayRequest(
            tenant_id=TENANT,
            gateway=pb_sql.Gateway(
                name="bench", connection_string_ref=f"env://{ENV_NAME}",
                allowed_template_ids=["order-by-id"], max_rows=10, timeout_seconds=60,
            ),
        )
    )
    return {"ids": ids, "credential_ref": stored.credential_ref, "gateway": gateway.id}


def _ratio(result: LoadResult, baseline: float) -> str:
    return f"{result.throughput / baseline:.2f} ({result.throughput:.0f}/s, p50 {result.p50_ms:.1f} ms)"


async def _single_server(root: Path, customer_dsn: str) -> list[Row]:
    args = ("--sql-pool-size", str(CONCURRENCY), "--allow-env-credentials")
    async with postgres_database() as url, ServerProcess(
        url, *args, env={ENV_NAME: customer_dsn}, root=root
    ) as server, grpc.aio.insecure_channel(server.address) as channel:
        seeded = await _seed(channel)
        ids = seeded["ids"]
        health = health_pb2_grpc.HealthStub(channel)
        integrations = integrations_pb2_grpc.IntegrationsServiceStub(channel)
        credentials = credentials_pb2_grpc.CredentialServiceStub(channel)
        gateways = sql_gateway_pb2_grpc.SqlGatewayServiceStub(channel)
        check = health_pb2.HealthCheckRequest()
        reveal = credentials_pb2.GetCredentialRequest(
            tenant_id=TENANT, credential_ref=seeded["credential_ref"], access_reason="bench"
        )
        listing = pb.ListIntegrationsRequest(tenant_id=TENANT, page_size=20)

        def execute(i: int) -> Any:
            return gateways.ExecuteQuery(
                pb_sql.ExecuteQueryRequest(
                    tenant_id=TENANT, gateway_id=seeded["gateway"], template_id="order-by-id",
                    parameters={"id": struct_pb2.Value(number_value=i % 10000 + 1)},
                )
            )

        async def connect_per_query(i: int) -> object:
            conn = await asyncpg.connect(customer_dsn)
            try:
                return await conn.fetch(ORDER_SQL, i % 10000 + 1)
            finally:
                await conn.close()

        async def load(name: str, call: Any, calls: int = CALLS, warmup: int = 100) -> LoadResult:
            return await run_load(
                name, call, concurrency=CONCURRENCY, total_calls=calls, warmup_calls=warmup
            )

        before = await load("health Check", lambda i: health.Check(check))
        get = await load(
            "GetIntegration",
            lambda i: integrations.GetIntegration(
                pb.GetIntegrationRequest(tenant_id=TENANT, integration_id=ids[i % len(ids)])
            ),
        )
        lists = await load("ListIntegrations", lambda i: integrations.ListIntegrations(listing))
        reveals = await load("GetCredential", lambda i: credentials.GetCredential(reveal))
        queries = await load("ExecuteQuery", execute)
        direct = await load("connect per query", connect_per_query, CONNECT_CALLS, 20)
        after = await load("health Check", lambda i: health.Check(check))
    baseline = (before.throughput + after.throughput) / 2
    return [
        ("health Check (the baseline)", f"{baseline:.0f}/s (runs {before.throughput:.0f}, "
         f"{after.throughput:.0f})", ""),
        ("GetIntegration", _ratio(get, baseline), ">= 0.7"),
        ("ListIntegrations, page of 20", _ratio(lists, baseline), ">= 0.35"),
        ("GetCredential cus-vault://", _ratio(reveals, baseline), ">= 0.5"),
        ("ExecuteQuery vs connect per query",
         f"{queries.throughput / direct.throughput:.1f}x ({direct.throughput:.0f}/s)", ">= 8x"),
        ("ExecuteQuery vs health Check", _ratio(queries, baseline), ">= 0.6"),
    ]


async def _mixed(root: Path) -> list[Row]:
    bench_mixed.CALLS = MIXED_CALLS
    rows: list[Row] = []
    key = {bench_mixed.KEY_ENV: "sk-table-" + uuid.uuid4().hex}
    defaults = ServerProcess.__init__.__kwdefaults__
    saved = defaults["root"]
    defaults["root"] = root  # replicas() builds its ServerProcesses with the default tree
    try:
        async with fake_provider() as provider, postgres_database() as url, replicas(
            url, 1, env=key
        ) as cluster:
            tenants = await bench_mixed._seed(cluster, provider)
            for callers in (8, 64):
                await bench_mixed._refresh_checks(cluster, tenants)
                before = await bench_mixed._load("check", cluster, tenants, callers)
                mixed = await bench_mixed._load("mixed", cluster, tenants, callers)
                after = await bench_mixed._load("check", cluster, tenants, callers)
                check_rate = (before.result.throughput + after.result.throughput) / 2
                check_p50 = (before.result.p50_ms + after.result.p50_ms) / 2
                if callers == 8:
                    rows.append(("mixed 70/20/10, 8 callers, 1 replica",
                                 _ratio(mixed.result, check_rate), ">= 0.35"))
                    continue
                p50 = {
                    name: bench_mixed._ms(latencies, 0.5) / check_p50
                    for name, latencies in mixed.by_operation.items()
                }
                worst = max((n for n in p50 if n != "GetIntegration"), key=p50.__getitem__)
                rows.append((
                    "GetIntegration p50 / Check p50, 64c",
                    f"{p50['GetIntegration']:.1f}x (worst other: {worst} {p50[worst]:.1f}x; "
                    f"Check p50 {check_p50:.1f} ms)",
                    "<= 4x",
                ))
    finally:
        defaults["root"] = saved
    return rows


async def _start_to_serving(root: Path, url: str) -> float:
    server = ServerProcess(url, root=root)
    started = time.perf_counter()
    server.start()
    await wait_serving(server.address)
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


async def _cold_start(root: Path) -> list[Row]:
    """Starts on an empty SQLite file (migrating it), then again on the same file (at its
    heads already: no migration, and no Alembic import)."""
    compile_bytecode(root)
    cold, restart = [], []
    for _ in range(COLD_STARTS):
        with temp_sqlite_url() as url:
            cold.append(await _start_to_serving(root, url))
            restart.append(await _start_to_serving(root, url))

    def runs(seconds: list[float]) -> str:
        listed = ", ".join(f"{s:.2f}" for s in seconds)
        return f"{statistics.median(seconds):.2f} s (runs {listed})"

    return [("cold start to SERVING, empty SQLite", runs(cold), "< 1 s"),
            ("restart to SERVING, migrated SQLite", runs(restart), "")]


async def _measure(root: Path) -> list[Row]:
    async with _customer_database() as customer_dsn:
        rows = await _single_server(root, customer_dsn)
    return rows + await _mixed(root) + await _cold_start(root)


def _print(columns: list[tuple[str, list[Row]]]) -> None:
    mode = "quick" if QUICK else "full"
    print(f"\nPostgreSQL, {CONCURRENCY} callers unless said; ratios to health Check in the same "
          f"run ({mode} mode: {CALLS} calls per load)")
    width = 60
    header = f"{'call':<38} " + " ".join(f"{label:<{width}}" for label, _ in columns) + " target"
    print(header)
    print("-" * len(header))
    for i, (name, _, target) in enumerate(columns[0][1]):
        cells = " ".join(f"{rows[i][1]:<{width}}" for _, rows in columns)
        print(f"{name:<38} {cells} {target}")


async def main() -> None:
    started = time.perf_counter()
    from tests.bench.harness import ROOT

    columns = [("this tree", await _measure(ROOT))]
    reference = os.environ.get("BENCH_BASELINE", "")
    if reference:
        with _source_tree(reference) as tree:
            columns.append((f"at {reference}", await _measure(tree)))
    _print(columns)
    print(f"(took {time.perf_counter() - started:.0f} s)")
