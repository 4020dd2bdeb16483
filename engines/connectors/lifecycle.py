"""The lifecycle of a connector as one table: which event moves which status where.

REGISTERED (never tested) and CONFIGURING (its connection settings changed since the last test)
go to CONNECTED on a passing test and to ERROR on a failing one, as READY and CONNECTED do.
DisconnectConnector takes a connector out of service (DISCONNECTED: tests are still counted,
its status stays); ReconnectConnector puts it back as READY (in service, awaiting its next
test). DEPRECATED is final."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from engines.kernel.errors import FailedPrecondition

__all__ = ["TRANSITIONS", "ConnectorEvent", "ConnectorStatus", "next_status"]


class ConnectorStatus(enum.StrEnum):
    REGISTERED = "registered"
    CONFIGURING = "configuring"
    READY = "ready"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    DEPRECATED = "deprecated"


class ConnectorEvent(enum.StrEnum):
    RECONFIGURE = "reconfigure"  # UpdateConnector changed endpoint, config or credential_ref
    PASS_TEST = "pass_test"
    FAIL_TEST = "fail_test"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    DEPRECATE = "deprecate"


_S, _E = ConnectorStatus, ConnectorEvent
_IN_SERVICE = (_S.REGISTERED, _S.CONFIGURING, _S.READY, _S.CONNECTED, _S.ERROR)

# (current status, event) -> new status. A pair that is absent is not allowed.
TRANSITIONS: Mapping[tuple[ConnectorStatus, ConnectorEvent], ConnectorStatus] = {
    **{(s, _E.RECONFIGURE): _S.CONFIGURING for s in _IN_SERVICE},
    **{(s, _E.PASS_TEST): _S.CONNECTED for s in _IN_SERVICE},
    **{(s, _E.FAIL_TEST): _S.ERROR for s in _IN_SERVICE},
    **{(s, _E.DISCONNECT): _S.DISCONNECTED for s in (*_IN_SERVICE, _S.DISCONNECTED)},
    **{(s, _E.DEPRECATE): _S.DEPRECATED for s in (*_IN_SERVICE, _S.DISCONNECTED, _S.DEPRECATED)},
    (_S.DISCONNECTED, _E.RECONNECT): _S.READY,
    # Out of service: changes and tests are recorded, the status stays.
    (_S.DISCONNECTED, _E.RECONFIGURE): _S.DISCONNECTED,
    (_S.DISCONNECTED, _E.PASS_TEST): _S.DISCONNECTED,
    (_S.DISCONNECTED, _E.FAIL_TEST): _S.DISCONNECTED,
    (_S.DEPRECATED, _E.RECONFIGURE): _S.DEPRECATED,
    (_S.DEPRECATED, _E.PASS_TEST): _S.DEPRECATED,
    (_S.DEPRECATED, _E.FAIL_TEST): _S.DEPRECATED,
}


def next_status(current: ConnectorStatus, event: ConnectorEvent) -> ConnectorStatus:
    """The status `event` leads to from `current`, or FAILED_PRECONDITION naming both."""
    target = TRANSITIONS.get((current, event))
    if target is None:
        allowed = sorted(s.name for (s, e) in TRANSITIONS if e is event)
        raise FailedPrecondition(
            "CONNECTOR_TRANSITION_NOT_ALLOWED",
            f"cannot {event.value} a connector in status {current.name}; "
            f"allowed from: {', '.join(allowed)}",
            metadata={"status": current.name, "action": event.value},
        )
    return target
