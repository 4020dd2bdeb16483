"""The egress policy at the socket: resolve a destination's name, check every address it
resolves to, and connect to the checked address (so a second DNS answer cannot switch it).

- `EgressGuard.addresses_for` is the one check; refusals raise `engines.egress.policy.EgressDenied`
  before any packet is sent to the destination.
- `guarded_http_client` is an httpx client whose connections go through the guard; the URL,
  the Host header and TLS (SNI and certificate checks) keep the original name.
- `postgres_connect_arguments` turns a postgresql:// URL into asyncpg keyword arguments that
  pin the checked address; `verify-full` TLS still checks the certificate against the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpcore
import httpx

from engines.egress.policy import (
    Destination,
    EgressDenied,
    EgressPolicy,
    IPAddress,
    IPNetwork,
    ProtectedTarget,
    TargetKind,
    ip_literal,
)

__all__ = [
    "EgressGuard",
    "GuardedNetworkBackend",
    "guarded_http_client",
    "local_networks",
    "pinned_name_context",
    "postgres_connect_arguments",
    "postgres_destination",
    "protected_database",
    "protected_listener",
]

_LOOPBACK_AND_ANY: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n) for n in ("127.0.0.0/8", "::1/128", "0.0.0.0/32", "::/128")
)


class EgressGuard:
    """Resolves and checks destinations against one `EgressPolicy`."""

    def __init__(self, policy: EgressPolicy, *, resolve_timeout: float = 5.0) -> None:
        self.policy = policy
        self._resolve_timeout = resolve_timeout

    def protect(self, *targets: ProtectedTarget) -> None:
        """Adds protected targets (listeners whose port is known only once bound)."""
        self.policy = self.policy.with_protected(*targets)

    def check_literal(self, destination: Destination) -> None:
        """`EgressPolicy.check_literal` under the current policy (engines call it at
        registration)."""
        self.policy.check_literal(destination)

    def check_url(self, url: str, kind: TargetKind = TargetKind.HTTP) -> None:
        """`EgressPolicy.check_url` under the current policy."""
        self.policy.check_url(url, kind)

    async def addresses_for(self, destination: Destination) -> list[str]:
        """The checked addresses to connect to, in the resolver's order of preference; raises
        EgressDenied, or OSError (socket.gaierror) when the name does not resolve."""
        literal = ip_literal(destination.host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            addresses = await self._resolve(destination)
        return [str(a) for a in self.policy.check(destination, addresses)]

    async def open_tcp(
        self, destination: Destination
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to the first checked address that accepts it."""
        addresses = await self.addresses_for(destination)
        for address in addresses[:-1]:
            try:
                return await asyncio.open_connection(address, destination.port)
            except OSError:
                continue
        return await asyncio.open_connection(addresses[-1], destination.port)

    async def _resolve(self, destination: Destination) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._resolve_timeout):
            infos = await loop.getaddrinfo(
                destination.host, destination.port, type=socket.SOCK_STREAM
            )
        addresses: list[IPAddress] = []
        for family, _, _, _, sockaddr in infos:
            text = str(sockaddr[0])
            if family == socket.AF_INET6 and len(sockaddr) >= 4 and sockaddr[3]:
                text = f"{text.split('%')[0]}%{sockaddr[3]}"
            address = ipaddress.ip_address(text)
            if address not in addresses:
                addresses.append(address)
        return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with every TCP connect going through the guard."""

    def __init__(self, guard: EgressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        destination = Destination(host, port, TargetKind.HTTP)
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._guard.addresses_for(destination)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {destination} timed out") from exc
        except OSError as exc:  # socket.gaierror: the name does not resolve
            raise httpcore.ConnectError(f"resolving {destination} failed") from exc
        for address in addresses[:-1]:
            try:
                return await self._connect(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return await self._connect(addresses[-1], port, timeout, local_address, socket_options)

    async def _connect(
        self, address: str, port: int, timeout: float | None, local_address: str | None,
        socket_options: Any,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise EgressDenied(
            "egress to a Unix-domain socket is refused", rule="unix socket", target="unix socket"
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on an httpcore pool whose network backend is the guard's."""

    def __init__(
        self, guard: EgressGuard, *, verify: bool | ssl.SSLContext, limits: httpx.Limits
    ) -> None:
        super().__init__(verify=verify, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(guard),
        )


