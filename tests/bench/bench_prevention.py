"""PreventionService on PostgreSQL: CreatePreventionRecord throughput at 8 concurrent callers, and
EvaluateGraduation latency over 100,000 records of one policy, each as a ratio to the standard
health Check measured in the same run on the same server process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import grpc
import sqlalchemy as sa
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drivers.kernel.database import Database
from drivers.prevention.store import record_columns
from drivers.tables.prevention import prevention_records
from engines.prevention.contract import CONTRACT_VERSION, PreventionCandidate
from engines.prevention.records import PreventionRecord
from integrations.v1 import prevention_pb2 as pb
from integrations.v1 import prevention_pb2_grpc
from tests.bench.harness import LoadResult, ServerProcess, postgres_database, run_load

__all__ = ["main"]

CONCURRENCY = 8
BIG_POLICY_RECORDS = 100_000
SMALL_POLICY_RECORDS = 100
BATCH = 5_000
ACTIVATION = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _candidate(tenant: str, policy_id: str, *, simulated: bool) -> PreventionCandidate:
    return PreventionCandidate(
        policy_id=policy_id,
        pattern_id="pattern-bench",
        tenant_id=tenant,
        blocked_incident_id="inc-blocked",
        original_incident_id="inc-original",
        signature_match_confidence=0.87,
        policy_mode="active",
        pattern_signature={"path": "/v1/chat/completions", "model": "gpt-4o"},
        request_signature={"path": "/v1/chat/completions", "tokens": 512},
        is_simulated=simulated,
    )


async def _bulk_load(url: str, tenant: str, policy_id: str, count: int) -> None:
    """Inserts `count` records straight into the table: 10% simulated, 30% before activation."""
    database = Database(url)
    try:
        for start in range(0, count, BATCH):
            rows = []
            for i in range(start, min(start + BATCH, count)):
                offset = timedelta(seconds=i) - timedelta(seconds=int(count * 0.3))
                record = PreventionRecord(
                    id=str(uuid.uuid4()),
                    candidate=_candidate(tenant, policy_id, simulated=i % 10 == 0),
                    contract_version=CONTRACT_VERSION,
                    create_time=ACTIVATION + offset,
                )
                rows.append(record_columns(record))
            async with database.transaction() as conn:
                await conn.execute(prevention_records.insert(), rows)
        async with database.transaction() as conn:
            await conn.execute(sa.text("ANALYZE prevention_records"))
    finally:
        await database.dispose()


def _ratio_line(result: LoadResult, baseline: LoadResult) -> str:
    return f"{result.line()}  p50 ratio {result.p50_ms / baseline.p50_ms:7.1f}x health Check"


async def main() -> None:
    async with postgres_database() as url, ServerProcess(url) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            stub = prevention_pb2_grpc.PreventionServiceStub(channel)
            tenant = str(uuid.uuid4())

            async def check(_: int) -> object:
                return await health.Check(health_pb2.HealthCheckRequest())

            async def create(i: int) -> object:
                return await stub.CreatePreventionRecord(
                    pb.CreatePreventionRecordRequest(
                        candidate=pb.PreventionCandidate(
                            policy_id="policy-load",
                            pattern_id="pattern-load",
                            tenant_id=tenant,
                            signature_match_confidence=0.9,
                            policy_mode="active",
                        ),
                        request_id=f"load-{i}",
                    )
                )

            print(f"-- throughput, {CONCURRENCY} concurrent callers, PostgreSQL")
            baseline = await run_load("health Check", check, concurrency=CONCURRENCY)
            creates = await run_load("CreatePreventionRecord", create, concurrency=CONCURRENCY)
            print(baseline.line())
            print(creates.line(baseline))

            print(f"-- EvaluateGraduation latency, 1 caller, {BIG_POLICY_RECORDS:,} records of one policy")
            started = time.perf_counter()
            await _bulk_load(url, tenant, "policy-big", BIG_POLICY_RECORDS)
            await _bulk_load(url, tenant, "policy-small", SMALL_POLICY_RECORDS)
            print(f"(bulk load of {BIG_POLICY_RECORDS + SMALL_POLICY_RECORDS:,} rows: "
                  f"{time.perf_counter() - started:.1f} s, set-up only)")
            activated_at = timestamp_pb2.Timestamp()
            activated_at.FromDatetime(ACTIVATION)

            def evaluate(policy_id: str) -> Callable[[int], Awaitable[pb.EvaluateGraduationResponse]]:
                async def call(_: int) -> pb.EvaluateGraduationResponse:
                    return await stub.EvaluateGraduation(
                        pb.EvaluateGraduationRequest(
                            tenant_id=tenant, policy_id=policy_id, policy_activated_at=activated_at
                        )
                    )
                return call

            counts = await evaluate("policy-big")(0)
            assert counts.total_records == BIG_POLICY_RECORDS, counts
            assert (
                counts.qualifying_records + counts.simulated_records
                + counts.before_activation_records == counts.total_records
            )
            single = await run_load("health Check", check, concurrency=1, total_calls=300)
            small = await run_load(
                f"EvaluateGraduation {SMALL_POLICY_RECORDS} rows", evaluate("policy-small"),
                concurrency=1, total_calls=100, warmup_calls=5,
            )
            big = await run_load(
                f"EvaluateGraduation {BIG_POLICY_RECORDS:,} rows", evaluate("policy-big"),
                concurrency=1, total_calls=30, warmup_calls=3,
            )
            print(single.line())
            print(_ratio_line(small, single))
            print(_ratio_line(big, single))
            print(f"100k / 100-row policy p50 ratio: {big.p50_ms / small.p50_ms:.1f}x  "
                  f"(counts: qualifying {counts.qualifying_records}, simulated "
                  f"{counts.simulated_records}, before activation "
                  f"{counts.before_activation_records})")
