"""TLS options for test servers, over the throw-away certificates of `tests/tls_files.py`."""

from __future__ import annotations

from pathlib import Path

from tests.tls_files import write_pem_files

__all__ = ["pem_files", "server_tls_options"]

pem_files = write_pem_files


def server_tls_options(directory: Path, *, client_ca: bool) -> dict[str, str]:
    """`serve_config` overrides for TLS with the files `pem_files(directory)` wrote; with
    `client_ca`, mutual TLS."""
    options = {
        "tls_cert": str(directory / "server.pem"),
        "tls_key": str(directory / "server.key"),
    }
    if client_ca:
        options["tls_client_ca"] = str(directory / "ca.pem")
    return options
