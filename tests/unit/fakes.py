"""Hand-written in-memory implementations of engine ports, for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from engines.integrations.integration import Integration, IntegrationFilters, UsageEvent, UsageTotals
from engines.kernel.errors import AlreadyExists
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest
from tests.unit.request_ids import RequestIds

__all__ = ["FakeIntegrationStore", "ManualClock"]


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeIntegrationStore:
    """IntegrationStore in memory, with the same uniqueness rules as the SQL one."""

    def __init__(self) -> None:
        self.rows: dict[str, Integration] = {}
        self.deleted: set[str] = set()
        self.request_ids: RequestIds[Integration] = RequestIds("integration")
        self.usage: list[UsageEvent] = []
        self.usage_ids: RequestIds[UsageEvent] = RequestIds("usage event")

    def _live(self) -> list[Integration]:
        return [i for i in self.rows.values() if i.id not in self.deleted]

    def _check_name(self, integration: Integration) -> None:
        for other in self._live():
            if (other.tenant_id, other.name) == (integration.tenant_id, integration.name) and (
                other.id != integration.id
            ):
                raise AlreadyExists("an integration with this name already exists")

    async def insert(self, integration: Integration, key: IdempotencyKey | None) -> Integration:
        earlier = self.request_ids.earlier(integration.tenant_id, key, self.rows, self.deleted)
        if earlier is not None:
            return earlier
        self._check_name(integration)
        self.rows[integration.id] = integration
        self.request_ids.remember(integration.tenant_id, integration.id, key)
        return integration

    async def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        row = self.rows.get(integration_id)
        if row is None or row.tenant_id != tenant_id or row.id in self.deleted:
            return None
        return row

    async def find_by_request_id(
        self, tenant_id: str, request_id: str
    ) -> Replay[Integration] | None:
        return self.request_ids.find(tenant_id, request_id, self.rows, self.deleted)

    async def list(
        self, tenant_id: str, filters: IntegrationFilters, page: PageRequest
    ) -> tuple[Sequence[Integration], int]:
        rows = sorted(
            (
                i
                for i in self._live()
                if i.tenant_id == tenant_id
                and filters.status in (None, i.status)
                and filters.provider_type in (None, i.provider_type)
            ),
            key=lambda i: (i.create_time, i.id),
        )
        after = [i for i in rows if page.after is None or (i.create_time, i.id) > page.after]
        return after[: page.size + 1], len(rows)

    async def replace(self, integration: Integration, expected_version: int) -> bool:
        current = await self.get(integration.tenant_id, integration.id)
        if current is None or current.version != expected_version:
            return False
        self._check_name(integration)
        self.rows[integration.id] = integration
        return True

    async def soft_delete(self, tenant_id: str, integration_id: str, when: datetime) -> bool:
        if await self.get(tenant_id, integration_id) is None:
            return False
        self.deleted.add(integration_id)
        self.rows[integration_id] = replace(self.rows[integration_id], update_time=when)
        return True

    async def append_usage(
        self, event: UsageEvent, key: IdempotencyKey | None, *, check_limits: bool = False
    ) -> tuple[UsageEvent, bool]:
        events = {e.id: e for e in self.usage}
        earlier = self.usage_ids.earlier(event.tenant_id, key, events)
        if earlier is not None:
            return earlier, False
        self.usage.append(event)
        self.usage_ids.remember(event.tenant_id, event.id, key)
        return event, True

    async def usage_totals(
        self,
        integration_id: str,
        month_start: datetime,
        month_end: datetime,
        window_start: datetime,
    ) -> UsageTotals:
        mine = [e for e in self.usage if e.integration_id == integration_id]
        month = [e for e in mine if month_start <= e.occurred_at < month_end]
        return UsageTotals(
            cost_cents=sum(e.cost_cents for e in month),
            tokens=sum(e.tokens for e in month),
            requests_in_window=sum(1 for e in mine if e.occurred_at >= window_start),
        )
