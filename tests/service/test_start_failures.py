"""A server whose start fails half-way releases what it had opened: no database connection
(an aiosqlite worker thread each) outlives the refusal, and the error names the cause."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest

from service.bootstrap import create_server
from service.key_commands import rewrap_credentials
from tests.conftest import serve_config


async def _threads_settle(expected: int) -> int:
    for _ in range(50):
        if threading.active_count() <= expected:
            break
        await asyncio.sleep(0.02)
    return threading.active_count()


async def test_a_port_in_use_leaves_no_connection_open(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/start.db"
    before = threading.active_count()
    with socket.socket() as taken:  # bound without SO_REUSEPORT, so grpc cannot share it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(RuntimeError, match=listen):
            await create_server(serve_config(url, listen=listen, apply_migrations=True))
    assert await _threads_settle(before) == before
    app = await create_server(serve_config(url))  # migrated before the refusal: usable
    await app.stop(0)  # never started: stopped all the same (service/server_shutdown.py)


async def test_rewrap_under_openbao_without_local_keys_names_the_command(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/rewrap.db"
    config = serve_config(url, kms="openbao", master_keys=None, apply_migrations=True)
    with pytest.raises(ValueError, match="keys rotate-openbao"):
        await rewrap_credentials(config)
