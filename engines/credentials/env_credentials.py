"""Which environment variables an `env://NAME` ref may resolve (development only): names
starting with an allowed prefix, and never one of the service's own configuration variables,
whatever the prefixes say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_ENV_NAMES", "DEFAULT_ENV_PREFIXES", "RESERVED_ENV_PREFIXES", "EnvNamePolicy"]

DEFAULT_ENV_PREFIXES = ("CUS_CRED_", "LLM_API_KEY_", "DEV_")
# What the service itself (or a library it runs: libpq/asyncpg, grpc, OpenSSL, httpx) reads.
RESERVED_ENV_PREFIXES = (
    "INTEGRATIONS_",
    "CREDENTIAL_",  # CREDENTIAL_MASTER_KEYS
    "TEST_DATABASE_URL",
    "REQUIRE_POSTGRES",
    "PG",
    "GRPC_",
    "SSL_CERT_",
    "SSLKEYLOGFILE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "PYTHON",
)


@dataclass(frozen=True, slots=True)
class EnvNamePolicy:
    """The allowed prefixes of env:// names (case-sensitive, as environment names are)."""

    prefixes: tuple[str, ...] = DEFAULT_ENV_PREFIXES

    @classmethod
    def of(cls, prefixes: Sequence[str]) -> EnvNamePolicy:
        """Checks operator-given prefixes; raises ValueError for an empty one."""
        cleaned = tuple(p.strip() for p in prefixes)
        if not cleaned or any(not p for p in cleaned):
            raise ValueError("--env-credential-prefix must be a non-empty name prefix")
        return cls(cleaned)

    def allows(self, name: str) -> bool:
        """True when env://`name` may be resolved."""
        if name.upper().startswith(RESERVED_ENV_PREFIXES):
            return False
        return name.startswith(self.prefixes)

    def describe(self) -> str:
        """The allowed prefixes, for error messages."""
        return ", ".join(self.prefixes)


DEFAULT_ENV_NAMES = EnvNamePolicy()
