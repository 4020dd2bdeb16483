"""Throwaway TLS material for tests: a CA, a server certificate and a client certificate."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["write_pem_files"]

Issuer = tuple[x509.Name, ec.EllipticCurvePrivateKey]


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: Issuer | None,
    *, ca: bool = False, ip: str | None = None, dns: str = "localhost",
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip)), x509.DNSName(dns)]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def write_pem_files(directory: Path, server_name: str = "localhost") -> dict[str, bytes]:
    """A CA (ca.pem), a server certificate for 127.0.0.1 and `server_name` (server.pem, .key)
    and a client certificate (client.pem, .key), written as PEM into `directory`."""
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("test-ca", ca_key, None, ca=True)
    issuer = (ca.subject, ca_key)
    parts = {
        "ca.pem": ca.public_bytes(serialization.Encoding.PEM),
        "server.pem": _certificate(
            "server", server_key, issuer, ip="127.0.0.1", dns=server_name
        ).public_bytes(serialization.Encoding.PEM),
        "client.pem": _certificate("client", client_key, issuer).public_bytes(
            serialization.Encoding.PEM
        ),
    }
    for name, key in (("server.key", server_key), ("client.key", client_key)):
        parts[name] = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    for name, data in parts.items():
        (directory / name).write_bytes(data)
    return parts
