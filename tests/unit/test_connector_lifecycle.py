"""The connector transition table: every status reachable, DEPRECATED final, out-of-service
connectors keep their status through tests and changes."""

from __future__ import annotations

import pytest

from engines.connectors.lifecycle import TRANSITIONS, ConnectorEvent, ConnectorStatus, next_status
from engines.kernel.errors import FailedPrecondition

S, E = ConnectorStatus, ConnectorEvent


def test_every_status_is_reachable_from_registered() -> None:
    reached, frontier = {S.REGISTERED}, [S.REGISTERED]
    while frontier:
        current = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(S)


def test_deprecated_is_final() -> None:
    assert {t for (s, _), t in TRANSITIONS.items() if s is S.DEPRECATED} == {S.DEPRECATED}
    with pytest.raises(FailedPrecondition) as caught:
        next_status(S.DEPRECATED, E.RECONNECT)
    assert caught.value.reason == "CONNECTOR_TRANSITION_NOT_ALLOWED"
    assert caught.value.metadata == {"status": "DEPRECATED", "action": "reconnect"}


@pytest.mark.parametrize("event", [E.PASS_TEST, E.FAIL_TEST, E.RECONFIGURE])
def test_out_of_service_statuses_stay(event: ConnectorEvent) -> None:
    assert next_status(S.DISCONNECTED, event) is S.DISCONNECTED
    assert next_status(S.DEPRECATED, event) is S.DEPRECATED


def test_only_a_disconnected_connector_reconnects() -> None:
    assert next_status(S.DISCONNECTED, E.RECONNECT) is S.READY
    for status in set(S) - {S.DISCONNECTED}:
        with pytest.raises(FailedPrecondition):
            next_status(status, E.RECONNECT)
