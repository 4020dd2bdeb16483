"""`integrations-service serve` and `migrate` as real processes."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.bench.harness import ServerProcess, wait_serving

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    result = _cli("migrate", "--database-url", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert {"integrations", "usage_events", "alembic_version"} <= tables


def test_unsupported_database_url_is_refused_clearly(tmp_path: Path) -> None:
    result = _cli("migrate", "--database-url", "mysql://root@127.0.0.1/test")
    assert result.returncode == 2
    assert "unsupported database URL scheme" in result.stderr
    assert "Traceback" not in result.stderr


async def test_serve_reports_serving_then_drains_on_sigterm(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    server.start()
    try:
        await wait_serving(server.address)
        async with grpc.aio.insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest())
            first = await watch.read()
            assert first.status == health_pb2.HealthCheckResponse.SERVING
            probe = await asyncio.to_thread(_cli, "healthcheck", "--target", server.address)
            assert probe.returncode == 0 and "SERVING" in probe.stdout
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            second = await asyncio.wait_for(watch.read(), timeout=15)
            assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
            watch.cancel()
        code = await asyncio.to_thread(server.process.wait, 30)
        assert code == 0
        probe = await asyncio.to_thread(_cli, "healthcheck", "--target", server.address)
        assert probe.returncode == 1
    finally:
        if server.process and server.process.poll() is None:
            server.process.kill()
