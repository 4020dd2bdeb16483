"""Signed page tokens: only a token these keys issued for this very request (tenant, filters,
page size) continues a list; everything else is INVALID_ARGUMENT naming page_token."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timezone

import pytest

from engines.credentials.crypto import Keyring
from engines.kernel.errors import InvalidArgument
from engines.kernel.pagination import PageTokens, paginate, parse_page

T0 = datetime(2026, 3, 1, 12, 0, 0, 654321, tzinfo=timezone.utc)
FILTERS = {"tenant": "t-1", "status": "enabled"}
TOKENS = PageTokens([os.urandom(32)])


def _token(tokens: PageTokens = TOKENS, size: int = 2, filters: dict[str, object] = FILTERS) -> str:
    page = parse_page(size, "", filters, tokens=tokens)
    rows = [(T0, "a"), (T0, "b"), (T0, "c")]
    return paginate(page, rows, 3, key=lambda row: row).next_page_token


def _refused(token: str, *, size: int = 2, filters: dict[str, object] = FILTERS,
             tokens: PageTokens = TOKENS) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_page(size, token, filters, tokens=tokens)
    [violation] = caught.value.violations
    assert violation.field == "page_token"
    return violation.description


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_an_issued_token_continues_after_the_last_key() -> None:
    page = parse_page(2, _token(), FILTERS, tokens=TOKENS)
    assert page.after == (T0, "b") and page.size == 2


def test_tokens_survive_a_key_rotation_and_replicas_share_them() -> None:
    old, new = os.urandom(32), os.urandom(32)
    issued = _token(PageTokens([old]))
    assert parse_page(2, issued, FILTERS, tokens=PageTokens([new, old])).after == (T0, "b")
    _refused(issued, tokens=PageTokens([new]))


def test_keyring_purpose_keys_are_distinct_from_each_other_and_newest_first() -> None:
    first, second = os.urandom(32), os.urandom(32)
    keyring = Keyring({1: first, 2: second})
    keys = keyring.purpose_keys("page-tokens")
    assert len(keys) == 2 and first not in keys and second not in keys
    assert keys[1:] == Keyring({1: first}).purpose_keys("page-tokens")
    assert keyring.purpose_keys("other") != keys


@pytest.mark.parametrize(
    ("change", "why"),
    [
        pytest.param({"filters": {"tenant": "t-2", "status": "enabled"}}, "different", id="tenant"),
        pytest.param({"filters": {"tenant": "t-1", "status": "disabled"}}, "different", id="filter"),
        pytest.param({"size": 3}, "page_size", id="page-size"),
        pytest.param({"tokens": PageTokens([os.urandom(32)])}, "not a token", id="other-key"),
    ],
)
def test_a_token_binds_tenant_filters_size_and_key(change: dict[str, object], why: str) -> None:
    assert why in _refused(_token(), **change)  # type: ignore[arg-type]


def _forged(payload: object) -> str:
    return _b64(json.dumps(payload).encode())


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three-parts"),
        pytest.param("!!!.???", id="not-base64"),
        pytest.param("x" * 10_000, id="huge"),
        pytest.param(_forged({"t": T0.isoformat(), "i": "b", "f": "0" * 16}), id="unsigned-old-style"),
        pytest.param(_forged({"t": "0001-01-01T00:00:00+14:00", "i": "b"}) + ".AAAA", id="far-past"),
        pytest.param(_forged({"t": "9999-12-31T23:59:59-14:00", "i": "b"}) + ".AAAA", id="far-future"),
        pytest.param(_b64(b"[" * 100_000) + "." + _b64(os.urandom(16)), id="deeply-nested"),
        pytest.param(_forged({"t": 10**400, "i": 10**400}) + "." + _b64(b"x" * 16), id="huge-numbers"),
    ],
)
def test_forged_tokens_are_refused_before_parsing(token: str) -> None:
    assert "not a token this service issued" in _refused(token)


def test_a_tampered_token_is_refused() -> None:
    issued = _token()
    payload, mac = issued.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw["i"] = "a"
    _refused(_forged(raw).rstrip("=") + "." + mac)
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    _refused(f"{payload}.{flipped}")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"t": "0001-01-01T00:00:00", "i": "x"}, id="naive-time"),
        pytest.param({"t": "not a time", "i": "x"}, id="bad-time"),
        pytest.param({"t": 5, "i": "x"}, id="number-time"),
        pytest.param({"i": "x"}, id="no-time"),
    ],
)
def test_even_signed_odd_payloads_are_invalid_argument(payload: dict[str, object]) -> None:
    """Defence in depth: a payload the service would never sign is still refused cleanly."""
    digest = parse_page(2, "", FILTERS, tokens=TOKENS).filters_digest
    _refused(TOKENS.sign({**payload, "f": digest, "s": 2}))
