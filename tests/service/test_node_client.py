"""A Node.js client (@grpc/grpc-js + @grpc/proto-loader, tests/node/client_test.mjs) calls the
real server: create, get, list with pagination, a decoded google.rpc error and, once the health
service is in protos/, the streaming CheckAllIntegrations."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from google.rpc import status_pb2

from tests.node_packages import ROOT, npm_ci
from tests.secrets_registry import register_secret
from tests.support import RunningServer

NODE_CLIENT = ROOT / "tests" / "node"
# The script's provider stand-in is reached with this key, resolved by the server (env:// ref).
PROVIDER_KEY_ENV = "DEV_NODE_CLIENT_TEST_PROVIDER_KEY"


@pytest.fixture
def backend() -> str:
    """The client exercises the API, not storage: SQLite is enough."""
    return "sqlite"


def _googleapis_protos() -> Path:
    """The folder holding google/rpc/status.proto, shipped by googleapis-common-protos."""
    folder = Path(status_pb2.__file__).resolve().parents[2]
    assert (folder / "google" / "rpc" / "error_details.proto").exists(), folder
    return folder


async def test_node_client_against_the_real_server(
    server: RunningServer, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: Node.js 20 is needed for the client test")
    await asyncio.to_thread(npm_ci, NODE_CLIENT)
    monkeypatch.setenv(PROVIDER_KEY_ENV, register_secret("sk-node-client-test-key"))
    process = await asyncio.create_subprocess_exec(
        node, str(NODE_CLIENT / "client_test.mjs"), server.address, tenant,
        str(_googleapis_protos()),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail("the node client did not finish within 60 s")
    text = output.decode()
    assert process.returncode == 0, f"node client failed:\n{text}"
    assert "node client: all checks passed" in text
    assert "BadRequest integration.credential_ref" in text
