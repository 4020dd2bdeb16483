"""The rotation-interval and horizon rules and what the list filters mean at an instant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engines.credentials.expiry import (
    DEFAULT_HORIZON,
    CredentialFilters,
    check_horizon,
    check_rotation_interval,
    filters_for,
)
from engines.kernel.errors import InvalidArgument

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("hours", [0, 0.99, 3650 * 24 + 1, -1])
def test_rotation_intervals_outside_one_hour_to_ten_years_are_refused(hours: float) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_rotation_interval("rotation_interval", timedelta(hours=hours))
    assert "rotation_interval" in str(caught.value)


def test_bounds_and_unset_values_are_accepted() -> None:
    assert check_rotation_interval("f", None) is None
    assert check_rotation_interval("f", timedelta(hours=1)) == timedelta(hours=1)
    assert check_horizon("within", None) == DEFAULT_HORIZON
    assert check_horizon("within", timedelta(0)) == timedelta(0)
    with pytest.raises(InvalidArgument):
        check_horizon("within", timedelta(seconds=-1))


def test_filters_are_instants_relative_to_now() -> None:
    assert filters_for(NOW, expires_within=None, rotation_due=False) == CredentialFilters()
    assert filters_for(NOW, expires_within=timedelta(days=3), rotation_due=True) == CredentialFilters(
        expire_before=NOW + timedelta(days=3), rotation_due_before=NOW
    )
