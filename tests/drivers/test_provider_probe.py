"""The httpx provider probe against a real local HTTP server: the request each provider gets
(method, path, headers, query, body) and what the probe observes for each kind of answer."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from drivers.health.provider_probe import HttpProviderProbe
from engines.health.probes import ProbeFailure
from engines.integrations.integration import HealthState, Integration, IntegrationStatus, ProviderType
from tests.fake_provider import FakeProvider, fake_provider
from tests.secrets_registry import register_secret
from tests.support import loopback_guard

KEY = register_secret("sk-test-" + uuid.uuid4().hex)


def integration(
    provider: ProviderType, config: Mapping[str, Any], default_model: str = ""
) -> Integration:
    now = datetime.now(timezone.utc)
    return Integration(
        id=str(uuid.uuid4()), tenant_id=str(uuid.uuid4()), name="i", provider_type=provider,
        credential_ref="env://X", config=dict(config), default_model=default_model,
        status=IntegrationStatus.ENABLED, health_state=HealthState.UNKNOWN, health_message="",
        health_checked_at=None, budget_limit_cents=0, token_limit_month=0, rate_limit_rpm=0,
        created_by="t", create_time=now, update_time=now,
    )


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as running:
        yield running


@pytest.fixture
async def probe() -> AsyncIterator[HttpProviderProbe]:
    http = HttpProviderProbe(egress=loopback_guard(), connect_timeout_seconds=2, read_timeout_seconds=0.3)
    yield http
    await http.aclose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("provider_type", "config_of", "method", "path", "headers", "query"),
    [
        pytest.param(
            ProviderType.OPENAI, lambda base: {"base_url": base}, "GET", "/r/v1/models",
            {"authorization": f"Bearer {KEY}"}, {}, id="openai",
        ),
        pytest.param(
            ProviderType.ANTHROPIC, lambda base: {"base_url": base}, "GET", "/r/v1/models",
            {"x-api-key": KEY, "anthropic-version": "2023-06-01"}, {}, id="anthropic",
        ),
        pytest.param(
            ProviderType.GOOGLE, lambda base: {"base_url": base + "/"}, "GET",
            "/r/v1beta/models", {"x-goog-api-key": KEY}, {}, id="google",
        ),
        pytest.param(
            ProviderType.AZURE_OPENAI,
            lambda base: {"azure_endpoint": base, "deployment_name": "gpt4o", "api_version": "2024-10-21"},
            "GET", "/r/openai/deployments/gpt4o", {"api-key": KEY},
            {"api-version": "2024-10-21"}, id="azure",
        ),
        pytest.param(
            ProviderType.CUSTOM,
            lambda base: {"health_url": base + "/healthz", "auth_header": "X-Key"},
            "GET", "/r/healthz", {"x-key": KEY}, {}, id="custom-header",
        ),
        pytest.param(
            ProviderType.CUSTOM, lambda base: {"health_url": base + "/healthz"}, "GET",
            "/r/healthz", {"authorization": f"Bearer {KEY}"}, {}, id="custom-default-bearer",
        ),
    ],
)
async def test_default_probe_lists_models_unbilled(
    provider: FakeProvider,
    probe: HttpProviderProbe,
    provider_type: ProviderType,
    config_of: Any,
    method: str,
    path: str,
    headers: dict[str, str],
    query: dict[str, str],
) -> None:
    base = provider.route("r")
    observation = await probe.probe(integration(provider_type, config_of(base)), KEY)
    assert observation.status_code == 200 and observation.failure is None
    (seen,) = provider.requests
    assert (seen.method, seen.path, seen.query, seen.body) == (method, path, query, b"")
    for name, value in headers.items():
        assert seen.headers[name] == value
    # The key goes only where the provider expects it.
    others = {k: v for k, v in seen.headers.items() if k not in headers}
    assert KEY not in json.dumps(others)
    if not query:
        assert KEY not in seen.path and not seen.query


@pytest.mark.parametrize(
    ("provider_type", "config_of", "path", "body_check"),
    [
        pytest.param(
            ProviderType.OPENAI, lambda base: {"base_url": base}, "/r/v1/chat/completions",
            lambda b: b["model"] == "m1" and b["max_tokens"] == 16, id="openai",
        ),
        pytest.param(
            ProviderType.ANTHROPIC, lambda base: {"base_url": base, "probe_max_tokens": 4},
            "/r/v1/messages", lambda b: b["model"] == "m1" and b["max_tokens"] == 4,
            id="anthropic-max-tokens",
        ),
        pytest.param(
            ProviderType.GOOGLE, lambda base: {"base_url": base}, "/r/v1beta/models/m1:generateContent",
            lambda b: b["generationConfig"]["maxOutputTokens"] == 16, id="google",
        ),
        pytest.param(
            ProviderType.AZURE_OPENAI,
            lambda base: {"azure_endpoint": base, "deployment_name": "d"},
            "/r/openai/deployments/d/chat/completions",
            lambda b: b["max_tokens"] == 16 and "model" not in b, id="azure",
        ),
    ],
)
async def test_generation_probe_is_minimal(
    provider: FakeProvider,
    probe: HttpProviderProbe,
    provider_type: ProviderType,
    config_of: Any,
    path: str,
    body_check: Any,
) -> None:
    config = {**config_of(provider.route("r")), "probe": "generation"}
    observation = await probe.probe(integration(provider_type, config, "m1"), KEY)
    assert observation.status_code == 200
    (seen,) = provider.requests
    assert (seen.method, seen.path) == ("POST", path)
    assert body_check(json.loads(seen.body))


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 429, 500, 503])
async def test_status_is_observed(
    provider: FakeProvider, probe: HttpProviderProbe, status: int
) -> None:
    base = provider.route("r", status=status)
    observation = await probe.probe(integration(ProviderType.OPENAI, {"base_url": base}), KEY)
    assert (observation.status_code, observation.failure) == (status, None)


async def test_refused_connection(probe: HttpProviderProbe) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    observation = await probe.probe(integration(ProviderType.GOOGLE, {"base_url": base}), KEY)
    assert observation.failure is ProbeFailure.CONNECT_FAILED
    assert observation.status_code is None
    assert KEY not in observation.detail


async def test_read_timeout(provider: FakeProvider, probe: HttpProviderProbe) -> None:
    base = provider.route("slow", delay=5)
    observation = await probe.probe(integration(ProviderType.GOOGLE, {"base_url": base}), KEY)
    assert observation.failure is ProbeFailure.TIMEOUT
    assert "0.3 s" in observation.detail and KEY not in observation.detail


@pytest.mark.parametrize(
    ("provider_type", "config", "failure"),
    [
        pytest.param(ProviderType.BEDROCK, {}, ProbeFailure.UNSUPPORTED, id="bedrock"),
        pytest.param(ProviderType.AZURE_OPENAI, {}, ProbeFailure.MISCONFIGURED, id="azure-no-endpoint"),
        pytest.param(ProviderType.CUSTOM, {}, ProbeFailure.MISCONFIGURED, id="custom-no-url"),
        pytest.param(
            ProviderType.OPENAI, {"probe": "generation"}, ProbeFailure.MISCONFIGURED,
            id="generation-without-model",
        ),
        pytest.param(ProviderType.OPENAI, {"probe": "chat"}, ProbeFailure.MISCONFIGURED, id="bad-mode"),
    ],
)
async def test_unprobeable_sends_nothing(
    probe: HttpProviderProbe, provider_type: ProviderType, config: dict[str, Any],
    failure: ProbeFailure,
) -> None:
    observation = await probe.probe(integration(provider_type, config), KEY)
    assert observation.failure is failure and observation.detail
