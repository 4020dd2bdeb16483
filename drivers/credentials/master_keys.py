"""Master keys of the credential service: parsing `CREDENTIAL_MASTER_KEYS` or a key file into a
`Keyring`, and the development key file `serve` creates when none is configured.

Format (variable or file): entries `<version>:<base64 of 32 bytes>`, separated by commas,
whitespace or newlines; `#` starts a comment in a file. The highest version seals new secrets.
Error messages name versions and files, never key material.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from engines.credentials.crypto import KEY_BYTES, Keyring

__all__ = [
    "MASTER_KEYS_ENV",
    "dev_key_path",
    "ensure_dev_key_file",
    "format_master_key",
    "load_key_file",
    "parse_master_keys",
]

MASTER_KEYS_ENV = "CREDENTIAL_MASTER_KEYS"
log = logging.getLogger("integrations.credentials")


def format_master_key(version: int, key: bytes) -> str:
    """One `<version>:<base64>` entry."""
    return f"{version}:{base64.b64encode(key).decode()}"


def parse_master_keys(text: str, *, source: str) -> Keyring:
    """A keyring from `<version>:<base64>` entries; ValueError naming `source` when malformed."""
    keys: dict[int, bytes] = {}
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    entries = [e for line in lines for e in line.replace(",", " ").split()]
    for position, entry in enumerate(entries, start=1):
        version_text, sep, encoded = entry.partition(":")
        if not sep or not version_text.isdigit() or int(version_text) < 1:
            raise ValueError(
                f"{source}: entry {position} must be <version>:<base64 key> with version >= 1"
            )
        version = int(version_text)
        if version in keys:
            raise ValueError(f"{source}: master key version {version} appears twice")
        try:
            key = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{source}: master key version {version} is not base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"{source}: master key version {version} must decode to {KEY_BYTES} bytes"
            )
        keys[version] = key
    if not keys:
        raise ValueError(f"{source}: no master key found")
    return Keyring(keys)


def load_key_file(path: Path) -> Keyring:
    """Reads a key file; warns when others than its owner may read it."""
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read master key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("master key file %s is readable by others than its owner; chmod 600 it", path)
    return parse_master_keys(text, source=str(path))


def dev_key_path(database_url: str) -> Path:
    """Where the development key lives: next to a SQLite database file, else in the working
    directory."""
    parsed = make_url(database_url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        db_path = Path(database)
        return db_path.with_name(f"{db_path.stem}.master.key")
    return Path("integrations-dev.master.key")


def ensure_dev_key_file(path: Path) -> Keyring:
    """Loads the development key file, creating it (mode 0600, one random key) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        content = (
            "# Development master key of the integrations credential service. Never use in\n"
            "# production: configure CREDENTIAL_MASTER_KEYS or --master-key-file instead.\n"
            f"{format_master_key(1, os.urandom(KEY_BYTES))}\n"
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_key_file(path)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
    return load_key_file(path)
