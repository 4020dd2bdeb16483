"""service.servicers.listing: a List response built from `Encoded` encodings equals the one
built message by message, and an encoding belongs to one value object only."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timezone

from engines.health.circuit import CircuitState
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationStatus,
    ProviderType,
)
from engines.kernel.pagination import Page
from integrations.v1 import integrations_pb2
from service.servicers.integrations.servicer import integration_to_proto
from service.servicers.listing import Encoded, list_response

T0 = datetime(2026, 5, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)


def _integration(name: str, **changes: object) -> Integration:
    made = Integration(
        id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), name=name,
        provider_type=ProviderType.OPENAI, credential_ref="env://K",
        config={"base_url": "http://x", "nested": {"a": [1, 2.5, None, True]}},
        default_model="m", status=IntegrationStatus.ENABLED, health_state=HealthState.HEALTHY,
        health_message="fine", health_checked_at=T0, budget_limit_cents=2**40,
        token_limit_month=7, rate_limit_rpm=2**31 - 1, created_by="svc", create_time=T0,
        update_time=T0, version=3,
        circuit=CircuitState(consecutive_failures=2, opened_at=T0, reason="r", next_probe_at=T0),
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_a_response_from_encodings_equals_one_built_message_by_message() -> None:
    encoded = Encoded(integration_to_proto)
    for items in ([], [_integration("one")], [_integration(f"n{i}") for i in range(150)]):
        page = Page(items=items, next_page_token="next" if items else "", total_size=151)
        plain = list_response(
            integrations_pb2.ListIntegrationsResponse, "integrations", page, integration_to_proto
        )
        for _ in range(2):  # built, then from the stored encodings
            fast = list_response(
                integrations_pb2.ListIntegrationsResponse, "integrations", page, encoded
            )
            assert fast == plain
            assert fast.SerializeToString(deterministic=True) == plain.SerializeToString(
                deterministic=True
            )


def test_an_encoding_is_never_served_for_another_object() -> None:
    encoded = Encoded(integration_to_proto, max_entries=2)
    first = _integration("a")
    assert encoded.message(first) == integration_to_proto(first)
    changed = replace(first, health_state=HealthState.UNHEALTHY, health_message="down")
    assert encoded.message(changed) == integration_to_proto(changed)
    assert encoded.message(first) == integration_to_proto(first)
    for i in range(10):  # bounded: the oldest stored are dropped
        item = _integration(f"b{i}")
        assert encoded.message(item) == integration_to_proto(item)
        assert len(encoded) <= 2
    again = encoded.message(first)
    again.name = "a caller may change its message"
    assert encoded.message(first) == integration_to_proto(first)
