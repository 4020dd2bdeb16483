"""The `serve` flags of health checking, each also settable by environment variable."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from engines.health import HealthSettings

__all__ = ["add_health_arguments", "health_settings"]

_DEFAULTS = HealthSettings()

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
    for name in ("health_connect_timeout", "health_read_timeout", "health_slow_ms"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    return HealthSettings(
        min_interval=timedelta(seconds=args.health_min_interval),
        slow_after_ms=args.health_slow_ms,
        history_retention=timedelta(days=args.health_history_days),
        connect_timeout_seconds=args.health_connect_timeout,
        read_timeout_seconds=args.health_read_timeout,
        background_interval=(
            timedelta(seconds=args.health_interval) if args.health_interval > 0 else None
        ),
    )
