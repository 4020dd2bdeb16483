"""drivers/egress/guard.py against real local servers: every resolved address is checked, the HTTP
client connects to the checked address while TLS still verifies the original name, and the
pinned-name TLS context does the same for sockets opened to an IP."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.egress.guard import (
    EgressGuard,
    guarded_http_client,
    pinned_name_context,
    postgres_destination,
)
from engines.egress.policy import Destination, EgressDenied, EgressPolicy, TargetKind


def _write_pki(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for the DNS name `localhost` only (no IP address)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)

    def cert(subject: str, public: object, ca: bool, san: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "egress-ca")]))
            .public_key(public)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
            )
        return builder.sign(ca_key, hashes.SHA256())

    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    pem = serialization.Encoding.PEM
    ca_path.write_bytes(cert("egress-ca", ca_key.public_key(), True, False).public_bytes(pem))
    cert_path.write_bytes(cert("localhost", key.public_key(), False, True).public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


@contextlib.asynccontextmanager
async def _https_server(cert: Path, key: Path) -> AsyncIterator[tuple[int, list[str]]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen.append(head)
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


async def test_every_resolved_address_is_checked() -> None:
    # localhost resolves to 127.0.0.1 (and, where configured, ::1): only IPv4 loopback allowed.
    only_v4 = EgressGuard(EgressPolicy.from_rules(["127.0.0.0/8"]))
    infos = await asyncio.get_running_loop().getaddrinfo("localhost", 80)
    if any(ipaddress.ip_address(i[4][0]).version == 6 for i in infos):
        with pytest.raises(EgressDenied):
            await only_v4.addresses_for(Destination("localhost", 80))
    both = EgressGuard(EgressPolicy.from_rules(["127.0.0.0/8", "::1"]))
    addresses = await both.addresses_for(Destination("localhost", 80))
    assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    with pytest.raises(EgressDenied):
        await EgressGuard(EgressPolicy()).addresses_for(Destination("localhost", 80))


async def test_https_goes_to_the_checked_address_and_verifies_the_name(tmp_path: Path) -> None:
    ca, cert, key = _write_pki(tmp_path)
    trust = ssl.create_default_context(cafile=str(ca))
    guard = EgressGuard(EgressPolicy.from_rules(["127.0.0.0/8", "::1"]))
    async with _https_server(cert, key) as (port, seen):
        async with guarded_http_client(guard, timeout=5, verify=trust) as client:
            response = await client.get(f"https://localhost:{port}/health")
        assert response.status_code == 204
        assert f"host: localhost:{port}" in seen[0].lower()
        # The certificate names only `localhost`: asking for the IP fails verification.
        async with guarded_http_client(guard, timeout=5, verify=trust) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://127.0.0.1:{port}/health")
    assert len(seen) == 1


async def test_a_refused_http_target_raises_before_connecting() -> None:
    async with guarded_http_client(EgressGuard(EgressPolicy()), timeout=5) as client:
        with pytest.raises(EgressDenied) as caught:
            await client.get("http://localhost:9/")
    assert caught.value.reason == "EGRESS_DENIED"


async def test_pinned_name_context_checks_the_name_on_a_socket_opened_to_an_ip(
    tmp_path: Path,
) -> None:
    ca, cert, key = _write_pki(tmp_path)
    async with _https_server(cert, key) as (port, _):
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=pinned_name_context("localhost", str(ca))
        )
        writer.close()
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection(
                "127.0.0.1", port, ssl=ssl.create_default_context(cafile=str(ca))
            )


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://u@db.example:6543/app", ("db.example", 6543, "app")),
        ("postgresql://u@db.example/", ("db.example", 5432, "u")),
        ("postgresql://u@db.example/?dbname=other", ("db.example", 5432, "other")),
        ("postgresql://u@[::1]:5433/x", ("::1", 5433, "x")),
        ("postgresql://u@/x?host=db.example&port=7000", ("db.example", 7000, "x")),
    ],
)
def test_postgres_destination(dsn: str, expected: tuple[str, int, str]) -> None:
    destination = postgres_destination(dsn)
    assert (destination.host, destination.port, destination.database) == expected
    assert destination.kind is TargetKind.POSTGRES


@pytest.mark.parametrize(
    "dsn",
    ["postgresql:///x?host=/var/run/postgresql", "postgresql://u@%2Ftmp/x",
     "postgresql://u@a:1,b:2/x", "postgresql://u@/x"],
)
def test_unix_sockets_and_host_lists_are_refused(dsn: str) -> None:
    with pytest.raises(EgressDenied):
        postgres_destination(dsn)
