"""The RPC metrics are go-grpc-prometheus' (and py-grpc-prometheus'): the same metric names, label
names, `grpc_type` values and `grpc_code` spellings, for unary, server-streaming and bidi
(server reflection) calls, including the credential calls the server makes to itself over its
internal listener; and /metrics is prometheus_client's exposition, gzip and OpenMetrics included."""

from __future__ import annotations

import asyncio
import gzip
import logging
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_provider import fake_provider
from tests.service.test_health import Client
from tests.service.test_metrics import metered  # noqa: F401 - the fixture
from tests.support import RunningServer

# go-grpc-prometheus' server metrics and their labels, as its README documents them
# (github.com/grpc-ecosystem/go-grpc-prometheus; py-grpc-prometheus exports the same set).
GO_GRPC_PROMETHEUS = {
    "grpc_server_started_total": {"grpc_type", "grpc_service", "grpc_method"},
    "grpc_server_handled_total": {"grpc_type", "grpc_service", "grpc_method", "grpc_code"},
    "grpc_server_msg_received_total": {"grpc_type", "grpc_service", "grpc_method"},
    "grpc_server_msg_sent_total": {"grpc_type", "grpc_service", "grpc_method"},
    "grpc_server_handling_seconds_bucket": {"grpc_type", "grpc_service", "grpc_method", "le"},
    "grpc_server_handling_seconds_sum": {"grpc_type", "grpc_service", "grpc_method"},
    "grpc_server_handling_seconds_count": {"grpc_type", "grpc_service", "grpc_method"},
}
GO_GRPC_TYPES = {"unary", "client_stream", "server_stream", "bidi_stream"}
# grpc-go's codes.Code.String().
GO_CODES = {
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
}
# Series this service adds under the grpc_server_ prefix (documented in docs/metrics.md).
OWN_GRPC_SERIES = {"grpc_server_in_flight": {"grpc_type", "grpc_service", "grpc_method"}}
REFLECTION = {"grpc_type": "bidi_stream", "grpc_service": "grpc.reflection.v1alpha.ServerReflection",
              "grpc_method": "ServerReflectionInfo"}
GRPCURL = Path(sys.executable).parent / "grpcurl"

Sample = tuple[str, dict[str, str], float]


async def _scrape(server: RunningServer, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{server.app.metrics_port}/metrics",
                                    headers=headers)
    assert response.status_code == 200
    return response


def _samples(text: str) -> list[Sample]:
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text)
            for s in f.samples if s.name.startswith("grpc_server_") and not s.name.endswith("_created")]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(v for n, got, v in samples if n == name and labels.items() <= got.items())


async def _every_kind_of_call(server: RunningServer, tenant: str) -> None:
    client = Client(server, tenant)
    async with fake_provider() as provider:
        for name in ("a", "b"):
            await client.add(name, {"base_url": provider.route("ok")})  # env:// key: revealed
        streamed = [result async for result in client.check_all()]  # over the internal port
    assert len(streamed) == 2
    process = await asyncio.create_subprocess_exec(
        str(GRPCURL), "-plaintext", f"127.0.0.1:{server.app.port}", "describe",
        "integrations.v1.IntegrationsService",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err


async def test_names_labels_types_and_codes_are_go_grpc_prometheus(
    metered: RunningServer, tenant: str  # noqa: F811
) -> None:
    await _every_kind_of_call(metered, tenant)
    samples = _samples((await _scrape(metered)).text)
    label_names: dict[str, set[str]] = {}
    for name, labels, _ in samples:
        label_names.setdefault(name, set()).update(labels)
    assert label_names == GO_GRPC_PROMETHEUS | OWN_GRPC_SERIES
    assert {labels["grpc_type"] for _, labels, _ in samples} == {"unary", "server_stream",
                                                                 "bidi_stream"} <= GO_GRPC_TYPES
    codes = {labels["grpc_code"] for _, labels, _ in samples if "grpc_code" in labels}
    assert codes and codes <= GO_CODES


async def test_messages_of_streams_and_of_reflection_are_counted(
    metered: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    with caplog.at_level(logging.INFO, logger="integrations.rpc"):
        await _every_kind_of_call(metered, tenant)
    samples = _samples((await _scrape(metered)).text)
    check_all = {"grpc_type": "server_stream", "grpc_method": "CheckAllIntegrations"}
    assert _value(samples, "grpc_server_msg_received_total", **check_all) == 1
    assert _value(samples, "grpc_server_msg_sent_total", **check_all) == 2
    assert _value(samples, "grpc_server_handled_total", **check_all, grpc_code="OK") == 1
    received = _value(samples, "grpc_server_msg_received_total", **REFLECTION)
    assert received >= 1  # one request per symbol grpcurl looks up
    assert _value(samples, "grpc_server_msg_sent_total", **REFLECTION) == received
    assert _value(samples, "grpc_server_handled_total", **REFLECTION, grpc_code="OK") >= 1
    reveals = {"grpc_service": "credentials.v1.CredentialService", "grpc_method": "GetCredential"}
    assert _value(samples, "grpc_server_handled_total", **reveals, grpc_code="OK") >= 2
    logged = {record.getMessage() for record in caplog.records if record.name == "integrations.rpc"}
    assert "rpc /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo OK" in logged
    assert "rpc /credentials.v1.CredentialService/GetCredential OK" in logged


async def test_gzip_when_the_scraper_accepts_it(metered: RunningServer) -> None:  # noqa: F811
    async with httpx.AsyncClient() as client:
        raw = await client.send(
            client.build_request("GET", f"http://127.0.0.1:{metered.app.metrics_port}/metrics",
                                 headers={"Accept-Encoding": "gzip"}),
            stream=True,
        )
        compressed = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert raw.headers["content-encoding"] == "gzip"
    assert b"# TYPE grpc_server_handled_total counter" in gzip.decompress(compressed)
    plain = await _scrape(metered, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_openmetrics_when_the_scraper_asks_for_it(metered: RunningServer) -> None:  # noqa: F811
    await _scrape(metered)  # at least one RPC before: health Check is not counted here
    response = await _scrape(
        metered, Accept="application/openmetrics-text; version=1.0.0; charset=utf-8"
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text; version=")
    assert response.text.endswith("# EOF\n")
    names = {family.name for family in parse_openmetrics(response.text)}
    assert "integrations_db_pool_in_use" in names
    classic = await _scrape(metered, Accept="text/plain")
    assert classic.headers["content-type"].startswith("text/plain; version=")


async def test_a_stalled_scraper_is_dropped_without_holding_others_up(
    metered: RunningServer, capfd: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", metered.app.metrics_port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # the head never ends
    await writer.drain()
    await _scrape(metered)  # answered meanwhile, on another thread
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed after 5 s
    writer.close()
    assert "Traceback" not in capfd.readouterr().err
