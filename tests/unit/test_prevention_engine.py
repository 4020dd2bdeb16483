"""PreventionEngine with a hand-written in-memory store: input checks, appends, idempotency,
paging and the graduation rules on both sides of the activation instant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest
from engines.prevention.contract import PreventionCandidate
from engines.prevention.records import (
    GraduationCounts,
    GraduationReason,
    PreventionEngine,
    PreventionRecord,
    RecordFilters,
    as_utc,
    graduation_verdict,
)
from tests.unit.request_ids import RequestIds

T0 = datetime(2026, 1, 10, 12, 0, 0, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)


class TickingClock:
    """A clock that moves one second on every reading, so creates are strictly ordered."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class FakePreventionStore:
    """Keeps records in a list; mirrors the SQL store's contract."""

    def __init__(self) -> None:
        self.records: list[tuple[PreventionRecord, str | None]] = []
        self.counts_asked: list[tuple[str, str, datetime]] = []
        self.request_ids: RequestIds[PreventionRecord] = RequestIds("prevention record")

    async def insert(self, record: PreventionRecord, key: IdempotencyKey | None) -> PreventionRecord:
        earlier = self.request_ids.earlier(record.tenant_id, key, self._by_id())
        if earlier is not None:
            return earlier
        self.records.append((record, key.request_id if key else None))
        self.request_ids.remember(record.tenant_id, record.id, key)
        return record

    def _by_id(self) -> dict[str, PreventionRecord]:
        return {r.id: r for r, _ in self.records}

    async def get(self, tenant_id: str, record_id: str) -> PreventionRecord | None:
        return next(
            (r for r, _ in self.records if r.tenant_id == tenant_id and r.id == record_id), None
        )

    async def find_by_request_id(
        self, tenant_id: str, request_id: str
    ) -> Replay[PreventionRecord] | None:
        return self.request_ids.find(tenant_id, request_id, self._by_id())

    async def list(
        self, tenant_id: str, filters: RecordFilters, page: PageRequest
    ) -> tuple[Sequence[PreventionRecord], int]:
        rows = [
            r
            for r, _ in self.records
            if r.tenant_id == tenant_id
            and filters.policy_id in (None, r.candidate.policy_id)
            and filters.pattern_id in (None, r.candidate.pattern_id)
        ]
        rows.sort(key=lambda r: (r.create_time, r.id), reverse=True)
        after = [r for r in rows if page.after is None or (r.create_time, r.id) < page.after]
        return after[: page.size + 1], len(rows)

    async def graduation_counts(
        self, tenant_id: str, policy_id: str, activated_at: datetime
    ) -> GraduationCounts:
        self.counts_asked.append((tenant_id, policy_id, activated_at))
        return GraduationCounts(0, 0, 0, 0)


@pytest.fixture
def store() -> FakePreventionStore:
    return FakePreventionStore()


@pytest.fixture
def engine(store: FakePreventionStore) -> PreventionEngine:
    return PreventionEngine(store, clock=TickingClock())


