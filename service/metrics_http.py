"""The `/metrics` endpoint: prometheus_client's WSGI exposition (text or OpenMetrics by the
scraper's Accept header, gzip when asked for) on a thread-per-request server of its own.

Scrapes are answered off the event loop serving RPCs. The app in front only confines it to
`GET`/`HEAD /metrics`; a client that stalls for 5 s is dropped."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from service.metrics import ServiceMetrics

__all__ = ["MetricsEndpoint"]

_READ_TIMEOUT_SECONDS = 5.0
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--metrics-listen {listen!r}: expected HOST:PORT (port 0 picks one)")
    return host.strip("[]") or "0.0.0.0", int(port)


def _only_metrics(app: WsgiApp) -> WsgiApp:
    """`app` at /metrics for GET and HEAD (the body dropped, its length kept); 404 and 405 else."""

    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"metrics are at /metrics\n"]
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"),
                                                      ("Content-Type", "text/plain; charset=utf-8")])
            return [b"use GET\n"]
        if method == "GET":
            return app(environ, start_response)
        head: list[Any] = []
        body = b"".join(app({**environ, "REQUEST_METHOD": "GET"},
                            lambda status, headers, *_: head.extend((status, headers))))
        start_response(head[0], [*head[1], ("Content-Length", str(len(body)))])
        return []

    return guarded


class _MetricsServer(ThreadingWSGIServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A scraper that hung up or stalled past the timeout: nothing to report."""


class _QuietHandler(WSGIRequestHandler):
    timeout = _READ_TIMEOUT_SECONDS  # a stalled client's socket read gives up

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Scrapes are not logged (one per 15 s per Prometheus)."""


class MetricsEndpoint:
    """Serves `metrics` at `/metrics` on `listen`; `port` is the bound port once started."""

    def __init__(self, listen: str, metrics: ServiceMetrics) -> None:
        self._host, self._requested_port = _split_listen(listen)
        self._metrics = metrics
        self._server: _MetricsServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    async def start(self) -> None:
        """Binds and starts accepting scrapes."""
        self._metrics.read_pool_on(asyncio.get_running_loop())
        try:
            family = socket.getaddrinfo(self._host, self._requested_port, type=socket.SOCK_STREAM,
                                        flags=socket.AI_PASSIVE)[0][0]
            server_class = type("_BoundMetricsServer", (_MetricsServer,), {"address_family": family})
            self._server = make_server(
                self._host, self._requested_port,
                _only_metrics(make_wsgi_app(self._metrics.registry)),
                server_class=server_class, handler_class=_QuietHandler,
            )
        except OSError as exc:
            raise ValueError(
                f"cannot listen for metrics on {self._host}:{self._requested_port}: "
                f"{exc.strerror or exc}"
            ) from None
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
            name="metrics-endpoint", daemon=True,
        )
        self._thread.start()

    async def close(self) -> None:
        """Stops accepting scrapes and releases the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join, 5)
