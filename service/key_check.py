"""Says loudly at start when stored secrets do not open under the configured master keys (a
regenerated CREDENTIAL_MASTER_KEYS, a dropped key version), naming counts and versions only."""

from __future__ import annotations

import logging

from engines.credentials.envelope_keyring import ENVELOPE_KEY_VERSION
from engines.credentials.keyrings import SealingKeyring
from engines.credentials.master_key_check import SealSamples, UnopenedKey, check_master_keys
from engines.kernel.errors import Unavailable

__all__ = ["warn_on_unopened_secrets"]

log = logging.getLogger("integrations.credentials")


def _describe(problem: UnopenedKey) -> str:
    if problem.key_version == ENVELOPE_KEY_VERSION:
        if not problem.configured:
            return (f"{problem.secrets} sealed under OpenBao data keys (key version 0): "
                    "start with --kms openbao")
        return (f"{problem.secrets} sealed under OpenBao data keys (key version 0): a tenant's "
                "data key does not open them (another transit key or OpenBao instance?)")
    if problem.configured:
        why = (f"the configured key version {problem.key_version} is a different key "
               "(was CREDENTIAL_MASTER_KEYS or the key file regenerated?)")
    else:
        why = f"no configured master key has version {problem.key_version}"
    return f"{problem.secrets} sealed under master key version {problem.key_version}: {why}"


async def warn_on_unopened_secrets(
    keyring: SealingKeyring, samples: SealSamples
) -> list[UnopenedKey]:
    """Opens one stored secret per key version; logs an ERROR line for those that do not open."""
    try:
        problems = await check_master_keys(keyring, samples)
    except Unavailable:
        log.warning("master-key check skipped: the database or key service is unavailable")
        return []
    if problems:
        log.error(
            "STORED SECRETS DO NOT OPEN with the configured master keys (versions %s): %s. Every "
            "reveal of them fails with CREDENTIAL_CORRUPTED until the keys that sealed them are "
            "configured again; new secrets are sealed under version %d.",
            ", ".join(map(str, keyring.versions)),
            "; ".join(_describe(p) for p in problems),
            keyring.newest_version,
        )
    return problems
