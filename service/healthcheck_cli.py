"""`integrations-service healthcheck`: exit 0 when a server's grpc.health.v1 reports SERVING,
over plaintext or TLS (the container HEALTHCHECK and people debugging a replica use it)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.tls import channel_credentials

__all__ = ["add_healthcheck_command", "run_healthcheck"]


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"INTEGRATIONS_HEALTHCHECK_{name}") or default


def add_healthcheck_command(commands: Any) -> argparse.ArgumentParser:
    """Adds `healthcheck` and its flags to the CLI's subcommands; returns its parser."""
    probe = commands.add_parser(
        "healthcheck", help="exit 0 when a server's grpc.health.v1 reports SERVING"
    )
    probe.add_argument("--target", default=_env("TARGET", "127.0.0.1:50051"),
                       help="HOST:PORT (env INTEGRATIONS_HEALTHCHECK_TARGET)")
    probe.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    probe.add_argument("--service", default="",
                       help="health service name: '' (ready, the default) or 'liveness'")
    tls = probe.add_argument_group(
        "TLS", "any of these turns TLS on; env INTEGRATIONS_HEALTHCHECK_TLS_CA and so on"
    )
    tls.add_argument("--tls", action="store_true", default=bool(_env("TLS")),
                     help="TLS with the system's CA roots")
    tls.add_argument("--tls-ca", default=_env("TLS_CA"), help="PEM CA of the server certificate")
    tls.add_argument("--tls-cert", default=_env("TLS_CERT"),
                     help="PEM client certificate, for a server with mutual TLS")
    tls.add_argument("--tls-key", default=_env("TLS_KEY"), help="PEM key of --tls-cert")
    tls.add_argument("--tls-server-name", default=_env("TLS_SERVER_NAME"),
                     help="name the server certificate must carry, when not the target's host")
    return probe  # type: ignore[no-any-return]


def _channel(args: argparse.Namespace) -> grpc.aio.Channel:
    if not (args.tls or args.tls_ca or args.tls_cert or args.tls_key or args.tls_server_name):
        return grpc.aio.insecure_channel(args.target)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key must be given together")
    options = [("grpc.ssl_target_name_override", args.tls_server_name)] if args.tls_server_name else []
    credentials = channel_credentials(args.tls_ca, args.tls_cert, args.tls_key)
    return grpc.aio.secure_channel(args.target, credentials, options=options)


async def run_healthcheck(args: argparse.Namespace) -> int:
    """Prints `<target>: <status>`; 0 when SERVING, 1 otherwise or when unreachable."""
    async with _channel(args) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.aio.AioRpcError as exc:
            detail = (exc.details() or "").splitlines()[0][:200] if exc.details() else ""
            print(f"{args.target}: {exc.code().name} {detail}".rstrip(), file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.target}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1
