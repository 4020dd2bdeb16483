"""GetDataSourceStatistics on PostgreSQL with 10,000 data sources for one tenant, 10,000 for
another and 1,000 for a third, as ratios to the standard health Check on the same server in the
same run; and proof that it does not load rows: its latency barely moves from 1,000 to 10,000
sources, while reading every row (ListDataSources through all pages) grows with the count."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from drivers.kernel.database import Database
from drivers.tables.connectors_data_sources import data_sources
from integrations.v1 import data_sources_pb2 as pb
from integrations.v1 import data_sources_pb2_grpc
from tests.bench.harness import LoadResult, ServerProcess, postgres_database, run_load

_TYPES = ("database", "api", "file", "vector", "document", "stream", "custom")
_STATUSES = ("pending", "active", "inactive", "error", "deprecated")
_STATS_SQL = (
    "EXPLAIN SELECT status, source_type, count(*), sum(connection_count), sum(error_count) "
    "FROM data_sources WHERE tenant_id = $1 AND delete_time IS NULL GROUP BY status, source_type"
)


async def _seed(url: str, tenant: str, count: int) -> None:
    """Writes `count` data sources straight into the table (the RPC path is not what is measured)."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    database = Database(url)
    try:
        for offset in range(0, count, 2000):
            rows = [
                {
                    "id": str(uuid.uuid4()), "tenant_id": tenant, "name": f"source-{n}",
                    "source_type": _TYPES[n % len(_TYPES)], "status": _STATUSES[n % len(_STATUSES)],
                    "config": {"host": "db.internal", "port": 5432}, "password_ref": "",
                    "api_key_ref": "", "description": "", "tags": [], "metadata": {},
                    "owner_id": "", "access_roles": [], "last_error": "",
                    "connection_count": n % 7, "error_count": n % 3,
                    "create_time": start + timedelta(seconds=n),
                    "update_time": start + timedelta(seconds=n), "version": 1,
                }
                for n in range(offset, min(count, offset + 2000))
            ]
            async with database.transaction() as conn:
                await conn.execute(data_sources.insert(), rows)
    finally:
        await database.dispose()


async def _plan(url: str, tenant: str) -> str:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        # What autovacuum does on its own after a bulk load: statistics and the visibility map,
        # so the planner can answer from the covering index alone.
        await conn.execute("VACUUM ANALYZE data_sources")
        return "\n".join("    " + r[0] for r in await conn.fetch(_STATS_SQL, tenant))
    finally:
        await conn.close()


async def main() -> None:
    keys = "1:" + base64.b64encode(os.urandom(32)).decode()
    small, large, neighbour = (str(uuid.uuid4()) for _ in range(3))
    async with postgres_database() as url:
        async with ServerProcess(url, env={"CREDENTIAL_MASTER_KEYS": keys}) as server:
            for tenant, count in ((small, 1_000), (large, 10_000), (neighbour, 10_000)):
                await _seed(url, tenant, count)
            plan = await _plan(url, large)
            async with grpc.aio.insecure_channel(server.address) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                stub = data_sources_pb2_grpc.DataSourcesServiceStub(channel)
                check = health_pb2.HealthCheckRequest()

                def statistics(tenant: str) -> object:
                    request = pb.GetDataSourceStatisticsRequest(tenant_id=tenant)
                    return lambda i: stub.GetDataSourceStatistics(request)

                def read_every_row(tenant: str) -> object:
                    async def call(i: int) -> int:
                        token, rows = "", 0
                        while True:
                            page = await stub.ListDataSources(
                                pb.ListDataSourcesRequest(
                                    tenant_id=tenant, page_size=100, page_token=token
                                )
                            )
                            rows += len(page.data_sources)
                            token = page.next_page_token
                            if not token:
                                return rows
                    return call

                answer = await stub.GetDataSourceStatistics(
                    pb.GetDataSourceStatisticsRequest(tenant_id=large)
                )
                assert answer.total_sources == 10_000, answer
                baseline = await run_load("health Check", lambda i: health.Check(check))
                stats_small = await run_load(
                    "Statistics, 1,000 sources", statistics(small), total_calls=1000
                )
                stats_large = await run_load(
                    "Statistics, 10,000 sources", statistics(large), total_calls=1000
                )
                alone_small = await run_load(
                    "Statistics, 1,000, one caller", statistics(small), concurrency=1,
                    total_calls=300,
                )
                alone_large = await run_load(
                    "Statistics, 10,000, one caller", statistics(large), concurrency=1,
                    total_calls=300,
                )
                rows_small = await run_load(
                    "List all rows, 1,000 sources", read_every_row(small),
                    concurrency=2, total_calls=10, warmup_calls=1,
                )
                rows_large = await run_load(
                    "List all rows, 10,000 sources", read_every_row(large),
                    concurrency=2, total_calls=4, warmup_calls=1,
                )
                again = await run_load("health Check (again)", lambda i: health.Check(check))
    print(f"answer for the 10,000 tenant: total {answer.total_sources}, "
          f"by type {dict(answer.sources_by_type)}")
    print("query plan of the grouped count (10,000 tenant, neighbour with 10,000 more):")
    print(plan)
    print(baseline.line())
    for result in (stats_small, stats_large, alone_small, alone_large, rows_small, rows_large, again):
        print(result.line(baseline))
    print(_growth("GetDataSourceStatistics, 8 callers", stats_small, stats_large))
    print(_growth("GetDataSourceStatistics, 1 caller", alone_small, alone_large))
    print(_growth("ListDataSources, every page", rows_small, rows_large))


def _growth(name: str, small: LoadResult, large: LoadResult) -> str:
    return (
        f"{name}: p50 latency x{large.p50_ms / small.p50_ms:.2f} from 1,000 to 10,000 sources "
        f"(10x the rows)"
    )
