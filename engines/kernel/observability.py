"""Ports through which engines report what they observed (probe outcomes, query results) to
whatever measures them, without knowing how it is measured; and a default that discards it.

Observers are called inline on the engine's path, so implementations must be cheap and must
not raise (a counter increment, not I/O)."""

from __future__ import annotations

from typing import Protocol

__all__ = [
    "NULL_OBSERVER",
    "AdmissionObserver",
    "NullObserver",
    "ProbeObserver",
    "QueryObserver",
    "ServiceObserver",
]


class ProbeObserver(Protocol):
    """Told the outcome of every provider probe a health check ran (not of cached results)."""

    def probe_finished(self, provider: str, state: str, latency_ms: int) -> None:
        """`provider` and `state` are the engine's enum values (e.g. "openai", "healthy")."""


class QueryObserver(Protocol):
    """Told the outcome of every query the SQL gateway ran on a tenant database."""

    def query_finished(self, rows: int, result_bytes: int, truncation: str | None) -> None:
        """A query returned `rows` rows of `result_bytes` bytes; `truncation` names the cap
        that cut the result short ("max_rows", "max_result_bytes") or is None."""

    def query_timed_out(self) -> None:
        """A query ran past its time limit and was cancelled."""


class AdmissionObserver(Protocol):
    """Told of every call AdmitCall admitted unchecked (fail_open during a storage outage)."""

    def admitted_unchecked(self, provider: str) -> None:
        """`provider` is the integration's provider type (e.g. "openai")."""


class ServiceObserver(ProbeObserver, QueryObserver, AdmissionObserver, Protocol):
    """Observes everything the engines report (what the composition root hands them)."""


class NullObserver:
    """Observes nothing: the default of every engine that takes an observer."""

    def probe_finished(self, provider: str, state: str, latency_ms: int) -> None:
        return None

    def query_finished(self, rows: int, result_bytes: int, truncation: str | None) -> None:
        return None

    def query_timed_out(self) -> None:
        return None

    def admitted_unchecked(self, provider: str) -> None:
        return None


NULL_OBSERVER = NullObserver()
