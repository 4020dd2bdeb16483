"""engines/kernel/idempotency: request digests and what a replayed request_id answers (AIP-155)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from engines.credentials.crypto import Keyring
from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from engines.kernel.idempotency import Replay, idempotency_key, request_digest


@dataclass(frozen=True)
class Draft:
    name: str
    config: dict[str, object]


def test_digests_depend_on_the_request_only_not_on_key_order() -> None:
    assert request_digest(Draft("a", {"x": 1, "y": 2})) == request_digest(Draft("a", {"y": 2, "x": 1}))
    assert request_digest(Draft("a", {})) != request_digest(Draft("b", {}))


def test_no_request_id_means_no_key_and_long_ones_are_refused() -> None:
    assert idempotency_key("", Draft("a", {})) is None
    with pytest.raises(InvalidArgument):
        idempotency_key("r" * 129, Draft("a", {}))


def test_a_replay_answers_by_digest_then_by_deletion() -> None:
    key = idempotency_key("r1", Draft("a", {}))
    assert key is not None
    same = Replay("first", "id-1", key.digest, deleted=False)
    assert key.replay(same, resource="thing") == "first"
    legacy = Replay("first", "id-1", None, deleted=False)  # stored before digests were kept
    assert key.replay(legacy, resource="thing") == "first"
    with pytest.raises(FailedPrecondition) as reused:
        key.replay(Replay("first", "id-1", "another", deleted=False), resource="thing")
    assert reused.value.reason == "REQUEST_ID_REUSED"
    with pytest.raises(NotFound, match="thing 'id-1' was deleted"):
        key.replay(Replay("first", "id-1", key.digest, deleted=True), resource="thing")


async def test_secret_fingerprints_are_keyed_per_keyring_and_tenant() -> None:
    ring = Keyring({1: b"k" * 32})
    secret = b"sk-live-123"
    digest = await ring.fingerprint("t1", secret)
    assert digest == await Keyring({1: b"k" * 32, 2: b"n" * 32}).fingerprint("t1", secret)
    assert digest != await ring.fingerprint("t2", secret)
    assert digest != await Keyring({1: b"o" * 32}).fingerprint("t1", secret)
    assert digest != hashlib.sha256(secret).hexdigest()
