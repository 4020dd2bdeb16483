"""The service's Prometheus metrics, kept in one registry per Application (so several servers in
one process do not collide), and the observers engines report probe and query outcomes to.

Names and labels are documented in docs/metrics.md; RPC metrics have the names, labels and code
spellings of go-grpc-prometheus (and py-grpc-prometheus), so their dashboards and alerts apply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from engines.sql_gateway.results import TruncationReason

__all__ = ["LATENCY_BUCKETS", "RPC_LABELS", "ServiceMetrics", "go_code_name", "split_method"]

# Seconds; from a cached read (~1 ms) to the longest probe or query timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Seconds a checkout waits for a connection: a free one is ~50 µs, a new one a few ms.
POOL_WAIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                     0.5, 1.0, 2.5, 5.0)

# go-grpc-prometheus labels every RPC series with these (and `grpc_code` on handled_total).
RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")

# grpc-go's codes.Code.String(): what go-grpc-prometheus puts in `grpc_code`.
_GO_CODE_NAMES = {
    "OK": "OK", "CANCELLED": "Canceled", "UNKNOWN": "Unknown",
    "INVALID_ARGUMENT": "InvalidArgument", "DEADLINE_EXCEEDED": "DeadlineExceeded",
    "NOT_FOUND": "NotFound", "ALREADY_EXISTS": "AlreadyExists",
    "PERMISSION_DENIED": "PermissionDenied", "RESOURCE_EXHAUSTED": "ResourceExhausted",
    "FAILED_PRECONDITION": "FailedPrecondition", "ABORTED": "Aborted", "OUT_OF_RANGE": "OutOfRange",
    "UNIMPLEMENTED": "Unimplemented", "INTERNAL": "Internal", "UNAVAILABLE": "Unavailable",
    "DATA_LOSS": "DataLoss", "UNAUTHENTICATED": "Unauthenticated",
}


def go_code_name(code: str) -> str:
    """`NOT_FOUND` (grpc.StatusCode's name, as logs spell it) -> `NotFound` (as grpc-go does)."""
    return _GO_CODE_NAMES.get(code, "Unknown")


def split_method(method: str) -> tuple[str, str]:
    """`/pkg.Service/Method` -> ("pkg.Service", "Method")."""
    service, _, name = method.lstrip("/").partition("/")
    return service, name


class ServiceMetrics:
    """Every metric the service exports; also the ProbeObserver and QueryObserver of engines."""

    def __init__(self, pool_in_use: Callable[[], Coroutine[Any, Any, int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._pool_in_use = pool_in_use
        rpc = RPC_LABELS
        self.rpcs_started = Counter(
            "grpc_server_started", "RPCs started on the server.", rpc, registry=self.registry
        )
        self.rpcs_handled = Counter(
            "grpc_server_handled", "RPCs completed on the server, regardless of success or failure.",
            [*rpc, "grpc_code"], registry=self.registry,
        )
        self.msgs_received = Counter(
            "grpc_server_msg_received", "RPC stream messages received on the server.",
            rpc, registry=self.registry,
        )
        self.msgs_sent = Counter(
            "grpc_server_msg_sent", "gRPC stream messages sent by the server.",
            rpc, registry=self.registry,
        )
        self.rpc_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from receiving an RPC to its status (authentication included).",
            rpc, buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.rpcs_in_flight = Gauge(
            "grpc_server_in_flight", "RPCs being served now (not in go-grpc-prometheus).",
            rpc, registry=self.registry,
        )
        self.pool_connections_in_use = Gauge(
            "integrations_db_pool_in_use",
            "Connections to the service's own database checked out of the pool (read at scrape).",
            registry=self.registry,
        )
        self.pool_wait_seconds = Histogram(
            "integrations_db_pool_wait_seconds",
            "Time a call waited for a connection to the service's own database (a free one from "
            "the pool, or a new one opened), by pool: transaction or read (autocommit).",
            ["pool"], buckets=POOL_WAIT_BUCKETS, registry=self.registry,
        )
        for pool in ("transaction", "read"):
            self.pool_wait_seconds.labels(pool)
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
        self.admission_unchecked = Counter(
            "integrations_admission_unchecked",
            "Calls AdmitCall admitted without checking limits (storage unavailable, the "
            "integration fail_open), by provider type.",
            ["provider"], registry=self.registry,
        )

    # -- drivers.kernel.database.Database.on_pool_wait ----------------------------------------------

    def pool_waited(self, pool: str, seconds: float) -> None:
        self.pool_wait_seconds.labels(pool).observe(seconds)

    # -- engines.kernel.observability.ProbeObserver --------------------------------------------------

    def probe_finished(self, provider: str, state: str, latency_ms: int) -> None:
        self.probes.labels(provider, state).inc()
        self.probe_seconds.labels(provider).observe(latency_ms / 1000)

    # -- engines.kernel.observability.QueryObserver --------------------------------------------------

    def query_finished(self, rows: int, result_bytes: int, truncation: str | None) -> None:
        self.sql_queries.inc()
        self.sql_rows.inc(rows)
        self.sql_bytes.inc(result_bytes)
        if truncation:
            self.sql_truncations.labels(truncation).inc()

    def query_timed_out(self) -> None:
        self.sql_timeouts.inc()

    # -- engines.kernel.observability.AdmissionObserver ----------------------------------------------

    def admitted_unchecked(self, provider: str) -> None:
        self.admission_unchecked.labels(provider).inc()

    # -- exposition ---------------------------------------------------------------------------

    def read_pool_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Makes the pool gauge read `pool_in_use()` on `loop` at every scrape (scrapes are
        answered on the endpoint's threads, the pool lives on the server's loop)."""

        def in_use() -> float:
            return asyncio.run_coroutine_threadsafe(self._pool_in_use(), loop).result(timeout=5)

        self.pool_connections_in_use.set_function(in_use)
