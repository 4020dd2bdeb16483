"""The HTTP request each provider's health probe sends: an unbilled model listing by default,
or a minimal generation when an integration's `config.probe` is "generation".

Base URLs come from the integration's config and default to each provider's public endpoint.
The built requests hold the key; they are passed to httpx and never logged or shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from engines.integrations.integration import Integration, ProviderType

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_AZURE_API_VERSION",
    "DEFAULT_BASE_URLS",
    "DEFAULT_MAX_TOKENS",
    "ProbeRequest",
    "UnprobeableIntegration",
    "probe_request",
]

DEFAULT_BASE_URLS = {
    ProviderType.OPENAI: "https://api.openai.com",
    ProviderType.ANTHROPIC: "https://api.anthropic.com",
    ProviderType.GOOGLE: "https://generativelanguage.googleapis.com",
}
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_AZURE_API_VERSION = "2024-06-01"
DEFAULT_MAX_TOKENS = 16
_PROMPT = "ping"


class UnprobeableIntegration(Exception):
    """The integration's provider or config cannot be probed; the message is safe to show."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """One HTTP request to send; `repr` hides headers and query (they may hold the key)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    params: Mapping[str, str] = field(default_factory=dict, repr=False)
    json: Any = None


def _base(integration: Integration, key: str = "base_url") -> str:
    configured = integration.config.get(key)
    if configured:
        return str(configured).rstrip("/")
    default = DEFAULT_BASE_URLS.get(integration.provider_type)
    if default is None:
        raise UnprobeableIntegration(f"config.{key} is required to probe this provider")
    return default


def _model(integration: Integration) -> str:
    model = str(integration.config.get("model") or integration.default_model)
    if not model:
        raise UnprobeableIntegration(
            "a generation probe needs default_model (or config.model)"
        )
    return model


def _max_tokens(integration: Integration) -> int:
    value = integration.config.get("probe_max_tokens", DEFAULT_MAX_TOKENS)
    try:
        tokens = int(value)
    except (TypeError, ValueError):
        raise UnprobeableIntegration("config.probe_max_tokens must be a positive integer") from None
    if tokens < 1:
        raise UnprobeableIntegration("config.probe_max_tokens must be a positive integer")
    return tokens


def _chat_body(integration: Integration, *, with_model: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": _PROMPT}],
        "max_tokens": _max_tokens(integration),
    }
    if with_model:
        body["model"] = _model(integration)
    return body


def _openai(integration: Integration, key: str, generate: bool) -> ProbeRequest:
    headers = {"Authorization": f"Bearer {key}"}
    base = _base(integration)
    if generate:
        return ProbeRequest("POST", f"{base}/v1/chat/completions", headers, json=_chat_body(integration))
    return ProbeRequest("GET", f"{base}/v1/models", headers)


def _anthropic(integration: Integration, key: str, generate: bool) -> ProbeRequest:
    headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    base = _base(integration)
    if generate:
        return ProbeRequest("POST", f"{base}/v1/messages", headers, json=_chat_body(integration))
    return ProbeRequest("GET", f"{base}/v1/models", headers)


def _google(integration: Integration, key: str, generate: bool) -> ProbeRequest:
    # The Gemini API takes the key as a header as well as the documented `?key=`; a header keeps
    # it out of every URL (proxy logs, error texts, traces).
    headers = {"x-goog-api-key": key}
    base = _base(integration)
    if generate:
        body = {
            "contents": [{"parts": [{"text": _PROMPT}]}],
            "generationConfig": {"maxOutputTokens": _max_tokens(integration)},
        }
        model = quote(_model(integration), safe="")
        return ProbeRequest(
            "POST", f"{base}/v1beta/models/{model}:generateContent", headers=headers, json=body
        )
    return ProbeRequest("GET", f"{base}/v1beta/models", headers=headers)


def _azure(integration: Integration, key: str, generate: bool) -> ProbeRequest:
    endpoint = _base(integration, "azure_endpoint")
    deployment = str(integration.config.get("deployment_name") or "")
    if not deployment:
        raise UnprobeableIntegration("config.deployment_name is required to probe Azure OpenAI")
    params = {"api-version": str(integration.config.get("api_version") or DEFAULT_AZURE_API_VERSION)}
    url = f"{endpoint}/openai/deployments/{quote(deployment, safe='')}"
    headers = {"api-key": key}
    if generate:
        body = _chat_body(integration, with_model=False)
        return ProbeRequest("POST", f"{url}/chat/completions", headers, params, json=body)
    return ProbeRequest("GET", url, headers, params)


def _custom(integration: Integration, key: str, generate: bool) -> ProbeRequest:
    url = str(integration.config.get("health_url") or "")
    if not url:
        raise UnprobeableIntegration("config.health_url is required to probe a custom provider")
    header = str(integration.config.get("auth_header") or "Authorization")
    default_prefix = "Bearer " if header.lower() == "authorization" else ""
    prefix = str(integration.config.get("auth_prefix", default_prefix))
    return ProbeRequest("GET", url, {header: f"{prefix}{key}"})


_BUILDERS: dict[ProviderType, Callable[[Integration, str, bool], ProbeRequest]] = {
    ProviderType.OPENAI: _openai,
    ProviderType.ANTHROPIC: _anthropic,
    ProviderType.GOOGLE: _google,
    ProviderType.AZURE_OPENAI: _azure,
    ProviderType.CUSTOM: _custom,
}


def probe_request(integration: Integration, key: str) -> ProbeRequest:
    """The request that checks `integration` with `key`; raises UnprobeableIntegration."""
    builder = _BUILDERS.get(integration.provider_type)
    if builder is None:
        raise UnprobeableIntegration(
            f"probing {integration.provider_type.value} integrations is not supported yet",
            unsupported=True,
        )
    mode = str(integration.config.get("probe") or "list")
    if mode not in ("list", "generation"):
        raise UnprobeableIntegration('config.probe must be "list" or "generation"')
    return builder(integration, key, mode == "generation")
