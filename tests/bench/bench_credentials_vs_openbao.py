"""This service's audited GetCredential against OpenBao's audited KV v2 read, at 8 callers: calls/s,
p50/p99, and server CPU per request read from /proc/<pid>/stat of each server process (so the
load generators' own costs do not count). The service runs on PostgreSQL, first with the local
keyring, then with `--kms openbao` (which must not call OpenBao per request: its audit log is
counted), then with `--secret-store openbao` (values in OpenBao KV: every reveal also costs
OpenBao a KV read, which the service's CPU column does not include). Targets: GetCredential
CPU per read at most 2x OpenBao's, and GetCredential at least 0.5 of the health Check's
throughput on the same server.

`make bench ARGS=credentials_vs_openbao`; PROFILE=1 also records a py-spy profile of the service
during GetCredential and prints its top entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from tests.bench.harness import LoadResult, ServerProcess, cpu_seconds, postgres_database, run_load
from tests.openbao import OpenBaoServer, running_openbao

CONCURRENCY = 8
CALLS = 3000
CPU_TARGET = 2.0
THROUGHPUT_TARGET = 0.5
KV_PATHS = "secret/data/tenants/"  # where --secret-store openbao keeps values (default mount)


@dataclass(frozen=True)
class Measured:
    """A load run and the CPU its server spent meanwhile."""

    load: LoadResult
    cpu_ms_per_call: float

    def line(self, baseline: Measured | None = None) -> str:
        ratio = (
            f"  cpu x{self.cpu_ms_per_call / baseline.cpu_ms_per_call:4.2f}" if baseline else ""
        )
        return f"{self.load.line()}  cpu {self.cpu_ms_per_call:5.3f} ms/call{ratio}"


async def measure(name: str, pid: int, call: Callable[[int], Awaitable[object]]) -> Measured:
    await run_load(name, call, concurrency=CONCURRENCY, total_calls=200, warmup_calls=0)
    before = cpu_seconds(pid)
    result = await run_load(name, call, concurrency=CONCURRENCY, total_calls=CALLS)
    spent = cpu_seconds(pid) - before
    return Measured(result, spent * 1000 / max(result.calls, 1))


async def _openbao_kv(bao: OpenBaoServer) -> Measured:
    bao.api("POST", "kv/data/bench", {"data": {"value": "bench-secret"}})
    bao.api(
        "PUT",
        "sys/policies/acl/bench-kv",
        {"policy": 'path "kv/data/bench" { capabilities = ["read"] }'},
    )
    token = bao.api("POST", "auth/token/create", {"policies": ["bench-kv"], "ttl": "1h"})
    request = (
        f"GET /v1/kv/data/bench HTTP/1.1\r\nHost: 127.0.0.1:{bao.port}\r\n"
        f"X-Vault-Token: {token['auth']['client_token']}\r\n\r\n"
    ).encode()
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONCURRENCY):
        connections.put_nowait(await asyncio.open_connection("127.0.0.1", bao.port))

    async def read(_: int) -> None:
        reader, writer = await connections.get()
        try:
            await _keepalive_get(reader, writer, request)
        finally:
            connections.put_nowait((reader, writer))

    assert bao.process is not None
    try:
        return await measure("OpenBao KV v2 read (audited)", bao.process.pid, read)
    finally:
        while not connections.empty():
            connections.get_nowait()[1].close()


async def _keepalive_get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    """One request on a kept-alive HTTP/1.1 connection: a client far lighter than httpx, so
    the load generator does not starve the server it measures."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    if status != b"200":
        raise RuntimeError(f"OpenBao answered {status.decode()}: {body[:200]!r}")
    return body


@contextlib.asynccontextmanager
async def _service(url: str, *args: str) -> AsyncIterator[tuple[ServerProcess, grpc.aio.Channel]]:
    async with ServerProcess(url, *args) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            yield server, channel


