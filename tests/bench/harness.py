"""Benchmark tools: a real server process, a throwaway PostgreSQL database, and a closed-loop
load generator that reports throughput and latency percentiles.

Every figure a benchmark prints should be a ratio to a baseline measured in the same run on the
same server (for example the standard health Check), since these machines are noisy."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url

from tests.support import LOOPBACK_EGRESS

__all__ = [
    "LoadResult",
    "LoadSample",
    "ServerProcess",
    "free_port",
    "postgres_database",
    "run_load",
    "sample_load",
    "summarize",
    "wait_serving",
]

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# One master key for every server this process starts (replicas on one database must share it),
# so no server writes a development key file into the working tree.
PROCESS_MASTER_KEYS = "1:" + base64.b64encode(os.urandom(32)).decode()
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LoadResult:
    """Throughput and latency of one closed-loop load run."""

    name: str
    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def line(self, baseline: LoadResult | None = None) -> str:
        ratio = f"  ratio {self.throughput / baseline.throughput:5.2f}" if baseline else ""
        return (
            f"{self.name:<34} {self.throughput:9.0f} calls/s  p50 {self.p50_ms:7.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  errors {self.errors}{ratio}"
        )


@dataclass(frozen=True)
class LoadSample:
    """Raw figures of one closed-loop run (or one client process's share of it): latencies in
    seconds and the run's window on the machine-wide monotonic clock, so samples taken in several
    client processes at once can be merged into one LoadResult."""

    latencies: list[float]
    errors: int
    started: float
    finished: float


def summarize(name: str, samples: Sequence[LoadSample]) -> LoadResult:
    """One LoadResult of samples taken at the same time (throughput over their joint window)."""
    ordered = sorted(latency for sample in samples for latency in sample.latencies) or [0.0]
    p99_index = min(len(ordered) - 1, int(len(ordered) * 0.99))
    return LoadResult(
        name=name,
        calls=sum(len(sample.latencies) for sample in samples),
        seconds=max(s.finished for s in samples) - min(s.started for s in samples),
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[p99_index] * 1000,
        errors=sum(sample.errors for sample in samples),
    )


async def sample_load(
    call: Callable[[int], Awaitable[object]],
    *,
    concurrency: int = 8,
    total_calls: int = 2000,
    warmup_calls: int = 100,
) -> LoadSample:
    """Runs `call(i)` `total_calls` times from `concurrency` workers (closed loop), after
    `warmup_calls` unrecorded ones."""
    counter = iter(range(warmup_calls + total_calls))
    latencies: list[float] = []
    errors = 0

    async def worker(record: bool, limit: int) -> None:
        nonlocal errors
        for i in counter:
            if i >= limit:
                return
            started = time.perf_counter()
            try:
                await call(i)
            except grpc.aio.AioRpcError:
                errors += 1
            if record:
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(False, warmup_calls) for _ in range(concurrency)))
    started = time.monotonic()
    await asyncio.gather(
        *(worker(True, warmup_calls + total_calls) for _ in range(concurrency))
    )
    return LoadSample(latencies, errors, started, time.monotonic())


async def run_load(
    name: str,
    call: Callable[[int], Awaitable[object]],
    *,
    concurrency: int = 8,
    total_calls: int = 2000,
    warmup_calls: int = 100,
) -> LoadResult:
    """Runs `call(i)` `total_calls` times from `concurrency` workers (closed loop)."""
    sample = await sample_load(
        call, concurrency=concurrency, total_calls=total_calls, warmup_calls=warmup_calls
    )
    return summarize(name, [sample])


async def wait_serving(address: str, timeout: float = 30.0) -> float:
    """Polls grpc.health.v1 until SERVING; returns the seconds it took."""
    started = time.perf_counter()
    # Without these, a refused first connect puts the channel into grpc's reconnect backoff
    # (1 s and growing), and the time measured would be the client's, not the server's.
    fast_reconnect = [
        ("grpc.initial_reconnect_backoff_ms", 20),
        ("grpc.min_reconnect_backoff_ms", 20),
        ("grpc.max_reconnect_backoff_ms", 50),
    ]
    async with grpc.aio.insecure_channel(address, options=fast_reconnect) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.perf_counter() - started < timeout:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return time.perf_counter() - started
            await asyncio.sleep(0.02)
    raise TimeoutError(f"{address} did not become SERVING within {timeout}s")


def compile_bytecode(root: Path) -> None:
    """Compiles the service's packages under `root` to bytecode, as the image's `pip install .`
    does. This machine sets PYTHONDONTWRITEBYTECODE, so a source tree would otherwise compile
    every module on every start, a cost no deployed process pays (Python still reads the files,
    and ignores one whose source changed)."""
    packages = [str(root / name) for name in ("service", "engines", "drivers", "gen")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True,
                   stdout=subprocess.DEVNULL)


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU of a process (all its threads) so far, from /proc/<pid>/stat; with
    `reaped_children`, plus that of its children that have exited and been waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16, 17)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU of PostgreSQL on this machine so far: every live postgres process,
    and the backends that have exited (the postmaster reaps them, so their CPU is its children's).
    Other clients of the same server count too; a run's figure is the difference of two
    readings around it."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1:].startswith("postgres"):
                total += cpu_seconds(int(stat.parent.name), reaped_children=True)
    return total


class ServerProcess:
    """`integrations-service serve` in its own process (so load and server do not share a loop)."""

    def __init__(
        self,
        database_url: str,
        *extra_args: str,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        root: Path = ROOT,
    ):
        self.log_path = log_path  # the server's log lines (stderr); discarded when None
        self.root = root  # the source tree the server runs (another commit's, for a baseline)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.args = [
            sys.executable, "-m", "service.cli", "--log-level", "WARNING", "serve",
            "--listen", self.address, "--database-url", database_url,
            *(f"--egress-allow={rule}" for rule in LOOPBACK_EGRESS), *extra_args,
        ]
        self.env = {**os.environ, "CREDENTIAL_MASTER_KEYS": PROCESS_MASTER_KEYS, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        stderr = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.args, cwd=self.root, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        finally:
            if self.log_path:
                stderr.close()  # type: ignore[union-attr]

    def stop(self) -> int:
        """SIGTERM and the exit code; SIGKILL when it has not exited within 30 s (then raises).
        A process already gone (killed) is only reaped."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> int:
        """SIGKILL (no shutdown code runs: the crash case) and the exit code once reaped."""
        assert self.process is not None
        self.process.kill()
        return self.process.wait(timeout=30)

    async def __aenter__(self) -> ServerProcess:
        self.start()
        try:
            await wait_serving(self.address)
        except BaseException:
            self.kill()  # never left running when it did not come up
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str | None = None) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one benchmark, dropped afterwards."""
    admin = make_url(admin_url or os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL))
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ibench_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.close()


@contextlib.contextmanager
def temp_sqlite_url() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite+aiosqlite:///{tmp}/bench.db"
