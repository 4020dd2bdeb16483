"""fail_open: AdmissionEngine's answer when its store raises the database's Unavailable, from
what it last read of the integration (a fake store of our own port; no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from engines.admission.control import AdmissionEngine, AdmitOutcome, Planner, Reading, Settlement
from engines.admission.fail_open import LastReads
from engines.admission.limits import (
    AdmissionPolicy,
    CallEstimate,
    Counters,
    Reason,
    Verdict,
    window_at,
)
from engines.credentials.credential_service import Credential
from engines.integrations.integration import Integration, IntegrationStatus
from engines.kernel.errors import NotFound, Unavailable
from tests.unit.test_admission_engine import (
    INTEGRATION,
    NOW,
    TENANT,
    FakeCredentials,
    FakeStore,
    NoIntegrations,
    call,
)
from tests.unit.test_admission_limits import integration

DOWN = Unavailable("the service's database is unavailable; retry later")


@dataclass
class OutageStore(FakeStore):
    """FakeStore whose `admit` reads `found` and `policy`, or raises Unavailable while `down`."""

    down: bool = False
    policy: AdmissionPolicy = field(default_factory=lambda: AdmissionPolicy(INTEGRATION))
    found: Integration | None = field(default_factory=lambda: integration(
        id=INTEGRATION, tenant_id=TENANT, config={"base_url": "https://llm.example.com/v1"},
    ))

    async def admit(
        self, estimate: CallEstimate, now: datetime, plan: Planner
    ) -> AdmitOutcome | None:
        self.admits += 1
        if self.down:
            raise DOWN
        if self.found is None:
            return None
        reading = Reading(self.found, self.policy, window_at(now), Counters(), None, None)
        planned = plan(reading)
        return AdmitOutcome(reading, planned.decision, planned.reservation)

    async def put_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy:
        self.policy = policy
        return policy


class KnownIntegration:
    def __init__(self, store: OutageStore) -> None:
        self._store = store

    async def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        return self._store.found


class Unchecked:
    def __init__(self) -> None:
        self.providers: list[str] = []

    def admitted_unchecked(self, provider: str) -> None:
        self.providers.append(provider)


def _engine(
    store: OutageStore, credentials: FakeCredentials | None = None,
    observer: Unchecked | None = None,
) -> AdmissionEngine:
    return AdmissionEngine(
        store, NoIntegrations(), credentials or FakeCredentials(), clock=lambda: NOW,
        observer=observer or Unchecked(),
    )


async def test_a_fail_open_integration_read_before_is_admitted_unchecked_during_an_outage() -> None:
    store, observer = OutageStore(policy=AdmissionPolicy(INTEGRATION, fail_open=True)), Unchecked()
    engine = _engine(store, observer=observer)
    warm = await engine.admit(call("warm"))
    assert not warm.unchecked and warm.reservation is not None
    store.down = True
    admission = await engine.admit(CallEstimate(TENANT, INTEGRATION, "c1", "gpt-x", 1, 1, 10**9))
    assert admission.unchecked and not admission.replayed
    assert admission.decision.verdict is Verdict.ALLOW and admission.decision.admitted
    assert [r.reason for r in admission.decision.reasons] == [Reason.ADMITTED_UNCHECKED]
    assert admission.decision.limits == () and admission.reservation is None
    target = admission.target
    assert target is not None and target.credential is None
    assert (target.integration_id, target.provider_type.value, target.base_url, target.model,
            target.credential_ref) == (INTEGRATION, "openai", "https://llm.example.com/v1",
                                       "gpt-x", "env://K")
    assert observer.providers == ["openai"]
    # Storage back: admission is checked and reserves again.
    store.down = False
    again = await engine.admit(call("after"))
    assert not again.unchecked and again.reservation is not None and again.decision.limits
    assert observer.providers == ["openai"]


async def test_the_default_model_is_the_target_of_an_unchecked_call_without_one() -> None:
    store = OutageStore(policy=AdmissionPolicy(INTEGRATION, fail_open=True))
    engine = _engine(store)
    await engine.admit(call("warm"))
    store.down = True
    admission = await engine.admit(call("c1"))
    assert admission.target is not None and admission.target.model == "m"


@pytest.mark.parametrize(
    ("policy", "found", "warm"),
    [
        pytest.param(AdmissionPolicy(INTEGRATION, fail_open=True), None, False,
                     id="never-read"),
        pytest.param(AdmissionPolicy(INTEGRATION), None, True, id="fail-closed-policy"),
        pytest.param(AdmissionPolicy(INTEGRATION, fail_open=True),
                     integration(id=INTEGRATION, tenant_id=TENANT,
                                 status=IntegrationStatus.DISABLED), True, id="disabled"),
    ],
)
async def test_otherwise_the_outage_is_unavailable(
    policy: AdmissionPolicy, found: Integration | None, warm: bool
) -> None:
    store, observer = OutageStore(policy=policy), Unchecked()
    if found is not None:
        store.found = found
    engine = _engine(store, observer=observer)
    if warm:
        await engine.admit(call("warm"))
    store.down = True
    with pytest.raises(Unavailable) as caught:
        await engine.admit(call("c1"))
    assert caught.value is DOWN
    assert observer.providers == []


async def test_a_fail_open_outage_reveals_the_key_or_answers_the_reveals_error() -> None:
    store = OutageStore(policy=AdmissionPolicy(INTEGRATION, fail_open=True))
    credentials, observer = FakeCredentials(), Unchecked()
    engine = _engine(store, credentials, observer)
    await engine.admit(call("warm"))
    store.down = True
    admission = await engine.admit(call("c1"), include_credential=True, may_reveal=True)
    assert admission.unchecked and admission.target is not None
    assert admission.target.credential == Credential("sk-fake")
    assert credentials.destinations == ["llm.example.com:443"]
    credentials.fail = True  # the credential service is down too: its error, no invented key
    with pytest.raises(NotFound):
        await engine.admit(call("c2"), include_credential=True, may_reveal=True)
    assert observer.providers == ["openai"]  # the first only


async def test_setting_the_policy_warms_the_cache_and_turning_it_off_fails_closed() -> None:
    store = OutageStore()
    engine = AdmissionEngine(store, KnownIntegration(store), FakeCredentials(), clock=lambda: NOW)
    await engine.update_policy(TENANT, AdmissionPolicy(INTEGRATION, fail_open=True))
    store.down = True
    assert (await engine.admit(call("c1"))).unchecked
    store.down = False
    await engine.update_policy(TENANT, AdmissionPolicy(INTEGRATION, fail_open=False))
    store.down = True
    with pytest.raises(Unavailable):
        await engine.admit(call("c2"))


async def test_an_integration_found_gone_is_forgotten() -> None:
    store = OutageStore(policy=AdmissionPolicy(INTEGRATION, fail_open=True))
    engine = _engine(store)
    await engine.admit(call("warm"))
    store.found = None
    with pytest.raises(NotFound):
        await engine.admit(call("c1"))
    store.down = True
    with pytest.raises(Unavailable):
        await engine.admit(call("c2"))


async def test_settling_an_unchecked_call_is_not_found_and_says_what_to_do() -> None:
    store = OutageStore(policy=AdmissionPolicy(INTEGRATION, fail_open=True))
    engine = _engine(store)
    with pytest.raises(NotFound) as caught:
        await engine.settle(Settlement(TENANT, "unchecked-1", "", 1, 1, 1))
    assert "RecordUsageBatch" in caught.value.message


def test_last_reads_keep_the_most_recently_used_entries() -> None:
    reads = LastReads(2)
    policy = AdmissionPolicy("a")
    for name in ("a", "b"):
        reads.put(integration(id=name, tenant_id="t"), policy, NOW)
    assert reads.get("t", "a") is not None  # a is now the most recent
    reads.put(integration(id="c", tenant_id="t"), policy, NOW)
    assert len(reads) == 2
    assert reads.get("t", "b") is None
    assert reads.get("t", "a") is not None and reads.get("t", "c") is not None
    assert reads.get("other", "a") is None
    with pytest.raises(ValueError):
        LastReads(0)
