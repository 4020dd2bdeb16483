"""The egress policy: which addresses the service may connect to on a tenant's behalf.

Pure logic (no sockets): parsing of `--egress-allow` / `--egress-deny` rules, the default deny
ranges, normalisation of alternative IP spellings, and the decision for one resolved address.
Order of a decision: the protected targets (the service's own database and listeners) are refused
whatever the allow-list says; then operator deny rules; then allow rules; then the default deny
ranges; anything else is allowed. docs/egress.md describes it for operators.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit

from engines.kernel.errors import FailedPrecondition

__all__ = [
    "DEFAULT_DENY",
    "DEFAULT_POLICY",
    "Destination",
    "EgressCheck",
    "EgressDenied",
    "EgressPolicy",
    "EgressRule",
    "IPAddress",
    "IPNetwork",
    "ProtectedTarget",
    "TargetKind",
    "ip_literal",
    "parse_rule",
    "unwrap",
    "url_destination",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REASON = "EGRESS_DENIED"


def _nets(*texts: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(text) for text in texts)


# (name, ranges); the first match names the refusal, so the narrow metadata entry comes first.
DEFAULT_DENY: tuple[tuple[str, tuple[IPNetwork, ...]], ...] = (
    ("cloud metadata", _nets("169.254.169.254/32", "fd00:ec2::254/128")),
    ("loopback", _nets("127.0.0.0/8", "::1/128")),
    ("unspecified", _nets("0.0.0.0/8", "::/128")),
    ("link-local", _nets("169.254.0.0/16", "fe80::/10")),
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")),
    ("shared address space", _nets("100.64.0.0/10")),
    ("multicast", _nets("224.0.0.0/4", "ff00::/8")),
    ("broadcast and reserved", _nets("255.255.255.255/32", "240.0.0.0/4")),
    ("IETF protocol assignments", _nets("192.0.0.0/24")),
    ("benchmarking", _nets("198.18.0.0/15")),
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# What glibc's inet_aton (and so getaddrinfo) reads as an IPv4 address: 1 to 4 parts, each
# decimal, octal (leading 0) or hex (0x).
_INET_ATON = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)(\.(0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class TargetKind(enum.StrEnum):
    """What the service speaks to a destination; the database guard is stricter for TCP/HTTP."""

    HTTP = "http"
    TCP = "tcp"
    POSTGRES = "postgres"


class EgressDenied(FailedPrecondition):
    """A destination the egress policy refuses; the message names the rule."""

    def __init__(self, message: str, *, rule: str, target: str) -> None:
        super().__init__(REASON, message, metadata={"rule": rule, "target": target})
        self.rule = rule


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, 6to4, NAT64),
    else the address itself: `::ffff:127.0.0.1` is loopback."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    plain = ipaddress.IPv6Address(int(address))  # without a zone id
    if plain in _NAT64 or (plain in _IPV4_COMPATIBLE and int(plain) > 1):
        return ipaddress.IPv4Address(int(plain) & 0xFFFFFFFF)
    return address


def ip_literal(host: str) -> IPAddress | None:
    """`host` as an IP address when it is one in any spelling the resolver accepts
    (`[::1]`, `fe80::1%eth0`, `0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1`, a trailing
    dot), unwrapped; None for a host name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith("."):
        text = text[:-1]
    if ":" in text:
        try:
            return unwrap(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    if not _INET_ATON.match(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def _normal_name(host: str) -> str:
    return host.strip().rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class EgressRule:
    """One `CIDR`, `HOST`, `HOST:PORT` or `CIDR:PORT` rule (IPv6 in brackets with a port)."""

    text: str
    network: IPNetwork | None = None
    host: str | None = None
    port: int | None = None

    def matches(
        self, name: str, address: IPAddress, port: int, *, every_form: bool = True
    ) -> bool:
        """True when the rule covers `address` (or the requested host `name`) on `port`.
        `every_form`: an IPv6 address carrying an IPv4 one matches either; without it only
        the carried one does (so allowing `::/0` does not open `::ffff:169.254.169.254`)."""
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return _in(address, (self.network,), every_form=every_form)
        return self.host == _normal_name(name)


def _port(text: str, rule: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"egress rule {rule!r}: the port must be a number from 1 to 65535")
    return int(text)


def _network(text: str) -> IPNetwork | None:
    if "/" in text:
        address, _, prefix = text.partition("/")
        literal = ip_literal(address)
        if literal is None or not prefix.isdigit():
            return None
        try:
            return ipaddress.ip_network(f"{literal}/{prefix}", strict=False)
        except ValueError:
            return None
    literal = ip_literal(text)
    return None if literal is None else ipaddress.ip_network(literal)


def parse_rule(text: str) -> EgressRule:
    """Parses one rule; raises ValueError naming the rule when it is malformed."""
    rule = text.strip()
    if not rule:
        raise ValueError("an egress rule must not be empty")
    port: int | None = None
    if rule.startswith("["):
        inside, bracket, rest = rule[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"egress rule {rule!r}: expected [IPv6] or [IPv6]:PORT")
        body = inside
        if rest:
            port = _port(rest[1:], rule)
    elif rule.count(":") == 1:
        body, _, port_text = rule.partition(":")
        port = _port(port_text, rule)
    else:
        body = rule  # a host, an IPv4 address or CIDR, or a bare IPv6 address or CIDR
    network = _network(body)
    if network is not None:
        return EgressRule(rule, network=network, port=port)
    if rule.startswith("[") or "/" in body or ":" in body:
        raise ValueError(f"egress rule {rule!r}: not a valid address or CIDR")
    name = _normal_name(body)
    if not _HOST_NAME.match(name):
        raise ValueError(f"egress rule {rule!r}: expected CIDR, HOST, HOST:PORT or CIDR:PORT")
    return EgressRule(rule, host=name, port=port)


def _in(address: IPAddress, networks: Iterable[IPNetwork], *, every_form: bool = True) -> bool:
    inner = unwrap(address)
    if isinstance(inner, ipaddress.IPv6Address) and inner.scope_id:
        inner = ipaddress.IPv6Address(int(inner))
    candidates = {inner, address} if every_form else {inner}
    return any(a.version == n.version and a in n for a in candidates for n in networks)


@dataclass(frozen=True, slots=True)
class ProtectedTarget:
    """A destination refused whatever the allow-list says. With `database`, a PostgreSQL
    connection is refused only to that database; other kinds are refused on the whole port."""

    what: str
    networks: tuple[IPNetwork, ...]
    port: int
    database: str | None = None

    def covers(self, destination: Destination, address: IPAddress) -> bool:
        if destination.port != self.port or not _in(address, self.networks):
            return False
        if self.database is None or destination.kind is not TargetKind.POSTGRES:
            return True
        # No database named: the driver's default could be any name, so assume the worst.
        return destination.database in (None, self.database)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an outbound connection goes: the host as named, the port, what is spoken."""

    host: str
    port: int
    kind: TargetKind = TargetKind.TCP
    database: str | None = None  # the PostgreSQL database name, for POSTGRES

    def __str__(self) -> str:
        host = self.host.strip("[]")
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The allow and deny rules and the protected targets; `check` is the one decision."""

    allow: tuple[EgressRule, ...] = ()
    deny: tuple[EgressRule, ...] = ()
    protected: tuple[ProtectedTarget, ...] = field(default=())

    @classmethod
    def from_rules(
        cls,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        protected: Sequence[ProtectedTarget] = (),
    ) -> EgressPolicy:
        """Parses rule texts; raises ValueError on a malformed one."""
        return cls(
            tuple(parse_rule(r) for r in allow),
            tuple(parse_rule(r) for r in deny),
            tuple(protected),
        )

    def with_protected(self, *targets: ProtectedTarget) -> EgressPolicy:
        """This policy with more protected targets."""
        return EgressPolicy(self.allow, self.deny, self.protected + targets)

    def refusal(self, destination: Destination, address: IPAddress) -> str | None:
        """The rule refusing `address` for `destination`, or None when it is allowed."""
        for target in self.protected:
            if target.covers(destination, address):
                return target.what
        name, port = destination.host, destination.port
        for rule in self.deny:
            if rule.matches(name, address, port):
                return f"--egress-deny {rule.text}"
        if any(rule.matches(name, address, port, every_form=False) for rule in self.allow):
            return None
        for what, networks in DEFAULT_DENY:
            if _in(address, networks):
                ranges = ", ".join(str(n) for n in networks)
                return f"default deny: {what} ({ranges})"
        return None

    def check(
        self, destination: Destination, addresses: Sequence[IPAddress]
    ) -> tuple[IPAddress, ...]:
        """The addresses to connect to (in order) when every resolved address is allowed;
        raises EgressDenied naming the first refusing rule otherwise (no address is refused)."""
        if not addresses:
            raise EgressDenied(
                f"egress to {destination} refused: the name resolved to no address",
                rule="no address",
                target=str(destination),
            )
        for address in addresses:
            rule = self.refusal(destination, address)
            if rule is not None:
                shown = destination.host.strip("[]")
                via = "" if ip_literal(shown) == address else f" (resolved to {address})"
                raise EgressDenied(
                    f"egress to {destination}{via} refused by {rule}; an operator can open "
                    "destinations with --egress-allow (never the service's own database or "
                    "listeners)",
                    rule=rule,
                    target=str(destination),
                )
        return tuple(addresses)

    def check_literal(self, destination: Destination) -> None:
        """Refuses a destination whose host is an IP literal the policy refuses; host names
        are decided only once resolved."""
        address = ip_literal(destination.host)
        if address is not None:
            self.check(destination, [address])

    def check_url(self, url: str, kind: TargetKind = TargetKind.HTTP) -> None:
        """`check_literal` for the host of an http(s) or postgresql URL (unparseable URLs are
        left to the caller's own validation)."""
        destination = url_destination(url, kind)
        if destination is not None:
            self.check_literal(destination)


DEFAULT_POLICY = EgressPolicy()  # the default deny ranges, no operator rules


class EgressCheck(Protocol):
    """What engines need at registration: refuse literal addresses the policy refuses
    (`EgressPolicy` itself, or the driver's guard that holds the live policy)."""

    def check_literal(self, destination: Destination) -> None: ...

    def check_url(self, url: str, kind: TargetKind = TargetKind.HTTP) -> None: ...


_DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432}


def url_destination(url: str, kind: TargetKind = TargetKind.HTTP) -> Destination | None:
    """The destination of a URL (its port defaulting by scheme), None when it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or not port:
        return None
    database = None
    if kind is TargetKind.POSTGRES:
        database = unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or None
    return Destination(parts.hostname, port, kind, database)
