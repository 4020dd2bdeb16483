"""The `serve` flags of health checking, each also settable by environment variable."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from engines.health.checks import HealthSettings
from engines.health.circuit import DEFAULT_BACKOFF_BASE, CircuitSettings

__all__ = ["add_health_arguments", "health_settings"]

_DEFAULTS = HealthSettings()
_CIRCUIT = CircuitSettings()

# (flag, type, default, help); the environment variable is INTEGRATIONS_ + the flag in capitals.
_FLAGS: list[tuple[str, type, float, str]] = [
    (
        "health-interval", float, 0,
        "check every tenant's stale enabled integrations in the background every SECONDS; "
        "0 turns it off",
    ),
    (
        "health-min-interval", float, _DEFAULTS.min_interval.total_seconds(),
        "probe one integration at most once per this many seconds without force",
    ),
    ("health-slow-ms", int, _DEFAULTS.slow_after_ms, "a 200 slower than this is DEGRADED"),
    (
        "health-connect-timeout", float, _DEFAULTS.connect_timeout_seconds,
        "probe connect timeout in seconds",
    ),
    (
        "health-read-timeout", float, _DEFAULTS.read_timeout_seconds,
        "probe read timeout in seconds",
    ),
    ("health-history-days", float, _DEFAULTS.history_retention.days, "keep probe history this long"),
    (
        "health-failure-threshold", int, _CIRCUIT.failure_threshold,
        "open an integration's circuit (status ERROR) after this many failed probes in a row",
    ),
    (
        "health-backoff-max", float, _CIRCUIT.backoff_max.total_seconds(),
        "background probes of a failing integration back off exponentially (from the "
        "background interval) with jitter up to this many SECONDS",
    ),
]


def add_health_arguments(serve: argparse.ArgumentParser) -> None:
    """Adds the --health-* flags to the `serve` parser."""
    group = serve.add_argument_group("health checks")
    for flag, kind, default, description in _FLAGS:
        env = "INTEGRATIONS_" + flag.upper().replace("-", "_")
        group.add_argument(
            f"--{flag}",
            type=kind,
            default=kind(os.environ.get(env, default)),
            help=f"{description} (env {env}; default {default:g})",
        )


def health_settings(args: argparse.Namespace) -> HealthSettings:
    """HealthSettings from parsed flags; raises ValueError on out-of-range values."""
    for name in ("health_interval", "health_min_interval", "health_history_days"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must not be negative")
    for name in (
        "health_connect_timeout", "health_read_timeout", "health_slow_ms",
        "health_failure_threshold", "health_backoff_max",
    ):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    interval = timedelta(seconds=args.health_interval) if args.health_interval > 0 else None
    backoff_max = timedelta(seconds=args.health_backoff_max)
    circuit = CircuitSettings(
        failure_threshold=args.health_failure_threshold,
        backoff_base=min(interval or DEFAULT_BACKOFF_BASE, backoff_max),
        backoff_max=backoff_max,
    )
    return HealthSettings(
        min_interval=timedelta(seconds=args.health_min_interval),
        slow_after_ms=args.health_slow_ms,
        history_retention=timedelta(days=args.health_history_days),
        connect_timeout_seconds=args.health_connect_timeout,
        read_timeout_seconds=args.health_read_timeout,
        background_interval=interval,
        circuit=circuit,
    )
