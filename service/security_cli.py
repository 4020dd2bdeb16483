"""Command-line options of the credential service and caller authentication (`serve` flags and
the `rewrap` command), kept apart from `service/cli.py` so that file stays small."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from drivers.credentials.master_keys import MASTER_KEYS_ENV
from engines.credentials.env_credentials import DEFAULT_ENV_PREFIXES
from service.config import ServeConfig
from service.key_commands import rewrap_credentials
from service.kms_cli import add_keys_command as _add_keys_command
from service.kms_cli import add_kms_arguments, kms_values, run_keys, run_openbao_rewrap

__all__ = [
    "add_keys_command",
    "add_rewrap_command",
    "add_security_arguments",
    "run_key_command",
    "run_rewrap",
    "security_values",
]

log = logging.getLogger("integrations.credentials")
CREDENTIALS_TOKEN_ENV = "INTEGRATIONS_CREDENTIALS_TOKEN"
ENV_PREFIX_ENV = "INTEGRATIONS_ENV_CREDENTIAL_PREFIX"


def _env(name: str) -> str | None:
    return os.environ.get(f"INTEGRATIONS_{name}") or None


def _add_key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--master-key-file",
        default=_env("MASTER_KEY_FILE"),
        help=f"file of <version>:<base64 32-byte key> entries (env INTEGRATIONS_MASTER_KEY_FILE); "
        f"or set {MASTER_KEYS_ENV} to the same entries",
    )
    parser.add_argument(
        "--min-key-version",
        type=int,
        default=int(_env("MIN_KEY_VERSION") or 0),
        help="retire master key versions below this: secrets and encrypted:// refs sealed "
        "under them are refused (FAILED_PRECONDITION CREDENTIAL_KEY_RETIRED) until rewrapped "
        "(env INTEGRATIONS_MIN_KEY_VERSION; local master keys only)",
    )
    parser.add_argument(
        "--production",
        action="store_true",
        default=_env("PRODUCTION") == "1",
        help="refuse to start without a configured master key (env INTEGRATIONS_PRODUCTION=1)",
    )
    add_kms_arguments(parser)


def add_security_arguments(serve: argparse.ArgumentParser) -> None:
    """Flags of `serve` for caller authentication, TLS, master keys and topology."""
    serve.add_argument(
        "--callers",
        default=_env("CALLERS"),
        help="caller file (YAML or JSON): callers: [{name, token_sha256, scopes, tenants}]; "
        "without it only a loopback address may be bound (env INTEGRATIONS_CALLERS)",
    )
    serve.add_argument("--tls-cert", default=_env("TLS_CERT"), help="PEM server certificate")
    serve.add_argument("--tls-key", default=_env("TLS_KEY"), help="PEM server private key")
    serve.add_argument(
        "--tls-client-ca",
        default=_env("TLS_CLIENT_CA"),
        help="PEM CA of client certificates: turns on mutual TLS (client certificates required)",
    )
    _add_key_arguments(serve)
    serve.add_argument(
        "--allow-env-credentials",
        action="store_true",
        default=_env("ALLOW_ENV_CREDENTIALS") == "1",
        help="development only: resolve env://NAME refs from this process's environment",
    )
    serve.add_argument(
        "--env-credential-prefix",
        action="append",
        default=None,
        metavar="PREFIX",
        help="env:// refs resolve only names starting with one of these (repeatable; env "
        f"{ENV_PREFIX_ENV}, comma separated; default {','.join(DEFAULT_ENV_PREFIXES)}); the "
        "service's own variables never",
    )
    serve.add_argument(
        "--only",
        choices=["credentials"],
        default=_env("ONLY"),
        help="serve only the credential service",
    )
    serve.add_argument(
        "--credentials-target",
        default=_env("CREDENTIALS_TARGET"),
        help="HOST:PORT of a remote credential service to use instead of the in-process one; "
        f"its bearer token comes from {CREDENTIALS_TOKEN_ENV}",
    )
    serve.add_argument(
        "--credentials-tls-ca",
        default=_env("CREDENTIALS_TLS_CA"),
        help="PEM CA of the remote credential service: connect with TLS",
    )
    serve.add_argument(
        "--credentials-tls-cert",
        default=_env("CREDENTIALS_TLS_CERT"),
        help="PEM client certificate for a remote credential service that requires mutual TLS",
    )
    serve.add_argument(
        "--credentials-tls-key",
        default=_env("CREDENTIALS_TLS_KEY"),
        help="PEM private key of --credentials-tls-cert",
    )


def security_values(args: argparse.Namespace) -> dict[str, Any]:
    """The ServeConfig fields these flags (and the key/token environment variables) set."""
    return {
        "callers_file": args.callers,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "tls_client_ca": args.tls_client_ca,
        "master_keys": os.environ.get(MASTER_KEYS_ENV) or None,
        "master_key_file": args.master_key_file,
        "min_key_version": args.min_key_version,
        "production": args.production,
        "allow_env_credentials": args.allow_env_credentials,
        "env_credential_prefixes": _env_prefixes(args),
        "only": args.only,
        "credentials_target": args.credentials_target,
        "credentials_token": os.environ.get(CREDENTIALS_TOKEN_ENV) or None,
        "credentials_tls_ca": args.credentials_tls_ca,
        "credentials_tls_cert": args.credentials_tls_cert,
        "credentials_tls_key": args.credentials_tls_key,
        **kms_values(args),
    }


def _env_prefixes(args: argparse.Namespace) -> tuple[str, ...]:
    if args.env_credential_prefix:
        return tuple(args.env_credential_prefix)
    configured = os.environ.get(ENV_PREFIX_ENV)
    if configured:
        return tuple(p.strip() for p in configured.split(","))
    return DEFAULT_ENV_PREFIXES


def add_rewrap_command(commands: Any) -> argparse.ArgumentParser:
    """`rewrap`: re-encrypt every stored credential under the newest master key."""
    rewrap: argparse.ArgumentParser = commands.add_parser(
        "rewrap",
        help="re-encrypt every stored credential under the newest master key and report how "
        "many were rewrapped (never prints a secret)",
    )
    _add_key_arguments(rewrap)
    return rewrap


def add_keys_command(commands: Any) -> argparse.ArgumentParser:
    """`keys ACTION`, with the master-key and `--kms` flags."""
    return _add_keys_command(commands, _add_key_arguments)


def _key_command_config(args: argparse.Namespace) -> ServeConfig:
    return ServeConfig(
        database_url=args.database_url,
        master_keys=os.environ.get(MASTER_KEYS_ENV) or None,
        master_key_file=args.master_key_file,
        min_key_version=args.min_key_version,
        production=args.production,
        **kms_values(args),
    )


async def run_key_command(args: argparse.Namespace) -> int:
    """`keys ACTION` (service/kms_cli.py)."""
    return await run_keys(_key_command_config(args), args.action)


async def run_rewrap(args: argparse.Namespace) -> int:
    config = _key_command_config(args)
    if config.kms == "openbao":
        return await run_openbao_rewrap(config)
    result = await rewrap_credentials(config)
    print(
        f"rewrapped {result.rewrapped} stored credential secrets to master key version "
        f"{result.key_version}; {result.failed} could not be opened with the configured keys"
    )
    return 1 if result.failed else 0
