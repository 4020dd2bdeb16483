"""Where a credential may be sent: its allowed destinations (`host`, `host:port`, `*.suffix`,
`[v6]:port`), the official API hosts of each provider, and the hosts a connection string points
at. Matching is exact on normalised names; a wildcard covers one or more leading labels."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from engines.egress.endpoints import url_destination
from engines.kernel.errors import FieldViolation, InvalidArgument

__all__ = [
    "MAX_DESTINATIONS",
    "PROVIDER_DESTINATIONS",
    "Destination",
    "allows",
    "connection_string_destinations",
    "parse_destination",
    "provider_destinations",
    "require_destinations",
    "url_destinations",
]

MAX_DESTINATIONS = 32
_POSTGRES_PORT = 5432
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")

# The official API hosts of the providers whose keys the health probe sends (drivers/
# provider_requests.DEFAULT_BASE_URLS); Azure endpoints are per resource under one domain.
PROVIDER_DESTINATIONS: dict[str, tuple[str, ...]] = {
    "OPENAI": ("api.openai.com:443",),
    "ANTHROPIC": ("api.anthropic.com:443",),
    "GOOGLE": ("generativelanguage.googleapis.com:443",),
    "AZURE_OPENAI": ("*.openai.azure.com:443",),
}


@dataclass(frozen=True, slots=True)
class Destination:
    """A normalised host (lower case, no trailing dot, canonical IP), `*.` for a wildcard, and a
    port (None: any port)."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    def covers(self, target: Destination) -> bool:
        if self.port is not None and self.port != target.port:
            return False
        if self.host.startswith("*."):
            return target.host.endswith(self.host[1:]) and len(target.host) > len(self.host) - 1
        return self.host == target.host


def _host(text: str) -> str | None:
    """The normalised host, or None when `text` is not a hostname or IP literal."""
    if text.startswith("[") and text.endswith("]"):
        try:
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            return None
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    host = text.lower().removesuffix(".")
    if len(host) > 253 or _HOSTNAME.fullmatch(host) is None:
        return None
    return host


def parse_destination(text: str, *, wildcard: bool = True) -> Destination | None:
    """`host`, `host:port`, `[v6]`, `[v6]:port` or (with `wildcard`) `*.domain[:port]`; None
    when malformed."""
    host_text, port = text, None
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :] if end > 0 else "?"
        host_text = text[: end + 1]
        if rest:
            if not rest.startswith(":") or _PORT.fullmatch(rest[1:]) is None:
                return None
            port = int(rest[1:])
    elif text.count(":") == 1:
        host_text, _, port_text = text.partition(":")
        if _PORT.fullmatch(port_text) is None:
            return None
        port = int(port_text)
    if port is not None and port > 65535:
        return None
    star = wildcard and host_text.startswith("*.")
    host = _host(host_text[2:] if star else host_text)
    if host is None or (star and ("." not in host or _is_ip(host))):
        return None
    return Destination(f"*.{host}" if star else host, port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def require_destinations(field: str, values: Iterable[str]) -> tuple[str, ...]:
    """Checked, normalised and de-duplicated destinations; INVALID_ARGUMENT names each bad one."""
    values = list(values)
    if len(values) > MAX_DESTINATIONS:
        raise InvalidArgument.single(field, f"at most {MAX_DESTINATIONS} destinations")
    violations, normalised = [], []
    for index, value in enumerate(values):
        parsed = parse_destination(value.strip()) if value.strip() == value else None
        if parsed is None:
            violations.append(
                FieldViolation(
                    f"{field}[{index}]",
                    "must be a host, host:port, [ipv6]:port or *.domain, without scheme or path",
                )
            )
        elif str(parsed) not in normalised:
            normalised.append(str(parsed))
    if violations:
        raise InvalidArgument(violations)
    return tuple(normalised)


def provider_destinations(field: str, provider: str) -> tuple[str, ...]:
    """The official API hosts of `provider` (`OPENAI` or `PROVIDER_TYPE_OPENAI`)."""
    name = provider.strip().upper().removeprefix("PROVIDER_TYPE_")
    hosts = PROVIDER_DESTINATIONS.get(name)
    if hosts is None:
        known = ", ".join(PROVIDER_DESTINATIONS)
        raise InvalidArgument.single(
            field, f"has no official API host (known: {known}); give allowed_destinations instead"
        )
    return hosts


def allows(allowed: Sequence[str], targets: Sequence[Destination]) -> bool:
    """Whether every target is covered by one of the allowed destinations."""
    entries = [d for d in (parse_destination(a) for a in allowed) if d is not None]
    return bool(targets) and all(any(e.covers(t) for e in entries) for t in targets)


def connection_string_destinations(dsn: str) -> list[Destination] | None:
    """Every host:port a postgresql:// connection string may connect to (several hosts in the
    netloc, `host`/`port` query parameters); None when it is not such a URL or names a socket."""
    try:
        parts = urlsplit(dsn.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("postgres", "postgresql"):
        return None
    hostlist = parts.netloc.rpartition("@")[2]
    query = parse_qsl(parts.query, keep_blank_values=True)
    query_hosts = [v for k, v in query if k in ("host", "hostaddr")]
    query_ports = [v for k, v in query if k == "port"]
    specs = [unquote(h) for h in hostlist.split(",") if h] + [
        h for value in query_hosts for h in value.split(",") if h
    ]
    default_ports = [p for value in query_ports for p in value.split(",")]
    if not specs:
        return None
    if any(_PORT.fullmatch(p) is None or int(p) > 65535 for p in default_ports):
        return None
    found: list[Destination] = []
    for spec in specs:
        parsed = parse_destination(spec, wildcard=False)
        if parsed is None:
            return None
        # A port in the query may override the one in the netloc: both must be allowed.
        ports = {parsed.port or _POSTGRES_PORT, *(int(p) for p in default_ports)}
        if parsed.port is None and default_ports:
            ports.discard(_POSTGRES_PORT)
        found.extend(Destination(parsed.host, port) for port in sorted(ports))
    return found


def url_destinations(url: str) -> str | None:
    """What a credential sent with `url` reaches, as the credential port takes it: `host:port`,
    or for a postgresql:// URL every host:port it may connect to, comma-separated."""
    found = connection_string_destinations(url)
    if found is not None:
        return ",".join(str(d) for d in found)
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:  # not a URL (`http://[::1`): it reaches nowhere
        return None
    if scheme in ("postgres", "postgresql"):
        return None
    return url_destination(url)
