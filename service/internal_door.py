"""The private door of the in-process credential service: a second gRPC server that serves only
credentials.v1 (and grpc.health.v1) to this process's own credential client, on a Unix socket in
a directory only the service's user can enter.

External callers reach every service, credentials included, only through the public listener
with its TLS, mutual TLS and caller file; the internal token is known to this door alone, so it
opens nothing on the public listener either."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from service.auth import CallerRegistry
from service.interceptors.auth import AuthInterceptor, RefusalHook
from service.interceptors.errors import ErrorMappingInterceptor
from service.interceptors.logging import RpcLoggingInterceptor
from service.interceptors.metrics import MetricsInterceptor
from service.metrics import ServiceMetrics
from service.server_shutdown import stop_unstarted

__all__ = ["InternalCredentialDoor"]

_SOCKET_NAME = "credentials.sock"
_PREFIX = "integrations-credentials-"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
_CREDENTIAL_SERVICE = credentials_pb2.DESCRIPTOR.services_by_name["CredentialService"].full_name


def _temp_parent() -> str:
    """The temporary directory ($TMPDIR), or /tmp when a socket path under it would not fit."""
    parent = tempfile.gettempdir()
    room = len(parent) + len(_PREFIX) + len(_SOCKET_NAME) + 10  # mkdtemp adds 8 characters
    return parent if room <= _MAX_SOCKET_PATH else "/tmp"


class InternalCredentialDoor:
    """Owns the Unix-socket server of the credential servicer; `token` is the bearer token of
    the internal caller, the only caller this door knows."""

    def __init__(
        self,
        servicer: credentials_pb2_grpc.CredentialServiceServicer,
        *,
        on_refused: RefusalHook | None,
        max_message_bytes: int,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        registry, self.token = CallerRegistry.internal_only()
        self._directory = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=_temp_parent()))  # 0700
        self.socket_path = self._directory / _SOCKET_NAME
        self._started = False
        self._server = grpc.aio.server(
            interceptors=[  # the same as the public listener's: every call logged and counted
                RpcLoggingInterceptor(),
                *([MetricsInterceptor(metrics)] if metrics else []),
                ErrorMappingInterceptor(),
                AuthInterceptor(registry, on_refused),
            ],
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        credentials_pb2_grpc.add_CredentialServiceServicer_to_server(servicer, self._server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        try:
            if self._server.add_insecure_port(f"unix:{self.socket_path}") == 0:
                raise RuntimeError(f"could not listen on {self.socket_path}")
            os.chmod(self.socket_path, 0o600)
        except BaseException:
            shutil.rmtree(self._directory, ignore_errors=True)
            raise

    @property
    def target(self) -> str:
        """The gRPC target of the door, for the in-process credential client's channel."""
        return f"unix:{self.socket_path}"

    async def start(self) -> None:
        await self._server.start()
        self._started = True
        await self._health.set(_CREDENTIAL_SERVICE, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        """Stops serving and removes the socket and its directory."""
        if self._started:
            await self._server.stop(0)
        else:
            await stop_unstarted(self._server)
        shutil.rmtree(self._directory, ignore_errors=True)
