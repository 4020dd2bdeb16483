"""Two server processes on one PostgreSQL database, each caching what ExecuteQuery reads with
entries that never expire here (`--sql-gateway-cache-seconds 3600`): a template or gateway
changed or deleted through one replica is run by the other once the commit's notification
arrives, never an older version after a newer one; the writer runs it at once. How soon is not
asserted (a notification still on the wire is allowed, docs/consistency.md) but a lost one hangs
the loop until its timeout. The delay is measured by `python -m tests.bench template_visibility`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
import pytest_asyncio
from google.protobuf import field_mask_pb2, json_format, struct_pb2

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.customer_database import CustomerDatabase, customer_database
from tests.replicas import Replicas, fresh_postgres, replicas
from tests.support import new_tenant, rich_error

pytestmark = pytest.mark.asyncio(loop_scope="module")

Stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub
TENANT = new_tenant()


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(postgres_admin_url: str, customer: CustomerDatabase) -> AsyncIterator[Replicas]:
    variable = customer.ref.removeprefix("env://")
    async with fresh_postgres(postgres_admin_url) as url, replicas(
        url, 2, "--sql-gateway-cache-seconds", "3600", env={variable: customer.dsn}
    ) as started:
        yield started


def _sql(label: str) -> str:
    assert re.fullmatch(r"[a-z0-9]+", label)
    return f"SELECT '{label}' AS v, $1::text AS s"


async def _run(stub: Stub, gateway_id: str, template_id: str = "q") -> pb.QueryResult:
    return await stub.ExecuteQuery(pb.ExecuteQueryRequest(
        tenant_id=TENANT, gateway_id=gateway_id, template_id=template_id,
        parameters={"s": struct_pb2.Value(string_value="x")}))


def _label(result: pb.QueryResult) -> str:
    return str(json_format.MessageToDict(result.rows[0])["v"])


async def _outcome(stub: Stub, gateway_id: str, template_id: str) -> tuple[str, int] | str:
    """(label, template version) of a run, or the refusal's reason (or code)."""
    try:
        result = await _run(stub, gateway_id, template_id)
    except grpc.aio.AioRpcError as error:
        refusal = rich_error(error)
        return f"{refusal.code.name} {refusal.reason}".strip()
    return _label(result), result.template_version


async def _run_until(
    stub: Stub, gateway_id: str, expected: tuple[str, int] | str, template_id: str = "q"
) -> int:
    """Runs until `expected` is the outcome; how many runs had another outcome first (each
    printed by the test). The timeout only keeps a lost notification from hanging the run."""
    stale = 0
    async with asyncio.timeout(60):
        while (await _outcome(stub, gateway_id, template_id)) != expected:
            stale += 1
            await asyncio.sleep(0.001)
    return stale


async def _seen_by_both(
    writer: Stub, reader: Stub, gateway_id: str, expected: tuple[str, int] | str, stale: list[int],
    template_id: str = "q",
) -> None:
    """The writer's next run is `expected` (read-your-writes); the reader's becomes it once
    notified and stays it."""
    assert await _outcome(writer, gateway_id, template_id) == expected
    stale.append(await _run_until(reader, gateway_id, expected, template_id))
    assert await _outcome(reader, gateway_id, template_id) == expected


