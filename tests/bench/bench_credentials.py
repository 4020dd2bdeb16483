"""GetCredential and EncryptCredential throughput through gRPC (in-process topology, PostgreSQL),
as ratios to the standard health Check measured on the same server in the same run."""

from __future__ import annotations

import base64
import os
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from tests.bench.harness import LoadResult, ServerProcess, postgres_database, run_load

TARGET_RATIO = 0.5
CONCURRENCY = (8, 32)


async def main() -> None:
    keys = "1:" + base64.b64encode(os.urandom(32)).decode()
    tenant = str(uuid.uuid4())
    async with postgres_database() as url:
        async with ServerProcess(url, env={"CREDENTIAL_MASTER_KEYS": keys}) as server:
            async with grpc.aio.insecure_channel(server.address) as channel:
                health = health_pb2_grpc.HealthStub(channel)
                stub = credentials_pb2_grpc.CredentialServiceStub(channel)
                sealed = await stub.EncryptCredential(
                    pb.EncryptCredentialRequest(tenant_id=tenant, plaintext="bench-secret")
                )
                stored = await stub.CreateCredential(
                    pb.CreateCredentialRequest(tenant_id=tenant, name="bench", secret="s")
                )
                check = health_pb2.HealthCheckRequest()
                encrypt = pb.EncryptCredentialRequest(tenant_id=tenant, plaintext="bench-secret")
                reveal_encrypted = pb.GetCredentialRequest(
                    tenant_id=tenant, credential_ref=sealed.credential_ref, access_reason="bench"
                )
                reveal_stored = pb.GetCredentialRequest(
                    tenant_id=tenant, credential_ref=stored.credential_ref, access_reason="bench"
                )
                for concurrency in CONCURRENCY:
                    print(f"-- {concurrency} concurrent callers")

                    async def load(name: str, call: object, n: int = concurrency) -> LoadResult:
                        return await run_load(name, call, concurrency=n)  # type: ignore[arg-type]

                    baseline = await load("health Check", lambda i: health.Check(check))
                    results = [
                        await load("EncryptCredential", lambda i: stub.EncryptCredential(encrypt)),
                        await load(
                            "GetCredential encrypted://",
                            lambda i: stub.GetCredential(reveal_encrypted),
                        ),
                        await load(
                            "GetCredential cus-vault://",
                            lambda i: stub.GetCredential(reveal_stored),
                        ),
                    ]
                    again = await load("health Check (again)", lambda i: health.Check(check))
                    _report(baseline, results, again)


def _report(baseline: LoadResult, results: list[LoadResult], again: LoadResult) -> None:
    print(baseline.line())
    for result in results:
        verdict = "ok" if result.throughput / baseline.throughput >= TARGET_RATIO else "BELOW"
        print(result.line(baseline) + f"  target {TARGET_RATIO} {verdict}")
    print(again.line(baseline))
