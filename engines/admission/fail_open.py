"""Fail-open admission: what AdmitCall answers for a `fail_open` integration while its store is
unavailable (docs/admission.md, "fail_open").

`LastReads` is each process's bounded memory of the integration and policy it last read
successfully per (tenant, integration); nothing else is known during an outage, so a key never
read since the process started fails closed, and so does one whose last read said fail_open
false, disabled or unhealthy. `unchecked_decision` is the ALLOW such an admission gets: no
counters were read, so it carries no limit snapshots, only the ADMITTED_UNCHECKED reason.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from engines.admission.limits import AdmissionPolicy, Decision, Reason, ReasonDetail, Verdict
from engines.integrations.integration import HealthState, Integration, IntegrationStatus

__all__ = ["DEFAULT_LAST_READS", "LastRead", "LastReads", "may_fail_open", "unchecked_decision"]

DEFAULT_LAST_READS = 4096


@dataclass(frozen=True, slots=True)
class LastRead:
    """An integration and its policy as a successful read found them, and when."""

    integration: Integration
    policy: AdmissionPolicy
    read_time: datetime


class LastReads:
    """Least recently used (tenant, integration) -> `LastRead`, at most `size` entries."""

    def __init__(self, size: int = DEFAULT_LAST_READS) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._entries: OrderedDict[tuple[str, str], LastRead] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, integration: Integration, policy: AdmissionPolicy, read_time: datetime) -> None:
        key = (integration.tenant_id, integration.id)
        self._entries[key] = LastRead(integration, policy, read_time)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def get(self, tenant_id: str, integration_id: str) -> LastRead | None:
        key = (tenant_id, integration_id)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def drop(self, tenant_id: str, integration_id: str) -> None:
        self._entries.pop((tenant_id, integration_id), None)


def may_fail_open(last: LastRead | None) -> bool:
    """Whether an admission may go out unchecked on what was last read: the policy says
    fail_open, and the integration was enabled with its circuit closed and not unhealthy (what
    would have blocked it then still blocks it: the outage answers UNAVAILABLE)."""
    if last is None or not last.policy.fail_open:
        return False
    integration = last.integration
    return (
        integration.status is IntegrationStatus.ENABLED
        and not integration.circuit.is_open
        and integration.health_state is not HealthState.UNHEALTHY
    )


def unchecked_decision(last: LastRead) -> Decision:
    """ALLOW, flagged ADMITTED_UNCHECKED, without limit snapshots (nothing was counted)."""
    return Decision(
        Verdict.ALLOW,
        (ReasonDetail(
            Reason.ADMITTED_UNCHECKED, None,
            "admitted without checking limits: the service's database is unavailable and the "
            "integration's admission policy is fail_open (integration and policy as this replica "
            f"last read them, at {last.read_time.isoformat()}); nothing was reserved or counted",
        ),),
        (),
    )