async def test_a_change_on_one_replica_is_run_by_the_other_once_notified(
    pair: Replicas, customer: CustomerDatabase
) -> None:
    a, b = pair.stubs(Stub)
    await a.CreateQueryTemplate(pb.CreateQueryTemplateRequest(tenant_id=TENANT, template=pb.QueryTemplate(
        id="q", name="q", sql=_sql("one"),
        parameters=[pb.ParameterSpec(name="s", type=pb.PARAMETER_TYPE_STRING, required=True)])))
    gateway = await a.CreateGateway(pb.CreateGatewayRequest(tenant_id=TENANT, gateway=pb.Gateway(
        name="g", connection_string_ref=customer.ref, allowed_template_ids=["q"])))
    for stub in (a, b, b):  # both caches now hold the pair
        assert await _outcome(stub, gateway.id, "q") == ("one", 1)
    stale: list[int] = []

    for version, label in ((2, "two"), (3, "three")):
        await a.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
            tenant_id=TENANT, template=pb.QueryTemplate(id="q", sql=_sql(label)),
            update_mask=field_mask_pb2.FieldMask(paths=["sql"])))
        await _seen_by_both(a, b, gateway.id, (label, version), stale)

    await a.DisableQueryTemplate(pb.DisableQueryTemplateRequest(tenant_id=TENANT, template_id="q"))
    await _seen_by_both(a, b, gateway.id, "FAILED_PRECONDITION TEMPLATE_DISABLED", stale)
    await a.EnableQueryTemplate(pb.EnableQueryTemplateRequest(tenant_id=TENANT, template_id="q"))
    await _seen_by_both(a, b, gateway.id, ("three", 3), stale)

    pinned = await a.UpdateGateway(pb.UpdateGatewayRequest(tenant_id=TENANT, gateway=pb.Gateway(
        id=gateway.id, template_versions={"q": 1})))
    await _seen_by_both(a, b, gateway.id, ("one", 1), stale)
    got = await b.GetGateway(pb.GetGatewayRequest(tenant_id=TENANT, gateway_id=gateway.id))
    assert got.etag == pinned.etag

    await a.DeleteGateway(pb.DeleteGatewayRequest(tenant_id=TENANT, gateway_id=gateway.id))
    await _seen_by_both(a, b, gateway.id, "NOT_FOUND NOT_FOUND", stale)
    print(f"runs of the older row on the other replica after each change: {stale}")


async def test_a_deleted_template_is_not_run_by_the_other_replica_once_notified(
    pair: Replicas, customer: CustomerDatabase
) -> None:
    a, b = pair.stubs(Stub)
    await b.CreateQueryTemplate(pb.CreateQueryTemplateRequest(tenant_id=TENANT, template=pb.QueryTemplate(
        id="gone", name="gone", sql=_sql("alive"),
        parameters=[pb.ParameterSpec(name="s", type=pb.PARAMETER_TYPE_STRING, required=True)])))
    gateway = await b.CreateGateway(pb.CreateGatewayRequest(tenant_id=TENANT, gateway=pb.Gateway(
        name="g2", connection_string_ref=customer.ref, allowed_template_ids=["gone"])))
    for stub in (a, b):
        assert await _outcome(stub, gateway.id, "gone") == ("alive", 1)
    await b.DeleteQueryTemplate(pb.DeleteQueryTemplateRequest(tenant_id=TENANT, template_id="gone"))
    stale: list[int] = []
    await _seen_by_both(b, a, gateway.id, "NOT_FOUND NOT_FOUND", stale, template_id="gone")
    print(f"runs of the deleted template on the other replica: {stale}")


async def test_concurrent_updates_on_both_replicas_lose_no_version(
    pair: Replicas, customer: CustomerDatabase
) -> None:
    stubs = pair.stubs(Stub)
    created = await stubs[0].CreateQueryTemplate(pb.CreateQueryTemplateRequest(
        tenant_id=TENANT, template=pb.QueryTemplate(
            id="busy", name="busy", sql=_sql("zero"),
            parameters=[pb.ParameterSpec(name="s", type=pb.PARAMETER_TYPE_STRING, required=True)])))

    def update(n: int, etag: str = "") -> object:
        return stubs[n % 2].UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
            tenant_id=TENANT, template=pb.QueryTemplate(id="busy", description=f"d{n}", etag=etag)))

    results = await asyncio.gather(*(update(n) for n in range(8)))
    assert sorted(r.version for r in results) == list(range(2, 10))  # type: ignore[attr-defined]
    for version in range(1, 10):
        got = await stubs[version % 2].GetQueryTemplate(
            pb.GetQueryTemplateRequest(tenant_id=TENANT, template_id="busy", version=version))
        assert got.version == version
    latest = await stubs[1].GetQueryTemplate(
        pb.GetQueryTemplateRequest(tenant_id=TENANT, template_id="busy"))
    outcomes = await asyncio.gather(*(update(n, latest.etag) for n in range(4)), return_exceptions=True)
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 3
    assert {e.code() for e in lost} == {grpc.StatusCode.ABORTED}
    assert created.version == 1