async def _service_reads(server: ServerProcess, channel: grpc.aio.Channel, label: str) -> list[Measured]:
    assert server.process is not None
    pid = server.process.pid
    stub = credentials_pb2_grpc.CredentialServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    tenant = "6b3c1e2a-0f5d-4c7e-9a11-3b1f2e4d5c6a"
    stored = await stub.CreateCredential(
        pb.CreateCredentialRequest(tenant_id=tenant, name=f"bench-{label}", secret="bench-secret")
    )
    reveal = pb.GetCredentialRequest(
        tenant_id=tenant, credential_ref=stored.credential_ref, access_reason="bench"
    )
    check = health_pb2.HealthCheckRequest()
    profile = os.environ.get("PROFILE") == "1"
    checked = await measure(f"health Check ({label})", pid, lambda i: health.Check(check))
    with _py_spy(pid, label) if profile else contextlib.nullcontext():
        read = await measure(
            f"GetCredential cus-vault:// ({label})", pid, lambda i: stub.GetCredential(reveal)
        )
    return [checked, read]


@contextlib.contextmanager
def _py_spy(pid: int, label: str):  # type: ignore[no-untyped-def]
    out = Path(tempfile.gettempdir()) / f"py-spy-{label}.txt"
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--format",
         "raw", "--output", str(out), "--nonblocking", "--duration", "8"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=60)
        _print_top(out)


_OWN_FRAMES = ("service/", "drivers/", "engines/", "sqlalchemy/", "asyncpg/", "grpc")


def _print_top(raw: Path, count: int = 12) -> None:
    """py-spy's raw (collapsed) stacks: the frames most often on top (self time), and the
    service's and its libraries' frames most often anywhere on the stack (inclusive)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, weight = line.rpartition(" ")
        frames, hits = stack.split(";"), int(weight)
        samples += hits
        own[frames[-1]] = own.get(frames[-1], 0) + hits
        for frame in set(frames):
            if any(part in frame for part in _OWN_FRAMES):
                inclusive[frame] = inclusive.get(frame, 0) + hits
    for title, table in (("self", own), ("inclusive", inclusive)):
        print(f"   py-spy {raw.stem}: {samples} samples, top {title}:")
        for frame, hits in sorted(table.items(), key=lambda kv: -kv[1])[:count]:
            print(f"   {hits * 100 / max(samples, 1):5.1f}%  {frame[:110]}")


def _audit_count(bao: OpenBaoServer, path: str) -> int:
    return bao.audit_log.read_text().count(f'"path":"{path}')


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_openbao(Path(tmp) / "bao") as bao:
        kv = await _openbao_kv(bao)
        token_file = Path(tmp) / "service-token"
        token_file.write_text(bao.service_token())
        openbao_flags = (
            "--kms", "openbao", "--openbao-address", bao.address,
            "--openbao-token-file", str(token_file),
        )
        async with postgres_database() as url:
            async with _service(url) as (server, channel):
                local = await _service_reads(server, channel, "local keyring")
            async with _service(url, *openbao_flags) as (server, channel):
                before = _audit_count(bao, "transit/")
                envelope = await _service_reads(server, channel, "--kms openbao")
                transit_calls = _audit_count(bao, "transit/") - before
            kv_token_file = Path(tmp) / "service-kv-token"
            kv_token_file.write_text(bao.kv_token())
            kv_flags = (
                "--secret-store", "openbao", "--openbao-address", bao.address,
                "--openbao-token-file", str(kv_token_file),
            )
            async with _service(url, *kv_flags) as (server, channel):
                before = _audit_count(bao, KV_PATHS)
                in_kv = await _service_reads(server, channel, "--secret-store openbao")
                kv_requests = _audit_count(bao, KV_PATHS) - before
    print(f"-- {CONCURRENCY} concurrent callers, {CALLS} calls each")
    print(kv.line())
    for check, read in (local, envelope, in_kv):
        print(check.line())
        cpu_ratio = read.cpu_ms_per_call / kv.cpu_ms_per_call
        throughput_ratio = read.load.throughput / check.load.throughput
        print(read.line(kv))
        print(
            f"   cpu per read {cpu_ratio:4.2f}x OpenBao's (target <= {CPU_TARGET}: "
            f"{'ok' if cpu_ratio <= CPU_TARGET else 'ABOVE'}); throughput {throughput_ratio:4.2f}x "
            f"health Check (target >= {THROUGHPUT_TARGET}: "
            f"{'ok' if throughput_ratio >= THROUGHPUT_TARGET else 'BELOW'})"
        )
    print(f"OpenBao transit calls during the --kms openbao runs: {transit_calls} (data keys cached)")
    print(f"OpenBao audit entries of the tenants' KV paths during the --secret-store openbao runs: "
          f"{kv_requests} (each reveal reads the value from OpenBao: request and response)")


if __name__ == "__main__":
    asyncio.run(main())
