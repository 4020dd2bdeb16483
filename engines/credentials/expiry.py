"""When stored credentials expire and when they are due for rotation: the interval rules, the
list filters ("expires within D", "rotation due") and the summary a scheduler polls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engines.kernel.errors import InvalidArgument

__all__ = [
    "DEFAULT_HORIZON",
    "MAX_ROTATION_INTERVAL",
    "MIN_ROTATION_INTERVAL",
    "NO_FILTERS",
    "CredentialFilters",
    "ExpirySummary",
    "check_horizon",
    "check_rotation_interval",
    "filters_for",
]

MIN_ROTATION_INTERVAL = timedelta(hours=1)
MAX_ROTATION_INTERVAL = timedelta(days=3650)
DEFAULT_HORIZON = timedelta(days=7)
_MAX_HORIZON = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class CredentialFilters:
    """What a credential list keeps, as instants (None: no condition): credentials whose
    `expire_time` is at or before `expire_before` (already expired ones included), and those
    whose rotation was due at or before `rotation_due_before`."""

    expire_before: datetime | None = None
    rotation_due_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExpirySummary:
    """Counts over a tenant's live credentials at `now`, for a horizon: expired, expiring
    within it (not yet expired), rotation due; and the next instants either happens."""

    now: datetime
    horizon: timedelta
    expired: int
    expiring: int
    rotation_due: int
    next_expire_time: datetime | None
    next_rotation_due_time: datetime | None


NO_FILTERS = CredentialFilters()


def check_rotation_interval(field: str, interval: timedelta | None) -> timedelta | None:
    """None (no schedule), or an interval between one hour and ten years."""
    if interval is None:
        return None
    if not MIN_ROTATION_INTERVAL <= interval <= MAX_ROTATION_INTERVAL:
        raise InvalidArgument.single(field, "must be between 1 hour and 3650 days")
    return interval


def check_horizon(field: str, horizon: timedelta | None) -> timedelta:
    """How far ahead "expiring" looks: DEFAULT_HORIZON when unset, else 0 to ten years."""
    if horizon is None:
        return DEFAULT_HORIZON
    if not timedelta(0) <= horizon <= _MAX_HORIZON:
        raise InvalidArgument.single(field, "must be between 0 and 3650 days")
    return horizon


def filters_for(
    now: datetime, *, expires_within: timedelta | None, rotation_due: bool
) -> CredentialFilters:
    """The list filters a request's "expires within D" and "rotation due" mean at `now`."""
    return CredentialFilters(
        expire_before=None
        if expires_within is None
        else now + check_horizon("expires_within", expires_within),
        rotation_due_before=now if rotation_due else None,
    )
