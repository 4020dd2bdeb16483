"""The secrets the test suite uses (API keys, passwords, credential plaintexts, tokens, master
keys), which must never appear in a log line; tests/secret_guard.py checks every line for them.

Register a secret where the test defines it: `RAW_KEY = register_secret("sk-...")`."""

from __future__ import annotations

__all__ = ["MIN_SECRET_LENGTH", "known_secrets", "register_secret"]

# Shorter values ("k", "pw") would match ordinary text and fail the suite for nothing.
MIN_SECRET_LENGTH = 6

_known: set[str] = set()


def register_secret(value: str) -> str:
    """Adds `value` to the secrets no log line may contain; returns it for use in tests."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"a registered test secret needs at least {MIN_SECRET_LENGTH} characters, so it "
            "cannot match ordinary log text"
        )
    _known.add(value)
    return value


def known_secrets() -> frozenset[str]:
    """Every secret registered so far."""
    return frozenset(_known)
