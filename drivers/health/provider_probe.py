"""`engines.health.probes.ProviderProbe` over httpx: one shared client, configurable timeouts, and
failures reported by kind only. Exception texts are never used: httpx puts URLs in them, and a
URL may carry a secret (a custom health URL's query)."""

from __future__ import annotations

import logging
import time

import httpx

from drivers.egress.guard import EgressGuard, guarded_http_client
from drivers.health.provider_requests import UnprobeableIntegration, probe_request
from engines.egress.endpoints import url_destination
from engines.health.probes import ProbeFailure, ProbeObservation
from engines.integrations.integration import Integration

__all__ = ["HttpProviderProbe"]

# httpx logs every request URL at INFO (and httpcore details at DEBUG); a Google probe's URL
# holds the key, so these loggers must stay quiet whatever level the service logs at.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


def _elapsed_ms(started: float) -> int:
    return int(round((time.perf_counter() - started) * 1000))


class HttpProviderProbe:
    """Sends probe requests with one pooled AsyncClient that connects only where `egress`
    allows (a refused destination raises EgressDenied); close it with `aclose()`."""

    def __init__(
        self,
        *,
        egress: EgressGuard,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 10.0,
        max_connections: int = 64,
    ) -> None:
        self._read_timeout = read_timeout_seconds
        self._client = guarded_http_client(
            egress,
            timeout=httpx.Timeout(
                connect=connect_timeout_seconds,
                read=read_timeout_seconds,
                write=connect_timeout_seconds,
                pool=connect_timeout_seconds,
            ),
            limits=httpx.Limits(max_connections=max_connections),
        )

    def destination(self, integration: Integration) -> str | None:
        try:
            url = probe_request(integration, "").url
        except UnprobeableIntegration:
            return None
        return url_destination(url)

    async def probe(self, integration: Integration, key: str) -> ProbeObservation:
        try:
            request = probe_request(integration, key)
        except UnprobeableIntegration as exc:
            failure = ProbeFailure.UNSUPPORTED if exc.unsupported else ProbeFailure.MISCONFIGURED
            return ProbeObservation(None, 0, failure, str(exc))
        started = time.perf_counter()
        try:
            response = await self._client.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                params=dict(request.params),
                json=request.json,
            )
            # The body is read (to free the connection) but never shown: it may echo the key.
            await response.aread()
        except httpx.ConnectTimeout:
            return self._failed(started, ProbeFailure.TIMEOUT, "timed out connecting to the provider")
        except httpx.TimeoutException:
            return self._failed(
                started,
                ProbeFailure.TIMEOUT,
                f"provider did not answer within {self._read_timeout:g} s",
            )
        except httpx.ConnectError:
            return self._failed(
                started, ProbeFailure.CONNECT_FAILED, "could not connect to the provider"
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return ProbeObservation(
                None, 0, ProbeFailure.MISCONFIGURED, "the configured provider URL is not valid"
            )
        except httpx.HTTPError:
            return self._failed(
                started,
                ProbeFailure.CONNECTION_ERROR,
                "the connection to the provider failed before an answer arrived",
            )
        return ProbeObservation(response.status_code, _elapsed_ms(started))

    def _failed(self, started: float, failure: ProbeFailure, detail: str) -> ProbeObservation:
        return ProbeObservation(None, _elapsed_ms(started), failure, detail)

    async def aclose(self) -> None:
        await self._client.aclose()