def guarded_http_client(
    guard: EgressGuard,
    *,
    timeout: httpx.Timeout | float,
    verify: bool | ssl.SSLContext = True,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient that connects only where the guard allows, follows no redirect and
    reads no proxy settings from the environment."""
    limits = limits or httpx.Limits()
    return httpx.AsyncClient(
        transport=_GuardedTransport(guard, verify=verify, limits=limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def pinned_name_context(hostname: str, cafile: str | None = None) -> ssl.SSLContext:
    """A verifying client TLS context that checks the certificate against `hostname` (and sends
    it as SNI) whatever address the socket was opened to."""

    class _PinnedName(ssl.SSLContext):
        def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None,  # type: ignore[no-untyped-def]
                     session=None):
            return super().wrap_bio(incoming, outgoing, server_side, hostname, session)

    context = _PinnedName(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if cafile:
        context.load_verify_locations(cafile)
    else:
        context.load_default_certs()
    return context


def _refuse(destination: str, why: str) -> EgressDenied:
    return EgressDenied(
        f"egress to {destination} refused: {why}", rule=why, target=destination
    )


def postgres_destination(dsn: str) -> Destination:
    """The single TCP host a postgresql:// URL names (host lists and Unix-domain sockets are
    refused), its port and the database asyncpg would open; ValueError when unparseable."""
    parts = urlsplit(dsn)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    hostspec = parts.netloc.rpartition("@")[2]
    if "," in hostspec or "," in query.get("host", ""):
        raise _refuse("a list of hosts", "connection strings with several hosts are refused")
    host = parts.hostname or query.get("host", "")
    if not host or host.startswith("/") or "%2f" in hostspec.lower():
        raise _refuse("a Unix-domain socket", "Unix-domain sockets are refused")
    port = parts.port or int(query.get("port") or 5432)
    user = unquote(parts.username or "") or query.get("user", "")
    database = (
        unquote(parts.path.lstrip("/")) or query.get("dbname") or query.get("database") or user
    )
    return Destination(host, port, TargetKind.POSTGRES, database or None)


async def postgres_connect_arguments(
    guard: EgressGuard, dsn: str, ssl_argument: Any = None
) -> dict[str, Any]:
    """asyncpg keyword arguments (with `dsn`) that connect to the checked addresses of `dsn`'s
    host (asyncpg tries them in turn), to the very database that was checked; raises
    EgressDenied, ValueError or OSError."""
    destination = postgres_destination(dsn)
    addresses = await guard.addresses_for(destination)
    arguments: dict[str, Any] = {
        "host": addresses if len(addresses) > 1 else addresses[0],
        "port": destination.port,
        "database": destination.database,
    }
    query = {k: v[-1] for k, v in parse_qs(urlsplit(dsn).query).items()}
    verify_name = (
        isinstance(ssl_argument, ssl.SSLContext) and ssl_argument.check_hostname
    ) or (ssl_argument is None and query.get("sslmode") == "verify-full")
    if verify_name:
        arguments["ssl"] = pinned_name_context(destination.host, query.get("sslrootcert"))
    elif ssl_argument is not None:
        arguments["ssl"] = ssl_argument
    return arguments


def local_networks(extra_hosts: Sequence[str] = ()) -> tuple[IPNetwork, ...]:
    """Every address that reaches this machine: loopback, the unspecified address, and what
    the host's own name resolves to."""
    networks = list(_LOOPBACK_AND_ANY)
    for name in (socket.gethostname(), *extra_hosts):
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except OSError:
            continue
        for *_, sockaddr in infos:
            network = ipaddress.ip_network(str(sockaddr[0]).split("%")[0])
            if network not in networks:
                networks.append(network)
    return tuple(networks)


def _host_networks(host: str) -> tuple[IPNetwork, ...]:
    """`host` as the networks it stands for: a loopback or wildcard host (or a Unix-domain
    socket directory) is the whole machine."""
    if host.startswith("/"):
        return local_networks()
    literal = ip_literal(host)
    if host.lower().rstrip(".") == "localhost" or (
        literal is not None and (literal.is_loopback or literal.is_unspecified)
    ):
        return local_networks()
    if literal is not None:
        return (ipaddress.ip_network(literal),)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    addresses = {ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos}
    if any(a.is_loopback for a in addresses):
        return local_networks()
    return tuple(ipaddress.ip_network(a) for a in addresses)


def protected_database(host: str, port: int, database: str) -> ProtectedTarget:
    """The service's own PostgreSQL database: refused to every tenant connection."""
    return ProtectedTarget(
        "the service's own database", _host_networks(host), port, database=database
    )


def protected_listener(host: str, port: int) -> ProtectedTarget:
    """One of the service's own listeners (`host` as bound: a wildcard covers the machine)."""
    return ProtectedTarget("the service's own listener", _host_networks(host), port)
