"""Builders for AdmissionService calls shared by the end-to-end tests and the benchmark."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from google.protobuf import duration_pb2

from drivers.kernel.database import Database
from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.fake_provider import SeenRequest
from tests.service.integrations_helpers import create_integration

__all__ = [
    "OutboxRow",
    "admit",
    "enabled_integration",
    "set_policy",
    "settle",
    "signed_by",
    "webhook_outbox",
]

Metadata = tuple[tuple[str, str], ...]


async def enabled_integration(
    stub: integrations_pb2_grpc.IntegrationsServiceStub,
    tenant_id: str,
    *,
    metadata: Metadata = (),
    **fields: Any,
) -> str:
    """An enabled integration of `tenant_id` with the given limits; returns its id."""
    fields.setdefault("config", {"base_url": "https://llm.example.com/v1"})
    fields.setdefault("default_model", "gpt-test")
    created = await create_integration(
        stub, tenant_id, f"admission-{uuid.uuid4().hex[:8]}", metadata=metadata, **fields
    )
    await stub.EnableIntegration(
        integrations_pb2.EnableIntegrationRequest(tenant_id=tenant_id, integration_id=created.id),
        metadata=metadata or None,
    )
    return str(created.id)


async def set_policy(
    stub: admission_pb2_grpc.AdmissionServiceStub,
    tenant_id: str,
    integration_id: str,
    *,
    ttl_seconds: float | None = None,
    **fields: Any,
) -> pb.AdmissionPolicy:
    policy = pb.AdmissionPolicy(integration_id=integration_id, **fields)
    if ttl_seconds is not None:
        policy.reservation_ttl.CopyFrom(duration_pb2.Duration(
            seconds=int(ttl_seconds), nanos=int((ttl_seconds % 1) * 1e9)
        ))
    return await stub.UpdateAdmissionPolicy(
        pb.UpdateAdmissionPolicyRequest(tenant_id=tenant_id, policy=policy)
    )


async def admit(
    stub: admission_pb2_grpc.AdmissionServiceStub,
    tenant_id: str,
    integration_id: str,
    call_id: str = "",
    *,
    metadata: Metadata = (),
    **fields: Any,
) -> pb.AdmitCallResponse:
    """AdmitCall with a fresh call_id unless one is given."""
    return await stub.AdmitCall(
        pb.AdmitCallRequest(
            tenant_id=tenant_id,
            integration_id=integration_id,
            call_id=call_id or f"call-{uuid.uuid4().hex}",
            **fields,
        ),
        metadata=metadata or None,
    )


async def settle(
    stub: admission_pb2_grpc.AdmissionServiceStub,
    tenant_id: str,
    call_id: str,
    *,
    metadata: Metadata = (),
    **fields: Any,
) -> pb.SettleCallResponse:
    return await stub.SettleCall(
        pb.SettleCallRequest(tenant_id=tenant_id, call_id=call_id, **fields),
        metadata=metadata or None,
    )


def signed_by(request: SeenRequest, secret: str) -> bool:
    """Whether a limit webhook delivery carries a valid `v1=` signature made with `secret`
    (HMAC-SHA256 of "<X-Integrations-Timestamp>.<body>")."""
    timestamp = request.headers["x-integrations-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(request.headers["x-integrations-signature"], f"v1={expected}")


class OutboxRow(NamedTuple):
    event_id: str
    attempts: int
    delivered_time: datetime | None
    last_error: str | None


async def webhook_outbox(database_url: str, tenant_id: str) -> list[OutboxRow]:
    """The tenant's webhook outbox rows, read straight from the database."""
    database = Database(database_url)
    try:
        async with database.read() as conn:
            result = await conn.execute(sa.text(
                "SELECT event_id, attempts, delivered_time, last_error "
                "FROM admission_webhook_outbox WHERE tenant_id = :t ORDER BY event_id"
            ), {"t": tenant_id})
            return [OutboxRow(*r) for r in result.all()]
    finally:
        await database.dispose()