def candidate(tenant_id: str = "", **changes: object) -> PreventionCandidate:
    base = PreventionCandidate(
        policy_id="policy-1",
        pattern_id="pattern-1",
        tenant_id=tenant_id or str(uuid.uuid4()),
        signature_match_confidence=0.8,
        policy_mode="active",
        pattern_signature={"path": "/v1/chat"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def record_at(create_time: datetime, *, simulated: bool = False) -> PreventionRecord:
    return PreventionRecord(
        id=str(uuid.uuid4()),
        candidate=candidate(is_simulated=simulated),
        contract_version="1.0.0",
        create_time=create_time,
    )


async def test_create_appends_with_contract_version(
    engine: PreventionEngine, store: FakePreventionStore
) -> None:
    created = await engine.create(candidate())
    assert created.contract_version == "1.0.0"
    assert created.create_time > T0
    assert [r for r, _ in store.records] == [created]


async def test_create_refuses_a_contract_violation_and_stores_nothing(
    engine: PreventionEngine, store: FakePreventionStore
) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        await engine.create(candidate(incident_created=True, signature_match_confidence=0.1))
    assert caught.value.reason == "INCIDENT_CREATED"
    assert store.records == []


async def test_validate_stores_nothing(engine: PreventionEngine, store: FakePreventionStore) -> None:
    assert engine.validate_candidate(candidate()).valid
    assert engine.validate_candidate(candidate(policy_mode="shadow")).rule == "POLICY_MODE"
    assert store.records == []


async def test_request_id_makes_create_idempotent_per_tenant(
    engine: PreventionEngine, store: FakePreventionStore
) -> None:
    tenant = str(uuid.uuid4())
    first = await engine.create(candidate(tenant), request_id="req-1")
    again = await engine.create(candidate(tenant), request_id="req-1")
    other = await engine.create(candidate(), request_id="req-1")
    assert again == first
    assert other.id != first.id
    assert len(store.records) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"tenant_id": "not-a-uuid"}, "candidate.tenant_id", id="tenant-not-uuid"),
        pytest.param({"signature_match_confidence": 1.5}, "candidate.signature_match_confidence",
                     id="confidence-above-1"),
        pytest.param({"signature_match_confidence": -0.1}, "candidate.signature_match_confidence",
                     id="confidence-negative"),
        pytest.param({"signature_match_confidence": float("nan")},
                     "candidate.signature_match_confidence", id="confidence-nan"),
        pytest.param({"policy_id": "p" * 129}, "candidate.policy_id", id="policy-too-long"),
        pytest.param({"pattern_id": "a\nb"}, "candidate.pattern_id", id="pattern-control-char"),
        pytest.param({"blocked_incident_id": "i" * 129}, "candidate.blocked_incident_id",
                     id="incident-too-long"),
        pytest.param({"policy_mode": "m" * 65}, "candidate.policy_mode", id="mode-too-long"),
    ],
)
async def test_malformed_candidates_are_invalid_argument(
    engine: PreventionEngine, store: FakePreventionStore, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await engine.create(candidate(**change))
    assert [v.field for v in caught.value.violations] == [field]
    with pytest.raises(InvalidArgument):
        engine.validate_candidate(candidate(**change))
    assert store.records == []


async def test_request_id_length_is_checked(engine: PreventionEngine) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await engine.create(candidate(), request_id="r" * 129)
    assert caught.value.violations[0].field == "request_id"


async def test_tenant_id_is_stored_canonical(engine: PreventionEngine) -> None:
    tenant = str(uuid.uuid4())
    created = await engine.create(candidate(tenant.upper()))
    assert created.tenant_id == tenant


async def test_get_is_not_found_for_another_tenant_with_the_same_message(
    engine: PreventionEngine,
) -> None:
    created = await engine.create(candidate())
    missing_id = str(uuid.uuid4())
    with pytest.raises(NotFound) as other:
        await engine.get(str(uuid.uuid4()), created.id)
    with pytest.raises(NotFound) as missing:
        await engine.get(created.tenant_id, missing_id)
    assert other.value.message == missing.value.message.replace(missing_id, created.id)


async def test_list_is_newest_first_and_pages(engine: PreventionEngine) -> None:
    tenant = str(uuid.uuid4())
    made = [await engine.create(candidate(tenant, policy_id=f"p{i % 2}")) for i in range(5)]
    first = await engine.list(tenant, 2, "", RecordFilters())
    second = await engine.list(tenant, 2, first.next_page_token, RecordFilters())
    third = await engine.list(tenant, 2, second.next_page_token, RecordFilters())
    listed = [*first.items, *second.items, *third.items]
    assert listed == made[::-1]
    assert third.next_page_token == ""
    assert first.total_size == 5
    only_p0 = await engine.list(tenant, 0, "", RecordFilters(policy_id="p0"))
    assert [r.id for r in only_p0.items] == [made[4].id, made[2].id, made[0].id]
    with pytest.raises(InvalidArgument):
        await engine.list(tenant, 2, first.next_page_token, RecordFilters(policy_id="p0"))


@pytest.mark.parametrize(
    ("offset", "simulated", "reason"),
    [
        pytest.param(timedelta(0), False, GraduationReason.QUALIFIES, id="at-activation"),
        pytest.param(TICK, False, GraduationReason.QUALIFIES, id="just-after"),
        pytest.param(-TICK, False, GraduationReason.BEFORE_ACTIVATION, id="just-before"),
        pytest.param(TICK, True, GraduationReason.SIMULATED, id="simulated-after"),
        pytest.param(-TICK, True, GraduationReason.SIMULATED, id="simulated-before"),
    ],
)
def test_graduation_verdict_around_the_activation_instant(
    offset: timedelta, simulated: bool, reason: GraduationReason
) -> None:
    verdict = graduation_verdict(record_at(T0 + offset, simulated=simulated), T0)
    assert verdict.reason is reason
    assert verdict.counts is (reason is GraduationReason.QUALIFIES)


def test_naive_timestamps_are_utc() -> None:
    naive = T0.replace(tzinfo=None)
    assert as_utc(naive) == T0
    plus_two = timezone(timedelta(hours=2))
    assert as_utc(T0.astimezone(plus_two)) == T0
    # A naive activation equal to the record's instant counts; one microsecond later does not.
    assert graduation_verdict(record_at(T0), naive).counts
    assert not graduation_verdict(record_at(T0), naive + TICK).counts
    assert graduation_verdict(record_at(naive), T0).counts
    assert not graduation_verdict(record_at(naive - TICK), T0).counts


async def test_graduation_verdict_needs_activation_and_a_visible_record(
    engine: PreventionEngine,
) -> None:
    created = await engine.create(candidate())
    with pytest.raises(InvalidArgument) as caught:
        await engine.graduation_verdict(created.tenant_id, created.id, None)
    assert caught.value.violations[0].field == "policy_activated_at"
    with pytest.raises(NotFound):
        await engine.graduation_verdict(str(uuid.uuid4()), created.id, T0)
    verdict = await engine.graduation_verdict(created.tenant_id, created.id, created.create_time)
    assert verdict.counts


async def test_evaluate_graduation_checks_input_and_passes_utc_to_the_store(
    engine: PreventionEngine, store: FakePreventionStore
) -> None:
    tenant = str(uuid.uuid4())
    with pytest.raises(InvalidArgument) as caught:
        await engine.evaluate_graduation(tenant, "", None)
    assert {v.field for v in caught.value.violations} == {"policy_id", "policy_activated_at"}
    await engine.evaluate_graduation(tenant, "policy-1", T0.replace(tzinfo=None))
    assert store.counts_asked == [(tenant, "policy-1", T0)]
    assert store.counts_asked[0][2].tzinfo is not None
