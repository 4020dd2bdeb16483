"""At start the server opens one stored secret per master-key version and says loudly, in one
ERROR line naming versions and counts (never a key), when the configured keys do not open them:
the README's docker run once regenerated the key on every start, and nothing said so."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from credentials.v1 import credentials_pb2 as pb
from credentials.v1 import credentials_pb2_grpc
from tests.bench.harness import postgres_database
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.support import new_tenant

KEY_A = "1:" + register_secret(base64.b64encode(os.urandom(32)).decode())
KEY_B = register_secret(base64.b64encode(os.urandom(32)).decode())
PLAINTEXT = register_secret("sk-master-key-check-" + os.urandom(8).hex())
LOUD = "STORED SECRETS DO NOT OPEN"


@contextlib.asynccontextmanager
async def _fresh_database(backend: str, tmp_path: Path, admin_url: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        return
    try:
        async with postgres_database(admin_url) as url:
            yield url
    except OSError:
        pytest.skip("PostgreSQL is not reachable")


async def _start_logging(url: str, keys: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="integrations.credentials"):
        async with started(serve_config(url, master_keys=keys, apply_migrations=True)):
            pass
    return [r.getMessage() for r in caplog.records
            if r.name == "integrations.credentials" and r.levelno >= logging.ERROR]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_unopenable_secrets_are_reported_at_start(
    backend: str, tmp_path: Path, postgres_admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with _fresh_database(backend, tmp_path, postgres_admin_url) as url:
        assert await _start_logging(url, KEY_A, caplog) == []  # nothing stored yet
        async with started(serve_config(url, master_keys=KEY_A)) as server:
            stub = server.stub(credentials_pb2_grpc.CredentialServiceStub)
            for name in ("one", "two"):
                await stub.CreateCredential(
                    pb.CreateCredentialRequest(tenant_id=new_tenant(), name=name, secret=PLAINTEXT)
                )
        assert await _start_logging(url, KEY_A, caplog) == []

        (regenerated,) = await _start_logging(url, f"1:{KEY_B}", caplog)
        assert LOUD in regenerated
        assert "2 sealed under master key version 1: the configured key version 1 is a " \
            "different key" in regenerated

        (dropped,) = await _start_logging(url, f"2:{KEY_B}", caplog)
        assert "2 sealed under master key version 1: no configured master key has version 1" \
            in dropped

        assert await _start_logging(url, f"{KEY_A},2:{KEY_B}", caplog) == []  # rotation: fine
