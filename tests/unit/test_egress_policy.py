"""The egress policy as pure logic: rule parsing, IP spelling normalisation, the default deny
ranges, allow/deny precedence and the protected targets."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines.egress.policy import (
    Destination,
    EgressDenied,
    EgressPolicy,
    ProtectedTarget,
    TargetKind,
    ip_literal,
    parse_rule,
    unwrap,
)

LOOPBACK = EgressPolicy.from_rules(["127.0.0.0/8", "::1"])


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _refusal(policy: EgressPolicy, address: str, host: str = "", port: int = 443) -> str | None:
    return policy.refusal(Destination(host or address, port), _ip(address))


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        pytest.param("0x7f000001", "127.0.0.1", id="hex"),
        pytest.param("2130706433", "127.0.0.1", id="decimal"),
        pytest.param("0177.0.0.1", "127.0.0.1", id="octal"),
        pytest.param("127.1", "127.0.0.1", id="two-parts"),
        pytest.param("0x7f.1", "127.0.0.1", id="hex-two-parts"),
        pytest.param("127.0.0.1.", "127.0.0.1", id="trailing-dot"),
        pytest.param("[::1]", "::1", id="bracketed-v6"),
        pytest.param("::ffff:127.0.0.1", "127.0.0.1", id="ipv4-mapped"),
        pytest.param("::ffff:7f00:1", "127.0.0.1", id="ipv4-mapped-hex"),
        pytest.param("64:ff9b::a9fe:a9fe", "169.254.169.254", id="nat64"),
        pytest.param("2002:a9fe:a9fe::", "169.254.169.254", id="6to4"),
        pytest.param("0", "0.0.0.0", id="zero"),
    ],
)
def test_alternative_spellings_normalise(spelling: str, address: str) -> None:
    assert ip_literal(spelling) == _ip(address)


@pytest.mark.parametrize("host", ["example.com", "localhost", "1.2.3.4.example", "0x", "1e3", ""])
def test_names_are_not_literals(host: str) -> None:
    assert ip_literal(host) is None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_integer_spelling_agrees_with_inet_aton(value: int) -> None:
    dotted = ipaddress.IPv4Address(value)
    for spelling in (str(value), hex(value), f"0{value:o}" if value else "0"):
        assert ip_literal(spelling) == dotted
        assert ipaddress.IPv4Address(socket.inet_aton(spelling)) == dotted


@given(st.ip_addresses(v=4))
def test_mapped_addresses_decide_like_the_address_they_carry(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert unwrap(mapped) == address
    for policy in (EgressPolicy(), LOOPBACK):
        plain = policy.refusal(Destination(str(address), 80), address) is None
        assert (policy.refusal(Destination(str(mapped), 80), mapped) is None) == plain


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
        ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
        ("169.254.10.1", "link-local"), ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("10.1.2.3", "private"), ("172.31.0.1", "private"), ("192.168.0.1", "private"),
        ("fc00::1", "private"), ("100.100.0.1", "shared address space"),
        ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
    ],
)
def test_default_deny_names_the_range(address: str, rule: str) -> None:
    refusal = _refusal(EgressPolicy(), address)
    assert refusal is not None and rule in refusal


@pytest.mark.parametrize("address", ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "172.32.0.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert _refusal(EgressPolicy(), address) is None


@pytest.mark.parametrize(
    ("text", "network", "host", "port"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", None, None),
        ("10.1.2.3", "10.1.2.3/32", None, None),
        ("10.0.0.0/8:5432", "10.0.0.0/8", None, 5432),
        ("::1", "::1/128", None, None),
        ("fd00::/8", "fd00::/8", None, None),
        ("[::1]:8080", "::1/128", None, 8080),
        ("[fd00::/8]:443", "fd00::/8", None, 443),
        ("0x7f000001", "127.0.0.1/32", None, None),
        ("db.internal", None, "db.internal", None),
        ("DB.Internal.:5432", None, "db.internal", 5432),
    ],
)
def test_rules_parse(text: str, network: str | None, host: str | None, port: int | None) -> None:
    rule = parse_rule(text)
    assert (str(rule.network) if rule.network else None, rule.host, rule.port) == (
        network, host, port
    )


@pytest.mark.parametrize(
    "text", ["", "10.0.0.0/33", "host:0", "host:65536", "host:x", "[::1", "[::1]x", "a b", "1.2.3.4/8/8",
             "bad_host!"],
)
def test_malformed_rules_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rule(text)


def test_allow_opens_a_range_and_deny_wins() -> None:
    policy = EgressPolicy.from_rules(
        allow=["10.0.0.0/8", "db.internal:5432"], deny=["10.9.0.0/16", "evil.example"]
    )
    assert _refusal(policy, "10.1.1.1") is None
    assert _refusal(policy, "10.9.1.1") == "--egress-deny 10.9.0.0/16"
    assert _refusal(policy, "10.5.5.5", host="db.internal", port=5432) is None
    assert _refusal(policy, "192.168.1.1", host="db.internal", port=5432) is None
    assert "private" in (_refusal(policy, "192.168.1.1", host="db.internal", port=22) or "")
    assert _refusal(policy, "1.1.1.1", host="evil.example") == "--egress-deny evil.example"


def test_allowing_all_of_ipv6_does_not_open_mapped_metadata() -> None:
    policy = EgressPolicy.from_rules(allow=["::/0"])
    assert _refusal(policy, "2606:4700::1111") is None
    assert "cloud metadata" in (_refusal(policy, "::ffff:169.254.169.254") or "")


def test_protected_targets_are_refused_whatever_the_allow_list_says() -> None:
    database = ProtectedTarget(
        "the service's own database", (ipaddress.ip_network("127.0.0.0/8"),), 5432, "svc"
    )
    policy = EgressPolicy.from_rules(allow=["0.0.0.0/0", "::/0"], protected=[database])
    svc = Destination("127.0.0.1", 5432, TargetKind.POSTGRES, "svc")
    other = Destination("127.0.0.1", 5432, TargetKind.POSTGRES, "customer")
    unnamed = Destination("127.0.0.1", 5432, TargetKind.POSTGRES, None)
    assert policy.refusal(svc, _ip("127.0.0.1")) == "the service's own database"
    assert policy.refusal(unnamed, _ip("127.0.0.1")) == "the service's own database"
    assert policy.refusal(other, _ip("127.0.0.1")) is None
    assert policy.refusal(Destination("x", 5432), _ip("127.0.0.2")) == "the service's own database"
    assert policy.refusal(Destination("x", 5433), _ip("127.0.0.2")) is None


def test_every_resolved_address_is_checked() -> None:
    destination = Destination("rebind.example", 80)
    with pytest.raises(EgressDenied) as caught:
        EgressPolicy().check(destination, [_ip("1.1.1.1"), _ip("127.0.0.1")])
    assert caught.value.reason == "EGRESS_DENIED"
    assert "loopback" in caught.value.metadata["rule"]
    assert "resolved to 127.0.0.1" in caught.value.message
    both = [_ip("1.1.1.1"), _ip("2606:4700::1111")]
    assert EgressPolicy().check(destination, both) == tuple(both)
    with pytest.raises(EgressDenied):
        EgressPolicy().check(destination, [])


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest", "http://[::1]:8080/", "https://0x7f000001/",
     "http://2130706433/", "http://127.1/"],
)
def test_literal_urls_are_refused_before_resolving(url: str) -> None:
    with pytest.raises(EgressDenied):
        EgressPolicy().check_url(url)
    EgressPolicy().check_url("https://api.openai.com/v1")  # a name: decided once resolved
