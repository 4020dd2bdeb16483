"""`integrations-service`: serve the gRPC API, or apply database migrations."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import signal
import sys

from drivers.kernel.connect_errors import explain_connect_failure
from drivers.kernel.database import DEFAULT_DATABASE_URL
from service.bootstrap import apply_migrations, create_server
from service.config import ServeConfig
from service.egress_options import add_egress_arguments, egress_values
from service.health_options import add_health_arguments, health_settings
from service.healthcheck_cli import add_healthcheck_command, run_healthcheck
from service.logs import configure_logging
from service.security_cli import (
    add_keys_command,
    add_rewrap_command,
    add_security_arguments,
    run_key_command,
    run_rewrap,
    security_values,
)

__all__ = ["main"]

log = logging.getLogger("integrations.server")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"INTEGRATIONS_{name}", default)


def _version() -> str:
    try:
        return importlib.metadata.version("integrations-service")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def _logging_flags(parser: argparse.ArgumentParser, defaults: bool) -> None:
    # On the main parser with their defaults, and on every command with SUPPRESS, so they are
    # accepted before or after the command (`serve --log-format text`) and the last one wins.
    parser.add_argument(
        "--log-format",
        choices=["json", "text"],
        default=_env("LOG_FORMAT", "json") if defaults else argparse.SUPPRESS,
        help="log line format (env INTEGRATIONS_LOG_FORMAT; default json)",
    )
    parser.add_argument(
        "--log-level",
        default=_env("LOG_LEVEL", "INFO") if defaults else argparse.SUPPRESS,
        help="DEBUG, INFO, WARNING or ERROR (env INTEGRATIONS_LOG_LEVEL; default INFO)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="integrations-service", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _logging_flags(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_database(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--database-url",
            default=_env("DATABASE_URL", DEFAULT_DATABASE_URL),
            help="sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db "
            "(env INTEGRATIONS_DATABASE_URL; default ./integrations.db)",
        )

    serve = commands.add_parser("serve", help="apply migrations, then serve gRPC")
    with_database(serve)
    serve.add_argument(
        "--listen",
        default=_env("LISTEN", "127.0.0.1:50051"),
        help="HOST:PORT to bind (env INTEGRATIONS_LISTEN; default 127.0.0.1:50051)",
    )
    serve.add_argument(
        "--grace-seconds",
        type=float,
        default=float(_env("GRACE_SECONDS", "10")),
        help="how long in-flight calls may finish after SIGTERM (env INTEGRATIONS_GRACE_SECONDS)",
    )
    serve.add_argument(
        "--max-message-bytes",
        type=int,
        default=int(_env("MAX_MESSAGE_BYTES", str(4 * 1024 * 1024))),
        help="largest request or response accepted (env INTEGRATIONS_MAX_MESSAGE_BYTES)",
    )
    # SQL gateway: connection pools to tenant databases.
    serve.add_argument(
        "--sql-pool-size",
        type=int,
        default=int(_env("SQL_POOL_SIZE", "10")),
        help="connections per tenant database (env INTEGRATIONS_SQL_POOL_SIZE; default 10)",
    )
    serve.add_argument(
        "--sql-max-pools",
        type=int,
        default=int(_env("SQL_MAX_POOLS", "32")),
        help="tenant databases with an open pool at once (env INTEGRATIONS_SQL_MAX_POOLS)",
    )
    serve.add_argument(
        "--sql-pool-idle-seconds",
        type=float,
        default=float(_env("SQL_POOL_IDLE_SECONDS", "300")),
        help="idle connections and pools close after this (env INTEGRATIONS_SQL_POOL_IDLE_SECONDS)",
    )
    serve.add_argument(
        "--sql-credential-cache-seconds",
        type=float,
        default=float(_env("SQL_CREDENTIAL_CACHE_SECONDS", "30")),
        help="reuse a gateway's revealed connection string this long; a rotation is noticed "
        "within it (env INTEGRATIONS_SQL_CREDENTIAL_CACHE_SECONDS; 0 reveals on every query)",
    )
    serve.add_argument(
        "--integration-cache-seconds",
        type=float,
        default=float(_env("INTEGRATION_CACHE_SECONDS", "2")),
        help="the staleness bound of cached integrations across replicas when their change "
        "notifications are not being received (env INTEGRATIONS_INTEGRATION_CACHE_SECONDS; 0 "
        "reads every GetIntegration from the database)",
    )
    serve.add_argument(
        "--sql-gateway-cache-seconds",
        type=float,
        default=float(_env("SQL_GATEWAY_CACHE_SECONDS", "2")),
        help="the staleness bound of ExecuteQuery's cached gateways and templates across replicas "
        "when their change notifications are not being received (env "
        "INTEGRATIONS_SQL_GATEWAY_CACHE_SECONDS; 0 reads them from the database on every query)",
    )
    serve.add_argument(
        "--limit-event-poll-seconds",
        type=float,
        default=float(_env("LIMIT_EVENT_POLL_SECONDS", "2")),
        help="how often limit event watchers and the webhook deliverer look for events when no "
        "notification wakes them (env INTEGRATIONS_LIMIT_EVENT_POLL_SECONDS)",
    )
    serve.add_argument(
        "--webhook-max-attempts",
        type=int,
        default=int(_env("WEBHOOK_MAX_ATTEMPTS", "12")),
        help="attempts to deliver a limit event to its webhook before giving up (env "
        "INTEGRATIONS_WEBHOOK_MAX_ATTEMPTS)",
    )
    serve.add_argument(
        "--webhook-backoff-seconds",
        type=float,
        default=float(_env("WEBHOOK_BACKOFF_SECONDS", "10")),
        help="the wait after a failed webhook delivery, doubled after each further failure (at "
        "most an hour, a random half of it taken off) (env INTEGRATIONS_WEBHOOK_BACKOFF_SECONDS)",
    )
    serve.add_argument(
        "--webhook-timeout-seconds",
        type=float,
        default=float(_env("WEBHOOK_TIMEOUT_SECONDS", "10")),
        help="how long one webhook POST may take (env INTEGRATIONS_WEBHOOK_TIMEOUT_SECONDS)",
    )
    add_security_arguments(serve)
    add_health_arguments(serve)
    add_egress_arguments(serve)
    serve.add_argument(
        "--metrics-listen",
        default=_env("METRICS_LISTEN", "") or None,
        help="HOST:PORT serving Prometheus metrics at /metrics (env INTEGRATIONS_METRICS_LISTEN; "
        "default off)",
    )

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    with_database(migrate)
    with_database(add_rewrap_command(commands))
    with_database(add_keys_command(commands))  # master keys in OpenBao (docs/openbao.md)

    add_healthcheck_command(commands)
    for command in commands.choices.values():
        _logging_flags(command, defaults=False)
    return parser


async def _serve(args: argparse.Namespace) -> int:
    config = ServeConfig(
        listen=args.listen,
        database_url=args.database_url,
        grace_seconds=args.grace_seconds,
        max_message_bytes=args.max_message_bytes,
        sql_pool_size=args.sql_pool_size,
        sql_max_pools=args.sql_max_pools,
        sql_pool_idle_seconds=args.sql_pool_idle_seconds,
        sql_credential_cache_seconds=args.sql_credential_cache_seconds,
        integration_cache_seconds=args.integration_cache_seconds,
        sql_gateway_cache_seconds=args.sql_gateway_cache_seconds,
        limit_event_poll_seconds=args.limit_event_poll_seconds,
        webhook_max_attempts=args.webhook_max_attempts,
        webhook_backoff_seconds=args.webhook_backoff_seconds,
        webhook_timeout_seconds=args.webhook_timeout_seconds,
        **security_values(args),
        health=health_settings(args),
        **egress_values(args),
        metrics_listen=args.metrics_listen,
    )
    app = await create_server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    log.info("serving on %s (port %d)", config.listen, app.port)
    if app.metrics_port:
        log.info("metrics on %s (port %d)", config.metrics_listen, app.metrics_port)
    await stop.wait()
    log.info("shutting down: health NOT_SERVING, %.1fs grace for in-flight calls",
             config.grace_seconds)
    await app.stop(config.grace_seconds)
    log.info("stopped")
    return 0


async def _migrate(args: argparse.Namespace) -> int:
    await apply_migrations(args.database_url)
    log.info("migrations applied")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    runner = {
        "serve": _serve,
        "migrate": _migrate,
        "healthcheck": run_healthcheck,
        "rewrap": run_rewrap,
        "keys": run_key_command,
    }[args.command]
    try:
        return asyncio.run(runner(args))
    except ValueError as exc:  # bad configuration: say what, no traceback
        log.error("%s", exc)
        return 2
    except Exception as exc:
        reason = explain_connect_failure(exc, getattr(args, "database_url", "") or "")
        if reason is None:
            raise
        log.error("%s", reason)  # a database the operator can fix: one line, no traceback
        return 2


if __name__ == "__main__":
    sys.exit(main())
