"""TLS for `serve`: server credentials from `--tls-cert`/`--tls-key`, and mutual TLS (client
certificates required) with `--tls-client-ca`; channel credentials for a remote credential
service."""

from __future__ import annotations

from pathlib import Path

import grpc

__all__ = ["channel_credentials", "server_credentials"]


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc.strerror}") from None


def server_credentials(
    cert: str | None, key: str | None, client_ca: str | None
) -> grpc.ServerCredentials | None:
    """None for plaintext; ValueError when the options do not go together."""
    if not cert and not key:
        if client_ca:
            raise ValueError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if not cert or not key:
        raise ValueError("--tls-cert and --tls-key must be given together")
    pair = (_read(key, "TLS key"), _read(cert, "TLS certificate"))
    if client_ca:
        return grpc.ssl_server_credentials(
            [pair], root_certificates=_read(client_ca, "TLS client CA"), require_client_auth=True
        )
    return grpc.ssl_server_credentials([pair])


def channel_credentials(
    ca: str | None, cert: str | None = None, key: str | None = None
) -> grpc.ChannelCredentials:
    """TLS to a server whose certificate `ca` signed (system roots when None); with `cert` and
    `key`, a client certificate for mutual TLS."""
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca, "TLS CA") if ca else None,
        private_key=_read(key, "TLS client key") if key else None,
        certificate_chain=_read(cert, "TLS client certificate") if cert else None,
    )
