"""Command-line options of `--kms openbao` (on `serve`, `rewrap` and `keys`) and the `keys`
command: `migrate-to-openbao`, `migrate-to-local`, `rotate-openbao`. Output is counts only."""

from __future__ import annotations

import argparse
import os
from typing import Any

from drivers.credentials.openbao_client import OpenBaoSettings
from service.config import ServeConfig
from service.kms import KMS_CHOICES, SECRET_STORE_CHOICES

__all__ = ["add_keys_command", "add_kms_arguments", "kms_values", "run_keys", "run_openbao_rewrap"]


def _env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return default


def add_kms_arguments(parser: argparse.ArgumentParser) -> None:
    """`--kms` and the `--openbao-*` flags, each with its environment variable."""
    parser.add_argument(
        "--kms",
        choices=KMS_CHOICES,
        default=_env("INTEGRATIONS_KMS", default="local"),
        help="where credential keys live: local master keys (default) or OpenBao transit "
        "(envelope encryption, no master key on this host; env INTEGRATIONS_KMS)",
    )
    parser.add_argument(
        "--secret-store",
        choices=SECRET_STORE_CHOICES,
        default=_env("INTEGRATIONS_SECRET_STORE", default="local"),
        help="where the values of cus-vault:// credentials live: sealed in the service's "
        "database (local, default) or in OpenBao KV v2, with the --openbao-* connection "
        "(env INTEGRATIONS_SECRET_STORE)",
    )
    parser.add_argument(
        "--secret-store-mount",
        default=_env("INTEGRATIONS_SECRET_STORE_MOUNT", default="secret"),
        help="mount path of the KV v2 engine of --secret-store openbao (env "
        "INTEGRATIONS_SECRET_STORE_MOUNT; default secret)",
    )
    flags = [
        ("--openbao-address", ("INTEGRATIONS_OPENBAO_ADDRESS", "BAO_ADDR", "VAULT_ADDR"), None,
         "OpenBao URL, https://host:8200"),
        ("--openbao-transit-mount", ("INTEGRATIONS_OPENBAO_TRANSIT_MOUNT",), "transit",
         "mount path of the transit engine"),
        ("--openbao-key", ("INTEGRATIONS_OPENBAO_KEY",), "integrations",
         "transit key that wraps the data keys (create it with derived=true)"),
        ("--openbao-token-file", ("INTEGRATIONS_OPENBAO_TOKEN_FILE",), None,
         "file holding the service's token (re-read when OpenBao refuses it)"),
        ("--openbao-role-id", ("INTEGRATIONS_OPENBAO_ROLE_ID",), None, "AppRole role_id"),
        ("--openbao-secret-id-file", ("INTEGRATIONS_OPENBAO_SECRET_ID_FILE",), None,
         "file holding the AppRole secret_id"),
        ("--openbao-approle-mount", ("INTEGRATIONS_OPENBAO_APPROLE_MOUNT",), "approle",
         "mount path of the AppRole auth method"),
        ("--openbao-ca-file", ("INTEGRATIONS_OPENBAO_CA_FILE", "BAO_CACERT"), None,
         "PEM CA that signed OpenBao's TLS certificate"),
    ]
    for flag, names, default, text in flags:
        parser.add_argument(
            flag, default=_env(*names, default=default), help=f"{text} (env {' or '.join(names)})"
        )
    numbers = [
        ("--openbao-timeout-seconds", "INTEGRATIONS_OPENBAO_TIMEOUT_SECONDS", "5",
         "a call to OpenBao fails UNAVAILABLE after this"),
        ("--data-key-ttl-seconds", "INTEGRATIONS_DATA_KEY_TTL_SECONDS", "300",
         "how long an unwrapped tenant data key stays in memory"),
        ("--data-key-cache-size", "INTEGRATIONS_DATA_KEY_CACHE_SIZE", "10000",
         "most unwrapped data keys kept in memory"),
    ]
    for flag, name, default, text in numbers:
        parser.add_argument(flag, type=float, default=float(_env(name, default=default) or default),
                            help=f"{text} (env {name}; default {default})")


