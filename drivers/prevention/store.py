"""SQL implementation of `engines.prevention.records.PreventionStore` (SQLite and PostgreSQL).

Only INSERT and SELECT: the table's triggers refuse UPDATE and DELETE anyway."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from drivers.kernel.database import Database
from drivers.kernel.repository import RepositoryStore, TenantRepository
from drivers.tables.prevention import prevention_records
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest
from engines.prevention.contract import PreventionCandidate
from engines.prevention.records import RESOURCE, GraduationCounts, PreventionRecord, RecordFilters

__all__ = ["SqlPreventionStore", "record_columns"]

_t = prevention_records.c


def record_columns(record: PreventionRecord) -> dict[str, Any]:
    """The row for `record` (also used to bulk-load records in benchmarks)."""
    candidate = record.candidate
    return {
        "id": record.id,
        "tenant_id": candidate.tenant_id,
        "policy_id": candidate.policy_id,
        "pattern_id": candidate.pattern_id,
        "blocked_incident_id": candidate.blocked_incident_id,
        "original_incident_id": candidate.original_incident_id,
        "signature_match_confidence": candidate.signature_match_confidence,
        "policy_mode": candidate.policy_mode,
        "pattern_signature": dict(candidate.pattern_signature),
        "request_signature": dict(candidate.request_signature),
        "incident_created": candidate.incident_created,
        "is_simulated": candidate.is_simulated,
        "contract_version": record.contract_version,
        "create_time": record.create_time,
    }


def _to_record(row: Any) -> PreventionRecord:
    return PreventionRecord(
        id=row.id,
        candidate=PreventionCandidate(
            policy_id=row.policy_id,
            pattern_id=row.pattern_id,
            tenant_id=row.tenant_id,
            blocked_incident_id=row.blocked_incident_id,
            original_incident_id=row.original_incident_id,
            signature_match_confidence=row.signature_match_confidence,
            policy_mode=row.policy_mode,
            pattern_signature=row.pattern_signature or {},
            request_signature=row.request_signature or {},
            incident_created=bool(row.incident_created),
            is_simulated=bool(row.is_simulated),
        ),
        contract_version=row.contract_version,
        create_time=row.create_time,
    )


class SqlPreventionStore(RepositoryStore[PreventionRecord]):
    """Prevention records in the service's database."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._rows = TenantRepository(
            database,
            prevention_records,
            _to_record,
            resource=RESOURCE,
            clash=None,
            newest_first=True,
        )

    async def insert(self, record: PreventionRecord, key: IdempotencyKey | None) -> PreventionRecord:
        return await self._rows.insert(record, record_columns(record), key)

    async def list(
        self, tenant_id: str, filters: RecordFilters, page: PageRequest
    ) -> tuple[Sequence[PreventionRecord], int]:
        conditions = []
        if filters.policy_id is not None:
            conditions.append(_t.policy_id == filters.policy_id)
        if filters.pattern_id is not None:
            conditions.append(_t.pattern_id == filters.pattern_id)
        return await self._rows.list(tenant_id, page, *conditions)

    async def graduation_counts(
        self, tenant_id: str, policy_id: str, activated_at: datetime
    ) -> GraduationCounts:
        real = _t.is_simulated.is_(False)
        query = sa.select(
            sa.func.count().filter(real, _t.create_time >= activated_at),
            sa.func.count().filter(_t.is_simulated.is_(True)),
            sa.func.count().filter(real, _t.create_time < activated_at),
            sa.func.count(),
        ).where(_t.tenant_id == tenant_id, _t.policy_id == policy_id)
        async with self._db.read() as conn:
            qualifying, simulated, before, total = (await conn.execute(query)).one()
        return GraduationCounts(
            qualifying=int(qualifying),
            simulated=int(simulated),
            before_activation=int(before),
            total=int(total),
        )
