"""Prevention records: append-only evidence that a policy blocked a request, and the graduation
rules that count that evidence. The contract deciding what may be recorded lives in
`engines.prevention.contract`.
"""

from __future__ import annotations

import enum
import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Protocol

from engines.kernel.clock import Clock, system_clock
from engines.kernel.errors import FieldViolation, InvalidArgument
from engines.kernel.idempotency import idempotency_key
from engines.kernel.lookup import find_owned
from engines.kernel.pagination import Page, PageTokens, read_page
from engines.kernel.store import ResourceStore
from engines.kernel.validation import require_uuid
from engines.prevention.contract import (
    CONTRACT_VERSION,
    ContractResult,
    PreventionCandidate,
    require_valid,
    validate,
)

__all__ = [
    "GraduationCounts",
    "GraduationReason",
    "GraduationVerdict",
    "PreventionEngine",
    "PreventionRecord",
    "PreventionStore",
    "RecordFilters",
    "as_utc",
    "check_candidate",
    "graduation_verdict",
]

RESOURCE = "prevention record"
_MAX_ID_LENGTH = 128
_MAX_POLICY_MODE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PreventionRecord:
    """A stored candidate; immutable once appended (the database refuses UPDATE and DELETE)."""

    id: str
    candidate: PreventionCandidate
    contract_version: str
    create_time: datetime

    @property
    def tenant_id(self) -> str:
        return self.candidate.tenant_id


@dataclass(frozen=True, slots=True)
class RecordFilters:
    """Optional list filters; None means any."""

    policy_id: str | None = None
    pattern_id: str | None = None


class GraduationReason(enum.StrEnum):
    """Why a record does or does not count; simulation is checked before the activation time."""

    QUALIFIES = "QUALIFIES"
    SIMULATED = "SIMULATED"
    BEFORE_ACTIVATION = "BEFORE_ACTIVATION"


@dataclass(frozen=True, slots=True)
class GraduationVerdict:
    """Whether one record counts towards its policy's graduation, and why."""

    counts: bool
    reason: GraduationReason


@dataclass(frozen=True, slots=True)
class GraduationCounts:
    """A policy's records split by verdict; the three parts add up to `total`."""

    qualifying: int
    simulated: int
    before_activation: int
    total: int


class PreventionStore(ResourceStore[PreventionRecord, RecordFilters], Protocol):
    """Append-only persistence of prevention records; lists are newest first."""

    async def graduation_counts(
        self, tenant_id: str, policy_id: str, activated_at: datetime
    ) -> GraduationCounts:
        """Counts the policy's records by verdict (in the database, not by loading rows)."""


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def graduation_verdict(record: PreventionRecord, policy_activated_at: datetime) -> GraduationVerdict:
    """A record counts when it is not simulated and was created at or after the activation."""
    if record.candidate.is_simulated:
        return GraduationVerdict(False, GraduationReason.SIMULATED)
    if as_utc(record.create_time) < as_utc(policy_activated_at):
        return GraduationVerdict(False, GraduationReason.BEFORE_ACTIVATION)
    return GraduationVerdict(True, GraduationReason.QUALIFIES)


def _text_violations(candidate: PreventionCandidate) -> list[FieldViolation]:
    limits = {
        "policy_id": _MAX_ID_LENGTH,
        "pattern_id": _MAX_ID_LENGTH,
        "blocked_incident_id": _MAX_ID_LENGTH,
        "original_incident_id": _MAX_ID_LENGTH,
        "policy_mode": _MAX_POLICY_MODE_LENGTH,
    }
    violations = []
    for name, limit in limits.items():
        value: str = getattr(candidate, name)
        if len(value) > limit:
            violations.append(FieldViolation(f"candidate.{name}", f"must be at most {limit} characters"))
        elif any(ord(c) < 32 for c in value):
            violations.append(FieldViolation(f"candidate.{name}", "must not contain control characters"))
    return violations


