"""Facts about the RPC being served (method, caller, tenant), shared between interceptors and
servicers through a context variable."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

import grpc

__all__ = ["ANONYMOUS", "CallInfo", "Context", "current_call", "start_call"]

# The servicer context every servicer method and interceptor receives.
Context = grpc.aio.ServicerContext[Any, Any]

ANONYMOUS = "anonymous"


@dataclass(slots=True)
class CallInfo:
    """Mutable record of one RPC; the authentication interceptor fills in `caller`."""

    method: str
    caller: str = ANONYMOUS
    tenant_id: str = ""
    request_id: str = ""
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] | None = None  # the caller's roles; None: every role (open mode)

    def holds(self, scope: str) -> bool:
        """Whether the caller was granted `scope` (or `*`)."""
        return "*" in self.scopes or scope in self.scopes


_current: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar(
    "integrations_call", default=None
)


def start_call(method: str) -> CallInfo:
    """Begins the record of an RPC in the current task's context."""
    info = CallInfo(method=method)
    _current.set(info)
    return info


def current_call() -> CallInfo:
    """The record of the RPC being served (a placeholder outside of one)."""
    return _current.get() or CallInfo(method="")
