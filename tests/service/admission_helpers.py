"""Builders for AdmissionService calls shared by the end-to-end tests and the benchmark."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf import duration_pb2

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.service.integrations_helpers import create_integration

__all__ = [
    "admit",
    "enabled_integration",
    "set_policy",
    "settle",
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
