"""Provider probes as the health rules see them: what a probe observed (an HTTP status or a kind
of failure), the port that sends probes, and the rules that turn an observation into health."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from engines.integrations.integration import HealthState, Integration

__all__ = ["ProbeFailure", "ProbeObservation", "ProviderProbe", "classify"]


class ProbeFailure(enum.StrEnum):
    """Why a probe got no HTTP status."""

    CONNECT_FAILED = "connect_failed"
    CONNECTION_ERROR = "connection_error"
    TIMEOUT = "timeout"
    UNSUPPORTED = "unsupported"
    MISCONFIGURED = "misconfigured"


@dataclass(frozen=True, slots=True)
class ProbeObservation:
    """What a provider probe saw: an HTTP status, or a failure; `detail` is safe to show."""

    status_code: int | None
    latency_ms: int
    failure: ProbeFailure | None = None
    detail: str = ""


class ProviderProbe(Protocol):
    """Sends one unbilled request (or, when configured, a minimal generation) to a provider."""

    async def probe(self, integration: Integration, key: str) -> ProbeObservation: ...

    def destination(self, integration: Integration) -> str | None:
        """The host:port the probe of `integration` sends its key to; None when it cannot be
        probed (then `probe` reports why without using the key)."""
        ...


def classify(observation: ProbeObservation, slow_after_ms: int) -> tuple[HealthState, str, str]:
    """The probe rules: (state, error_code, message). Only HTTP 200 is ever healthy."""
    status, latency = observation.status_code, observation.latency_ms
    if observation.failure is not None:
        failure = observation.failure
        state = (
            HealthState.UNKNOWN
            if failure in (ProbeFailure.UNSUPPORTED, ProbeFailure.MISCONFIGURED)
            else HealthState.UNHEALTHY
        )
        return state, failure.value, observation.detail or failure.value.replace("_", " ")
    if status == 200:
        if latency <= slow_after_ms:
            return HealthState.HEALTHY, "", f"provider answered in {latency} ms"
        return (
            HealthState.DEGRADED,
            "slow",
            f"provider answered slowly: {latency} ms (healthy within {slow_after_ms} ms)",
        )
    if status == 401:
        return HealthState.UNHEALTHY, "auth_failed", "provider rejected the credential (HTTP 401)"
    if status == 403:
        return (
            HealthState.UNHEALTHY,
            "access_denied",
            "the credential is not allowed to use this resource (HTTP 403)",
        )
    if status == 429:
        return HealthState.DEGRADED, "rate_limited", "provider is rate limiting (HTTP 429)"
    return HealthState.UNHEALTHY, f"http_{status}", f"provider answered HTTP {status}"
