"""Parsing of endpoints and connection strings with `urllib.parse`: http(s) URLs, `host:port`,
and the password inside a URL's user info (split out to be stored as a secret, masked as `***`,
and put back only at the moment of connecting)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from engines.credentials.secret_keys import looks_secret
from engines.kernel.errors import InvalidArgument

__all__ = [
    "MASK",
    "HostPort",
    "SplitUrl",
    "host_port_of_url",
    "parse_host_port",
    "require_http_url",
    "require_url",
    "split_password",
    "url_destination",
    "with_password",
]

MASK = "***"


_DEFAULT_PORTS = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432}


@dataclass(frozen=True, slots=True)
class HostPort:
    """A TCP destination."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SplitUrl:
    """A URL with its password taken out: `masked` shows `***`, `password` is None when there was
    none and equals MASK when the caller sent a masked URL back."""

    masked: str
    password: str | None

    def __repr__(self) -> str:
        return f"SplitUrl(masked={self.masked!r}, password='***')"


def require_url(field: str, value: str, *, schemes: tuple[str, ...] | None = None) -> str:
    """A URL with a scheme and a host (`schemes` restricts the scheme); secrets in its query
    string are refused. The message never repeats the value, which may hold a password."""
    url = value.strip()
    if not url:
        raise InvalidArgument.single(field, "is required")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidArgument.single(field, "is not a valid URL") from None
    if any(c.isspace() for c in url) or not parts.scheme or not parts.hostname:
        raise InvalidArgument.single(field, "must be a URL with a scheme and a host")
    if schemes is not None and parts.scheme.lower() not in schemes:
        raise InvalidArgument.single(field, f"must use one of: {', '.join(schemes)}")
    if any(looks_secret(key) for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise InvalidArgument.single(
            field, "must not carry a secret in its query string; use the password or api_key field"
        )
    return url


def require_http_url(field: str, value: str) -> str:
    """An http(s) URL with a host and no password."""
    url = require_url(field, value, schemes=("http", "https"))
    if split_password(url).password is not None:
        raise InvalidArgument.single(
            field, "must not carry a password; store it in the credential service instead"
        )
    return url


def parse_host_port(value: str) -> HostPort | None:
    """`host:port` or `[v6]:port`; None when `value` is not of that form."""
    text = value.strip()
    if "://" in text or "/" in text or any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(f"//{text}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or port is None or port == 0 or parts.username is not None:
        return None
    return HostPort(parts.hostname, port)


def host_port_of_url(url: str, default_port: int | None = None) -> HostPort | None:
    """The host and port a URL points at (the port falls back to `default_port`)."""
    try:
        parts = urlsplit(url)
        port = parts.port or default_port
    except ValueError:
        return None
    if not parts.hostname or not port:
        return None
    return HostPort(parts.hostname, port)


def url_destination(url: str) -> str | None:
    """`host:port` a URL connects to (the scheme's default port when it names none), the form
    the credential service checks against a credential's allowed destinations."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    target = host_port_of_url(url, _DEFAULT_PORTS.get(scheme))
    return str(target) if target else None


def _split_netloc(netloc: str) -> tuple[str | None, str | None, str]:
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return None, None, netloc
    user, colon, password = userinfo.partition(":")
    return user, (password if colon else None), hostport


def split_password(url: str) -> SplitUrl:
    """Takes the password out of `url` (percent-decoded) and masks it. A string that is not
    a URL at all (`http://[::1`) is masked whole: whatever it holds may be a secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return SplitUrl(masked=MASK, password=None)
    user, password, hostport = _split_netloc(parts.netloc)
    if password is None:
        return SplitUrl(masked=url, password=None)
    masked = urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}"))
    return SplitUrl(masked=masked, password=unquote(password))


def with_password(url: str, password: str) -> str:
    """`url` with `password` (percent-encoded) in its user info, replacing any there."""
    parts = urlsplit(url)
    user, _, hostport = _split_netloc(parts.netloc)
    netloc = f"{user or ''}:{quote(password, safe='')}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))

