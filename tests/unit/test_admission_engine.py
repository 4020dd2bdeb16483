"""AdmissionEngine with hand-written fakes: the key reveal and what happens to the reservation
when it fails, replays, and the settle comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from engines.admission.control import (
    AdmissionEngine,
    AdmitOutcome,
    BatchStatus,
    GroupBy,
    Planner,
    Reading,
    Reservation,
    ReservationState,
    SettledUsage,
    Settlement,
    SettleOutcome,
    SummaryRow,
    UsageRecord,
)
from engines.admission.limits import (
    AdmissionPolicy,
    CallEstimate,
    Counters,
    Verdict,
    window_at,
)
from engines.credentials.credential_service import Credential
from engines.kernel.errors import FailedPrecondition, NotFound, PermissionDenied
from tests.unit.test_admission_limits import integration

NOW = datetime(2026, 5, 5, 12, tzinfo=timezone.utc)
TENANT = "11111111-1111-4111-8111-111111111111"
INTEGRATION = "22222222-2222-4222-8222-222222222222"


@dataclass
class FakeStore:
    """Keeps reservations in a dict; `admit` calls the planner the way the SQL store does."""

    reservations: dict[str, Reservation] = field(default_factory=dict)
    records: dict[str, UsageRecord] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)
    admits: int = 0

    async def admit(
        self, estimate: CallEstimate, now: datetime, plan: Planner
    ) -> AdmitOutcome | None:
        self.admits += 1
        found = integration(id=INTEGRATION, tenant_id=TENANT, budget_limit_cents=100)
        policy = AdmissionPolicy(INTEGRATION)
        earlier = self.reservations.get(estimate.call_id)
        reading = Reading(found, policy, window_at(now), Counters(), None, earlier)
        planned = plan(reading)
        decision, reservation = planned.decision, planned.reservation
        replayed = reservation is not None and reservation is earlier
        if reservation is not None:
            self.reservations[reservation.call_id] = reservation
        return AdmitOutcome(reading, decision, reservation, replayed)

    async def release(self, reservation: Reservation) -> None:
        self.released.append(reservation.id)

    async def settle(
        self, tenant_id: str, call_id: str, reservation_id: str, usage: SettledUsage,
        now: datetime,
    ) -> SettleOutcome | None:
        reservation = self.reservations.get(call_id)
        if reservation is None:
            return None
        if call_id in self.records:
            return SettleOutcome(reservation, self.records[call_id], False)
        self.records[call_id] = usage.record_for(reservation)
        return SettleOutcome(reservation, self.records[call_id], True)

    async def expire_due(self, tenant_id: str, now: datetime) -> int:
        return 0

    async def owned_integrations(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        return set()

    async def record_batch(
        self, records: Sequence[UsageRecord]
    ) -> list[tuple[BatchStatus, UsageRecord]]:
        return []

    async def summary(
        self, tenant_id: str, integration_id: str | None, start: datetime, end: datetime,
        group_by: Sequence[GroupBy],
    ) -> list[SummaryRow]:
        return []

    async def get_policy(self, tenant_id: str, integration_id: str) -> AdmissionPolicy | None:
        return None

    async def put_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy:
        return policy


class FakeCredentials:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.reveals = 0
        self.destinations: list[str | None] = []

    async def use(self, credential_ref: str, tenant_id: str, destination: str | None) -> Credential:
        self.reveals += 1
        self.destinations.append(destination)
        if self.fail:
            raise NotFound("credential", credential_ref)
        return Credential("sk-fake")

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        raise NotImplementedError

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        raise NotImplementedError


class NoIntegrations:
    async def get(self, tenant_id: str, integration_id: str) -> None:
        return None


def engine(store: FakeStore, credentials: FakeCredentials) -> AdmissionEngine:
    return AdmissionEngine(store, NoIntegrations(), credentials, clock=lambda: NOW)


def call(call_id: str = "c1", cost: int = 10) -> CallEstimate:
    return CallEstimate(TENANT, INTEGRATION, call_id, "", 1, 1, cost)


async def test_a_key_without_credentials_reveal_is_refused_before_anything_is_reserved() -> None:
    store, credentials = FakeStore(), FakeCredentials()
    with pytest.raises(PermissionDenied) as caught:
        await engine(store, credentials).admit(call(), include_credential=True, may_reveal=False)
    assert caught.value.metadata == {"required_scope": "credentials.reveal"}
    assert (store.admits, credentials.reveals) == (0, 0)


async def test_a_failed_reveal_gives_a_new_reservation_back_but_not_a_replayed_one() -> None:
    store, credentials = FakeStore(), FakeCredentials(fail=True)
    with pytest.raises(NotFound):
        await engine(store, credentials).admit(call(), include_credential=True, may_reveal=True)
    assert store.released == [store.reservations["c1"].id]
    # A replay of an open reservation whose reveal fails keeps the reservation.
    store.released.clear()
    with pytest.raises(NotFound):
        await engine(store, credentials).admit(call(), include_credential=True, may_reveal=True)
    assert store.released == []


async def test_admission_answers_the_target_and_a_replay_the_same_reservation() -> None:
    store, credentials = FakeStore(), FakeCredentials()
    first = await engine(store, credentials).admit(call(), include_credential=True, may_reveal=True)
    assert first.target is not None and first.target.credential == Credential("sk-fake")
    assert first.target.model == "m" and first.reservation is not None
    assert first.reservation.expire_time == NOW + timedelta(minutes=5)
    again = await engine(store, credentials).admit(call())
    assert again.replayed and again.reservation == first.reservation
    assert again.target is not None and again.target.credential is None


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        pytest.param(ReservationState.SETTLED, "CALL_ALREADY_SETTLED", id="settled"),
        pytest.param(ReservationState.EXPIRED, "RESERVATION_EXPIRED", id="expired"),
        pytest.param(ReservationState.RELEASED, "RESERVATION_EXPIRED", id="released"),
    ],
)
async def test_a_call_id_that_is_no_longer_open_is_refused(
    state: ReservationState, reason: str
) -> None:
    store = FakeStore()
    await engine(store, FakeCredentials()).admit(call())
    earlier = store.reservations["c1"]
    store.reservations["c1"] = Reservation(**{
        **{f: getattr(earlier, f) for f in Reservation.__slots__}, "state": state,
    })
    with pytest.raises(FailedPrecondition) as caught:
        await engine(store, FakeCredentials()).admit(call())
    assert caught.value.reason == reason


async def test_settling_again_compares_the_numbers() -> None:
    store = FakeStore()
    admission = engine(store, FakeCredentials())
    await admission.admit(call())
    settlement = Settlement(TENANT, "c1", "", input_tokens=3, output_tokens=4, cost_cents=5)
    first = await admission.settle(settlement)
    assert first.recorded and first.record.tokens == 7
    assert first.record.policy_result is Verdict.ALLOW
    again = await admission.settle(settlement)
    assert (again.recorded, again.record.id) == (False, first.record.id)
    with pytest.raises(FailedPrecondition) as caught:
        await admission.settle(Settlement(TENANT, "c1", "", 3, 4, cost_cents=6))
    assert caught.value.reason == "SETTLEMENT_MISMATCH"
    with pytest.raises(NotFound):
        await admission.settle(Settlement(TENANT, "unknown", "", 0, 0, 0))
