"""Refuses secrets smuggled into free-form fields (config, options, metadata, URL queries):
a key that looks like it names a secret is an error, so its value is never stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engines.kernel.errors import FieldViolation

__all__ = ["looks_secret", "secret_key_violations"]

_SECRET_WORDS = (
    "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "authorization",
    "private_key", "credential",
)


def looks_secret(key: str) -> bool:
    """True when `key` names something that is probably a secret (`db_password`, `apiKey`)."""
    lowered = key.lower().replace("-", "_")
    return any(word in lowered for word in _SECRET_WORDS)


def secret_key_violations(
    prefix: str, values: Mapping[str, Any], *, allowed: Iterable[str] = ()
) -> list[FieldViolation]:
    """One violation per secret-looking key, nested mappings included; values are never echoed."""
    exempt = set(allowed)
    violations = []
    for key, value in values.items():
        path = f"{prefix}.{key}"
        if key not in exempt and looks_secret(key):
            violations.append(
                FieldViolation(
                    path,
                    "looks like a secret; secrets are not accepted here: use the credential "
                    "service and pass a reference (or the dedicated input-only field)",
                )
            )
        elif isinstance(value, Mapping):
            violations.extend(secret_key_violations(path, value))
    return violations
