"""The `serve` flags of health checking, each also settable by environment variable."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

from engines.health import HealthSettings

__all__ = ["add_health_arguments", "health_settings"]

_DEFAULTS = HealthSettings()


def _env(name: str, default: object) -> str:
    return os.environ.get(f"INTEGRATIONS_{name}", str(default))


def add_health_arguments(serve: argparse.ArgumentParser) -> None:
    """Adds --health-* flags to the `serve` parser."""
    group = serve.add_argument_group("health checks")
    group.add_argument(
        "--health-interval",
        type=float,
        default=float(_env("HEALTH_INTERVAL", 0)),
        metavar="SECONDS",
        help="check every tenant's stale enabled integrations in the background this often; "
        "0 turns it off (env INTEGRATIONS_HEALTH_INTERVAL; default 0)",
    )
    group.add_argument(
        "--health-min-interval",
        type=float,
        default=float(_env("HEALTH_MIN_INTERVAL", _DEFAULTS.min_interval.total_seconds())),
        metavar="SECONDS",
        help="probe one integration at most once per this window without force "
        "(env INTEGRATIONS_HEALTH_MIN_INTERVAL; default 60)",
    )
    group.add_argument(
        "--health-slow-ms",
        type=int,
        default=int(_env("HEALTH_SLOW_MS", _DEFAULTS.slow_after_ms)),
        help="a 200 slower than this is DEGRADED (env INTEGRATIONS_HEALTH_SLOW_MS; default 2000)",
    )
    group.add_argument(
        "--health-connect-timeout",
        type=float,
        default=float(_env("HEALTH_CONNECT_TIMEOUT", _DEFAULTS.connect_timeout_seconds)),
        metavar="SECONDS",
        help="probe connect timeout (env INTEGRATIONS_HEALTH_CONNECT_TIMEOUT; default 5)",
    )
    group.add_argument(
        "--health-read-timeout",
        type=float,
        default=float(_env("HEALTH_READ_TIMEOUT", _DEFAULTS.read_timeout_seconds)),
        metavar="SECONDS",
        help="probe read timeout (env INTEGRATIONS_HEALTH_READ_TIMEOUT; default 10)",
    )
    group.add_argument(
        "--health-history-days",
        type=float,
        default=float(_env("HEALTH_HISTORY_DAYS", _DEFAULTS.history_retention.days)),
        help="keep probe history this long (env INTEGRATIONS_HEALTH_HISTORY_DAYS; default 30)",
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
