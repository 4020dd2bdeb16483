"""Circuit breaking of integration health: consecutive failed probes open the circuit (the
integration goes to ERROR with the reason), background probes of failing integrations back off
exponentially with jitter, and one successful forced probe closes it again.

Pure rules over a `CircuitState` the store keeps on the integration row, so every replica sees
the same circuit; the probe claim makes the read-modify-write of one integration exclusive.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from engines.kernel.errors import FailedPrecondition
from engines.kernel.jitter import Jitter, random_fraction

__all__ = [
    "CIRCUIT_OPEN",
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_FAILURE_THRESHOLD",
    "CircuitEvent",
    "CircuitSettings",
    "CircuitState",
    "Jitter",
    "after_probe",
    "backoff_delay",
    "is_due",
    "refuse_enable_while_open",
]

CIRCUIT_OPEN = "INTEGRATION_CIRCUIT_OPEN"
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_BACKOFF_BASE = timedelta(seconds=30)
DEFAULT_BACKOFF_MAX = timedelta(minutes=30)



class CircuitEvent(enum.StrEnum):
    """A transition a probe caused; NONE for most probes."""

    NONE = ""
    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    """`serve --health-failure-threshold` and `--health-backoff-max`; the base delay is the
    background interval (or 30 s)."""

    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    backoff_base: timedelta = DEFAULT_BACKOFF_BASE
    backoff_max: timedelta = DEFAULT_BACKOFF_MAX
    jitter_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("the failure threshold must be at least 1")
        if self.backoff_base <= timedelta(0) or self.backoff_max < self.backoff_base:
            raise ValueError("the backoff needs 0 < base <= max")
        if not 0 <= self.jitter_fraction < 1:
            raise ValueError("the jitter fraction must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class CircuitState:
    """What the store keeps per integration."""

    consecutive_failures: int = 0
    opened_at: datetime | None = None
    reason: str = ""
    next_probe_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


def backoff_delay(
    failures: int, settings: CircuitSettings, jitter: Jitter = random_fraction
) -> timedelta:
    """base * 2^(failures-1), at most the maximum, shortened by up to `jitter_fraction` so that
    replicas' and integrations' probes spread out instead of arriving together."""
    if failures <= 0:
        return timedelta(0)
    # 2^30 times any base is beyond any sensible maximum and far from timedelta's limit.
    exponential = settings.backoff_base * (2 ** min(failures - 1, 30))
    capped: timedelta = min(exponential, settings.backoff_max)
    return capped * (1 - settings.jitter_fraction * jitter())


def after_probe(
    current: CircuitState,
    failed: bool,
    message: str,
    *,
    forced: bool,
    now: datetime,
    settings: CircuitSettings,
    jitter: Jitter = random_fraction,
) -> tuple[CircuitState, CircuitEvent]:
    """The circuit after a probe; `failed` when it found the provider UNHEALTHY (DEGRADED,
    slow or rate limited, still serves calls).

    A failure counts, opens the circuit at the threshold and schedules the next background
    probe. A success resets the count; it closes an open circuit only when `forced` (a caller's
    TestCredentials or CheckHealth with force): a background probe never re-enables traffic."""
    if failed:
        failures = current.consecutive_failures + 1
        opened_at, reason, event = current.opened_at, current.reason, CircuitEvent.NONE
        if opened_at is None and failures >= settings.failure_threshold:
            opened_at, event = now, CircuitEvent.OPENED
            reason = f"{failures} consecutive failed health probes; last: {message}"
        return (
            CircuitState(
                failures, opened_at, reason, now + backoff_delay(failures, settings, jitter)
            ),
            event,
        )
    if current.is_open and not forced:
        return CircuitState(0, current.opened_at, current.reason, None), CircuitEvent.NONE
    event = CircuitEvent.CLOSED if current.is_open else CircuitEvent.NONE
    return CircuitState(), event


def is_due(current: CircuitState, now: datetime) -> bool:
    """Whether a background probe may run now."""
    return current.next_probe_at is None or current.next_probe_at <= now


def refuse_enable_while_open(current: CircuitState, integration_id: str) -> None:
    """EnableIntegration's check: FAILED_PRECONDITION while the circuit is open."""
    if current.is_open:
        raise FailedPrecondition(
            CIRCUIT_OPEN,
            f"integration {integration_id} has an open circuit ({current.reason}); a successful "
            "TestCredentials closes it",
            metadata={"consecutive_failures": str(current.consecutive_failures)},
        )