def check_candidate(candidate: PreventionCandidate) -> PreventionCandidate:
    """Refuses malformed input (INVALID_ARGUMENT) before the contract is consulted.

    Missing required fields are left to the contract's *_REQUIRED rules; a present tenant_id
    must be a UUID and is returned in canonical form; the confidence must be a number in 0..1."""
    violations = _text_violations(candidate)
    confidence = candidate.signature_match_confidence
    if not math.isfinite(confidence) or not 0.0 <= confidence <= 1.0:
        violations.append(
            FieldViolation("candidate.signature_match_confidence", "must be a number from 0 to 1")
        )
    tenant_id = candidate.tenant_id
    if tenant_id.strip():
        try:
            tenant_id = require_uuid("candidate.tenant_id", tenant_id)
        except InvalidArgument as exc:
            violations.extend(exc.violations)
    if violations:
        raise InvalidArgument(violations)
    return replace(candidate, tenant_id=tenant_id)


def _require_activation(policy_activated_at: datetime | None) -> datetime:
    if policy_activated_at is None:
        raise InvalidArgument.single("policy_activated_at", "is required")
    return as_utc(policy_activated_at)


class PreventionEngine:
    """The rules of PreventionService: contract checks, idempotent appends, graduation."""

    def __init__(
        self,
        store: PreventionStore,
        *,
        clock: Clock = system_clock,
        page_tokens: PageTokens | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._page_tokens = page_tokens  # None: a key of this process only

    def validate_candidate(self, candidate: PreventionCandidate) -> ContractResult:
        """Checks a candidate against the contract; stores nothing."""
        return validate(check_candidate(candidate))

    async def create(self, candidate: PreventionCandidate, *, request_id: str = "") -> PreventionRecord:
        """Validates, then appends; a repeated (tenant, request_id) returns the first record."""
        candidate = check_candidate(candidate)
        key = idempotency_key(request_id, candidate)
        require_valid(candidate)
        # No look-up first: the store's unique (tenant_id, request_id) index settles repeats and
        # races alike, and saves a round trip on every first create.
        record = PreventionRecord(
            id=str(uuid.uuid4()),
            candidate=candidate,
            contract_version=CONTRACT_VERSION,
            create_time=self._clock(),
        )
        return await self._store.insert(record, key)

    async def get(self, tenant_id: str, record_id: str) -> PreventionRecord:
        return await find_owned(
            self._store.get, tenant_id, record_id, resource=RESOURCE, id_field="record_id"
        )

    async def list(
        self, tenant_id: str, page_size: int, page_token: str, filters: RecordFilters
    ) -> Page[PreventionRecord]:
        """The tenant's records, newest first."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        return await read_page(
            page_size,
            page_token,
            {"tenant": tenant_id, "policy": filters.policy_id, "pattern": filters.pattern_id},
            lambda page: self._store.list(tenant_id, filters, page),
            tokens=self._page_tokens,
        )

    async def graduation_verdict(
        self, tenant_id: str, record_id: str, policy_activated_at: datetime | None
    ) -> GraduationVerdict:
        activated_at = _require_activation(policy_activated_at)
        return graduation_verdict(await self.get(tenant_id, record_id), activated_at)

    async def evaluate_graduation(
        self, tenant_id: str, policy_id: str, policy_activated_at: datetime | None
    ) -> GraduationCounts:
        """Counts the tenant's records of `policy_id` by graduation verdict."""
        tenant_id = require_uuid("tenant_id", tenant_id)
        violations = []
        if not policy_id.strip():
            violations.append(FieldViolation("policy_id", "is required"))
        elif len(policy_id) > _MAX_ID_LENGTH:
            violations.append(
                FieldViolation("policy_id", f"must be at most {_MAX_ID_LENGTH} characters")
            )
        if policy_activated_at is None:
            violations.append(FieldViolation("policy_activated_at", "is required"))
        if violations:
            raise InvalidArgument(violations)
        return await self._store.graduation_counts(
            tenant_id, policy_id, _require_activation(policy_activated_at)
        )