def kms_values(args: argparse.Namespace) -> dict[str, Any]:
    """The ServeConfig fields the `--kms` flags set."""
    return {
        "kms": args.kms,
        "secret_store": args.secret_store,
        "secret_store_mount": args.secret_store_mount,
        "openbao": OpenBaoSettings(
            address=args.openbao_address or "",
            transit_mount=args.openbao_transit_mount,
            key_name=args.openbao_key,
            token_file=args.openbao_token_file,
            approle_role_id=args.openbao_role_id,
            approle_secret_id_file=args.openbao_secret_id_file,
            approle_mount=args.openbao_approle_mount,
            ca_file=args.openbao_ca_file,
            timeout_seconds=args.openbao_timeout_seconds,
            data_key_ttl_seconds=args.data_key_ttl_seconds,
            max_data_keys=int(args.data_key_cache_size),
        ),
    }


def add_keys_command(commands: Any, add_key_arguments: Any) -> argparse.ArgumentParser:
    """`keys ACTION`: move stored secrets between keyrings, or rotate the OpenBao key."""
    keys: argparse.ArgumentParser = commands.add_parser(
        "keys",
        help="migrate stored secrets between the local keyring and OpenBao, or rotate the "
        "OpenBao transit key (prints counts, never a secret)",
    )
    keys.add_argument(
        "action",
        choices=["status", "migrate-to-openbao", "migrate-to-local", "rotate-openbao"],
        help="status: how many stored secrets each key version still seals (never a secret); "
        "migrate-to-openbao: re-seal every stored secret under OpenBao (needs the master "
        "keys and the --openbao-* flags); migrate-to-local: back under the newest master key; "
        "rotate-openbao: rotate the transit key, then re-wrap every data key",
    )
    add_key_arguments(keys)
    return keys


async def run_keys(config: ServeConfig, action: str) -> int:
    from service.key_commands import key_status, migrate_keyring, rotate_transit_key

    if action == "status":
        status = await key_status(config)
        for version, count in status.counts.items():
            notes = [note for note, applies in (
                ("newest", version == status.newest),
                ("retired: below --min-key-version", version < config.min_key_version),
                ("not configured", status.configured is not None
                 and version not in status.configured),
            ) if applies]
            print(f"key version {version}: {count} stored secret versions"
                  + (f" ({', '.join(notes)})" if notes else ""))
        if not status.counts:
            print("no stored secrets")
        return 0
    if action == "rotate-openbao":
        result = await rotate_transit_key(config)
        print(
            f"rotated transit key {config.openbao.transit_mount}/{config.openbao.key_name} to "
            f"version {result.kms_version}; re-wrapped {result.rewrapped} tenant data keys; "
            f"{result.failed} could not be re-wrapped"
        )
        return 1 if result.failed else 0
    to_openbao = action == "migrate-to-openbao"
    moved = await migrate_keyring(config, to_openbao=to_openbao)
    target = (
        f"OpenBao transit key {config.openbao.transit_mount}/{config.openbao.key_name}"
        if to_openbao
        else f"master key version {moved.key_version}"
    )
    print(
        f"re-sealed {moved.rewrapped} stored credential secrets under {target}; "
        f"{moved.failed} could not be opened with the configured keys"
    )
    return 1 if moved.failed else 0


async def run_openbao_rewrap(config: ServeConfig) -> int:
    """`rewrap --kms openbao`: data keys to the transit key's newest version."""
    from service.key_commands import rewrap_data_keys

    result = await rewrap_data_keys(config)
    print(
        f"re-wrapped {result.rewrapped} tenant data keys to transit key version "
        f"{result.kms_version}; {result.failed} could not be re-wrapped"
    )
    return 1 if result.failed else 0
