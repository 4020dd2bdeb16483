"""The server the bad-input tests aim at: a real server process on a SQLite file, seeded with one
resource of every kind for one tenant, and a digest of every stored row so a test can tell that
a refused call changed nothing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from tests.bench.harness import ServerProcess, wait_serving
from tests.faults.malformed_messages import Seeds
from tests.faults.rpcs import Rpc, all_rpcs
from tests.faults.slow_provider import PROVIDER_KEY, PROVIDER_KEY_VARIABLE
from tests.secrets_registry import register_secret

__all__ = ["FuzzTarget", "fuzz_target", "MAX_MESSAGE_BYTES", "UNCHANGED_EXEMPT_TABLES"]

MAX_MESSAGE_BYTES = 256 * 1024
# The credential access log records every reveal, refused ones included (docs/credentials.md):
# a refused call that appends to it is doing its job.
UNCHANGED_EXEMPT_TABLES = frozenset({"credential_access_events", "alembic_version"})
DSN_PASSWORD = register_secret("fault-dsn-password")
CLOSED_PORT_DSN = f"postgresql://reader:{DSN_PASSWORD}@127.0.0.1:9/warehouse"
SEEDED_SECRETS = (
    register_secret("seed-credential-secret"),
    register_secret("seed-data-source-password"),
)


@dataclass
class FuzzTarget:
    """A running server, a blocking channel to it, and what was seeded."""

    server: ServerProcess
    channel: grpc.Channel
    database_file: Path
    seeds: Seeds
    log_path: Path

    def rpc(self, path: str) -> Rpc:
        return next(r for r in all_rpcs() if r.path == path)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Calls `path` with a request given as proto JSON; returns the answer as a dict."""
        rpc = self.rpc(path)
        request = json_format.ParseDict(body, rpc.request_class()())
        reply = rpc.callable(self.channel)(request, timeout=10)
        return json_format.MessageToDict(reply)

    def snapshot(self) -> dict[str, str]:
        """A digest of every row of every table (but the exempt ones)."""
        conn = sqlite3.connect(f"file:{self.database_file}?mode=ro", uri=True)
        try:
            tables = [
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if row[0] not in UNCHANGED_EXEMPT_TABLES
            ]
            digests = {}
            for table in tables:
                rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{table}"'))
                digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            return digests
        finally:
            conn.close()


def _seed(target: FuzzTarget, tenant: str) -> Seeds:
    ids: list[str] = []
    names: list[str] = []

    def create(path: str, body: dict[str, Any], *id_keys: str) -> dict[str, Any]:
        reply = target.call(path, {"tenant_id": tenant, **body})
        for key in id_keys or ("id",):
            ids.append(reply[key])
        names.append(reply.get("name", ""))
        return reply

    create(
        "/integrations.v1.IntegrationsService/CreateIntegration",
        {"integration": {
            "name": "seed-openai", "provider_type": "PROVIDER_TYPE_OPENAI",
            "credential_ref": f"env://{PROVIDER_KEY_VARIABLE}",
            "config": {"base_url": "http://127.0.0.1:9/v1"}, "budget_limit_cents": "100",
        }},
    )
    create(
        "/integrations.v1.ConnectorsService/RegisterConnector",
        {"connector": {
            "name": "seed-http", "connector_type": "CONNECTOR_TYPE_HTTP",
            "endpoint": "http://127.0.0.1:9/",
        }},
    )
    create(
        "/integrations.v1.DataSourcesService/RegisterDataSource",
        {"data_source": {
            "name": "seed-db", "source_type": "DATA_SOURCE_TYPE_DATABASE", "tags": ["seed"],
            "config": {"host": "127.0.0.1", "port": 9, "username": "u", "password": SEEDED_SECRETS[1],
                       "database": "warehouse"},
        }},
    )
    template = create(
        "/integrations.v1.SqlGatewayService/CreateQueryTemplate",
        {"template": {
            "id": "seed-orders", "name": "orders", "sql": "SELECT $1::text AS status",
            "parameters": [{"name": "status", "type": "PARAMETER_TYPE_STRING", "required": True}],
        }},
    )
    create(
        "/integrations.v1.SqlGatewayService/CreateGateway",
        {"gateway": {
            "name": "seed-gw", "connection_string_ref": "env://DEV_FAULT_TEST_DSN",
            "allowed_template_ids": [template["id"]],
        }},
    )
    create(
        "/credentials.v1.CredentialService/CreateCredential",
        {"name": "seed-secret", "secret": SEEDED_SECRETS[0]},
    )
    reply = target.call(
        "/integrations.v1.PreventionService/CreatePreventionRecord",
        {"candidate": {
            "policy_id": "policy-1", "pattern_id": "pattern-1", "tenant_id": tenant,
            "blocked_incident_id": "inc-2", "original_incident_id": "inc-1",
            "signature_match_confidence": 0.9, "policy_mode": "active",
            "pattern_signature": {"path": "/v1/chat"},
        }},
    )
    ids.append(reply["id"])
    return Seeds(tenants=(tenant,), ids=tuple(ids), names=tuple(n for n in names if n))


@contextlib.contextmanager
def fuzz_target(directory: Path) -> Iterator[FuzzTarget]:
    """Starts the server process on a fresh SQLite file in `directory`, seeds it, yields it."""
    database_file = directory / "fuzz.db"
    log_path = directory / "server.log"
    server = ServerProcess(
        f"sqlite+aiosqlite:///{database_file}",
        "--max-message-bytes", str(MAX_MESSAGE_BYTES), "--allow-env-credentials",
        env={
            PROVIDER_KEY_VARIABLE: PROVIDER_KEY,
            "DEV_FAULT_TEST_DSN": CLOSED_PORT_DSN,
        },
        log_path=log_path,
    )
    server.start()
    try:
        asyncio.run(wait_serving(server.address))
        with grpc.insecure_channel(server.address) as channel:
            target = FuzzTarget(server, channel, database_file, Seeds((), ()), log_path)
            target.seeds = _seed(target, str(uuid.uuid4()))
            yield target
    finally:
        assert server.stop() == 0
