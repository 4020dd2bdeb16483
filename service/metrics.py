"""The service's Prometheus metrics, kept in one registry per Application (so several servers in
one process do not collide), and the observers engines report probe and query outcomes to.

Names and labels are documented in docs/metrics.md; RPC metrics follow the names of
go-grpc-prometheus so existing gRPC dashboards work unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engines.sql_results import TruncationReason

__all__ = ["LATENCY_BUCKETS", "ServiceMetrics", "split_method"]

# Seconds; from a cached read (~1 ms) to the longest probe or query timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def split_method(method: str) -> tuple[str, str]:
    """`/pkg.Service/Method` -> ("pkg.Service", "Method")."""
    service, _, name = method.lstrip("/").partition("/")
    return service, name


class ServiceMetrics:
    """Every metric the service exports; also the ProbeObserver and QueryObserver of engines."""

    def __init__(self, pool_in_use: Callable[[], Awaitable[int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._pool_in_use = pool_in_use
        rpc = ("grpc_service", "grpc_method")
        self.rpcs_handled = Counter(
            "grpc_server_handled", "RPCs completed, by status code.",
            [*rpc, "grpc_code"], registry=self.registry,
        )
        self.rpc_seconds = Histogram(
            "grpc_server_handling_seconds", "Time from receiving an RPC to its status.",
            rpc, buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.rpcs_in_flight = Gauge(
            "grpc_server_in_flight", "RPCs being served now.", rpc, registry=self.registry
        )
        self.pool_connections_in_use = Gauge(
            "integrations_db_pool_in_use",
            "Connections to the service's own database checked out of the pool (read at scrape).",
            registry=self.registry,
        )
        self.probes = Counter(
            "integrations_health_probes", "Provider probes run by health checks, by outcome.",
            ["provider", "state"], registry=self.registry,
        )
        self.probe_seconds = Histogram(
            "integrations_health_probe_seconds", "Latency of provider probes.",
            ["provider"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.sql_queries = Counter(
            "integrations_sql_gateway_queries", "Queries the SQL gateway ran that returned rows.",
            registry=self.registry,
        )
        self.sql_rows = Counter(
            "integrations_sql_gateway_rows", "Rows returned by the SQL gateway.",
            registry=self.registry,
        )
        self.sql_bytes = Counter(
            "integrations_sql_gateway_result_bytes",
            "Bytes of rows returned by the SQL gateway (as serialized in responses).",
            registry=self.registry,
        )
        self.sql_truncations = Counter(
            "integrations_sql_gateway_truncations",
            "Results cut short by a cap, by the cap (max_rows, max_result_bytes).",
            ["reason"], registry=self.registry,
        )
        for reason in TruncationReason:  # every series exists from the start, at 0
            self.sql_truncations.labels(reason.value)
        self.sql_timeouts = Counter(
            "integrations_sql_gateway_timeouts",
            "Queries cancelled for running past their time limit.",
            registry=self.registry,
        )

    # -- engines.observability.ProbeObserver --------------------------------------------------

    def probe_finished(self, provider: str, state: str, latency_ms: int) -> None:
        self.probes.labels(provider, state).inc()
        self.probe_seconds.labels(provider).observe(latency_ms / 1000)

    # -- engines.observability.QueryObserver --------------------------------------------------

    def query_finished(self, rows: int, result_bytes: int, truncation: str | None) -> None:
        self.sql_queries.inc()
        self.sql_rows.inc(rows)
        self.sql_bytes.inc(result_bytes)
        if truncation:
            self.sql_truncations.labels(truncation).inc()

    def query_timed_out(self) -> None:
        self.sql_timeouts.inc()

    # -- exposition ---------------------------------------------------------------------------

    async def exposition(self) -> bytes:
        """The text format of every metric, with scrape-time gauges read now.

        Rendering takes milliseconds per thousand samples, so it runs in a worker thread rather
        than stalling the RPCs on the event loop (the registry is thread-safe)."""
        self.pool_connections_in_use.set(await self._pool_in_use())
        return await asyncio.to_thread(generate_latest, self.registry)
