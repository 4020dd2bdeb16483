"""The data source lifecycle table, case by case: every (status, action) pair is either the
documented transition or FAILED_PRECONDITION naming the current status."""

from __future__ import annotations

import itertools

import pytest

from engines.data_sources.lifecycle import DataSourceStatus, LifecycleAction, next_status
from engines.kernel.errors import FailedPrecondition

S, A = DataSourceStatus, LifecycleAction

ALLOWED = {
    (S.PENDING, A.ACTIVATE): S.ACTIVE,
    (S.PENDING, A.DEPRECATE): S.DEPRECATED,
    (S.PENDING, A.FAIL_TEST): S.ERROR,
    (S.CONFIGURING, A.ACTIVATE): S.ACTIVE,
    (S.CONFIGURING, A.DEPRECATE): S.DEPRECATED,
    (S.CONFIGURING, A.FAIL_TEST): S.ERROR,
    (S.ACTIVE, A.ACTIVATE): S.ACTIVE,
    (S.ACTIVE, A.DEACTIVATE): S.INACTIVE,
    (S.ACTIVE, A.DEPRECATE): S.DEPRECATED,
    (S.ACTIVE, A.FAIL_TEST): S.ERROR,
    (S.INACTIVE, A.ACTIVATE): S.ACTIVE,
    (S.INACTIVE, A.DEACTIVATE): S.INACTIVE,
    (S.INACTIVE, A.DEPRECATE): S.DEPRECATED,
    (S.INACTIVE, A.FAIL_TEST): S.ERROR,
    (S.ERROR, A.ACTIVATE): S.ACTIVE,
    (S.ERROR, A.DEACTIVATE): S.INACTIVE,
    (S.ERROR, A.DEPRECATE): S.DEPRECATED,
    (S.ERROR, A.FAIL_TEST): S.ERROR,
    (S.DEPRECATED, A.DEPRECATE): S.DEPRECATED,
    (S.DEPRECATED, A.FAIL_TEST): S.DEPRECATED,
}


@pytest.mark.parametrize(
    ("current", "action"),
    [pytest.param(s, a, id=f"{s.value}-{a.value}") for s, a in itertools.product(S, A)],
)
def test_every_pair(current: DataSourceStatus, action: LifecycleAction) -> None:
    expected = ALLOWED.get((current, action))
    if expected is not None:
        assert next_status(current, action, tested_since_error=True) is expected
        return
    with pytest.raises(FailedPrecondition) as caught:
        next_status(current, action, tested_since_error=True)
    assert caught.value.reason == "DATA_SOURCE_TRANSITION_NOT_ALLOWED"
    assert current.name in caught.value.message
    assert caught.value.metadata["status"] == current.name


def test_error_to_active_needs_a_successful_test_since_the_error() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        next_status(S.ERROR, A.ACTIVATE, tested_since_error=False)
    assert caught.value.reason == "DATA_SOURCE_NOT_RETESTED"
    assert "ERROR" in caught.value.message
    # Only that transition is guarded.
    assert next_status(S.INACTIVE, A.ACTIVATE, tested_since_error=False) is S.ACTIVE
    assert next_status(S.ERROR, A.DEACTIVATE, tested_since_error=False) is S.INACTIVE
