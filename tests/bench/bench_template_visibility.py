"""How long a template change takes to be seen by a second replica.

Two `serve` processes on one PostgreSQL database. Each round changes the template through
replica A (UpdateQueryTemplate, a new version) and then runs ExecuteQuery on replica B until it
reports the new version: the figure is the time from A's answer to B's first answer with the
new version, and how many B calls that took. B caches what ExecuteQuery reads, with entries that
never expire here (`--sql-gateway-cache-seconds 3600`), so the figure is the delay of the commit's
PostgreSQL notification (docs/consistency.md); before, the rows were read on every call. Also
printed for scale: ExecuteQuery's own latency on B.

Run with `.venv/bin/python -m tests.bench template_visibility`."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
from google.protobuf import field_mask_pb2, struct_pb2
from sqlalchemy.engine import make_url

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.bench.harness import postgres_database
from tests.replicas import replicas

ROUNDS = int(os.environ.get("TEMPLATE_VISIBILITY_ROUNDS", "200"))
TENANT = "0b5e6c1e-0000-4000-8000-0000000000a1"
ENV_NAME = "DEV_SQLGW_VISIBILITY_DSN"


@contextlib.asynccontextmanager
async def _plain_role(dsn: str) -> AsyncIterator[str]:
    """A login role without privileges (the gateway refuses superusers); yields its DSN."""
    role = f"ibench_visible_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE ROLE "{role}" LOGIN')
    finally:
        await conn.close()
    try:
        yield make_url(dsn).set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP ROLE "{role}"')
        finally:
            await conn.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    async with contextlib.AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(postgres_database())
        customer_url = await stack.enter_async_context(postgres_database())
        customer_dsn = make_url(customer_url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        reader_dsn = await stack.enter_async_context(_plain_role(customer_dsn))
        pair = await stack.enter_async_context(replicas(
            service_url, 2, "--sql-gateway-cache-seconds", "3600", env={ENV_NAME: reader_dsn}))
        a, b = pair.stubs(sql_gateway_pb2_grpc.SqlGatewayServiceStub)
        spec = pb.ParameterSpec(name="s", type=pb.PARAMETER_TYPE_STRING, required=True)
        await a.CreateQueryTemplate(pb.CreateQueryTemplateRequest(tenant_id=TENANT, template=pb.QueryTemplate(
            id="q", name="q", sql="SELECT 0 AS round, $1::text AS s", parameters=[spec])))
        gateway = await a.CreateGateway(pb.CreateGatewayRequest(tenant_id=TENANT, gateway=pb.Gateway(
            name="g", connection_string_ref=f"env://{ENV_NAME}", allowed_template_ids=["q"])))
        execute = pb.ExecuteQueryRequest(
            tenant_id=TENANT, gateway_id=gateway.id, template_id="q",
            parameters={"s": struct_pb2.Value(string_value="x")})
        for _ in range(20):  # warm both replicas' pools and B's channel
            await b.ExecuteQuery(execute)
        visible_ms: list[float] = []
        execute_ms: list[float] = []
        attempts: list[int] = []
        for n in range(1, ROUNDS + 1):
            updated = await a.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
                tenant_id=TENANT,
                template=pb.QueryTemplate(id="q", sql=f"SELECT {n} AS round, $1::text AS s"),
                update_mask=field_mask_pb2.FieldMask(paths=["sql"])))
            changed = time.perf_counter()
            tries = 0
            while True:
                tries += 1
                started = time.perf_counter()
                result = await b.ExecuteQuery(execute)
                execute_ms.append((time.perf_counter() - started) * 1000)
                if result.template_version == updated.version:
                    break
            visible_ms.append((time.perf_counter() - changed) * 1000)
            attempts.append(tries)
        print(f"rounds: {ROUNDS} template updates through replica A, ExecuteQuery on replica B")
        print(
            f"time to visibility on B: median {statistics.median(visible_ms):.2f} ms, "
            f"p95 {_percentile(visible_ms, 0.95):.2f} ms, max {max(visible_ms):.2f} ms"
        )
        print(
            f"B calls needed to see the new version: first call in "
            f"{sum(1 for t in attempts if t == 1)}/{ROUNDS} rounds, at most {max(attempts)}"
        )
        print(f"ExecuteQuery on B for scale: median {statistics.median(execute_ms):.2f} ms")
        print("with no notification (listener down), the bound is --sql-gateway-cache-seconds (2 s)")
