"""Every service of a server behind one generic handler, so that grpc.aio serves all methods
from one queue of incoming calls.

The generated `add_*Servicer_to_server` functions register each method twice: in a generic
handler and as a *registered method*. For registered methods grpc core keeps a separate queue of
incoming calls per method, and grpc.aio asks for the next call of each queue in turn; under load
(64 callers) calls to a busy method wait for their own queue's turn while other methods' calls are
taken, which is what made GetIntegration's p50 21 times the health Check's while the other reads
sat at 4 to 5 times. Through generic handlers only, calls are taken in arrival order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import grpc

__all__ = ["FifoHandlers"]


class FifoHandlers(grpc.GenericRpcHandler):
    """Stands in for the server in `add_*Servicer_to_server(servicer, handlers)`: collects the
    method handlers into one table (one lookup per call) and registers nothing per method.
    `install()` adds the table to the server once, before it starts."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server
        self._methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        self._others: list[grpc.GenericRpcHandler] = []
        self._installed = False

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        for method, handler in method_handlers.items():
            self._methods[f"/{service_name}/{method}"] = handler

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        # grpc's own dictionary handlers (what generated code passes) join the table; any other
        # handler is asked after it.
        for handler in generic_rpc_handlers:
            methods = getattr(handler, "_method_handlers", None)
            if isinstance(methods, dict):
                self._methods.update(methods)
            else:
                self._others.append(handler)

    def as_server(self) -> grpc.aio.Server:
        """This collector, typed as what the generated registration functions take."""
        return cast(grpc.aio.Server, self)

    def install(self) -> None:
        if not self._installed:
            self._server.add_generic_rpc_handlers((self,))
            self._installed = True

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        found = self._methods.get(handler_call_details.method)
        if found is not None:
            return found
        for handler in self._others:
            found = handler.service(handler_call_details)
            if found is not None:
                return found
        return None

    def __getattr__(self, name: str) -> Any:  # anything else a registration helper asks for
        return getattr(self._server, name)

