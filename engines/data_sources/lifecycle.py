"""The lifecycle of a data source as one table: which action moves which status where.

PENDING -> ACTIVE (activate); ACTIVE <-> INACTIVE; a failed connection test -> ERROR; ERROR ->
ACTIVE only after a successful test since the error; DEPRECATED is final."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from engines.kernel.errors import FailedPrecondition

__all__ = ["GUARDED", "TRANSITIONS", "DataSourceStatus", "LifecycleAction", "next_status"]


class DataSourceStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIGURING = "configuring"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ERROR = "error"
    DEPRECATED = "deprecated"


class LifecycleAction(enum.StrEnum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    DEPRECATE = "deprecate"
    FAIL_TEST = "fail_test"  # a connection test failed


_S, _A = DataSourceStatus, LifecycleAction

# (current status, action) -> new status. A pair that is absent is not allowed.
TRANSITIONS: Mapping[tuple[DataSourceStatus, LifecycleAction], DataSourceStatus] = {
    (_S.PENDING, _A.ACTIVATE): _S.ACTIVE,
    (_S.PENDING, _A.DEPRECATE): _S.DEPRECATED,
    (_S.PENDING, _A.FAIL_TEST): _S.ERROR,
    (_S.CONFIGURING, _A.ACTIVATE): _S.ACTIVE,
    (_S.CONFIGURING, _A.DEPRECATE): _S.DEPRECATED,
    (_S.CONFIGURING, _A.FAIL_TEST): _S.ERROR,
    (_S.ACTIVE, _A.ACTIVATE): _S.ACTIVE,
    (_S.ACTIVE, _A.DEACTIVATE): _S.INACTIVE,
    (_S.ACTIVE, _A.DEPRECATE): _S.DEPRECATED,
    (_S.ACTIVE, _A.FAIL_TEST): _S.ERROR,
    (_S.INACTIVE, _A.ACTIVATE): _S.ACTIVE,
    (_S.INACTIVE, _A.DEACTIVATE): _S.INACTIVE,
    (_S.INACTIVE, _A.DEPRECATE): _S.DEPRECATED,
    (_S.INACTIVE, _A.FAIL_TEST): _S.ERROR,
    (_S.ERROR, _A.ACTIVATE): _S.ACTIVE,
    (_S.ERROR, _A.DEACTIVATE): _S.INACTIVE,
    (_S.ERROR, _A.DEPRECATE): _S.DEPRECATED,
    (_S.ERROR, _A.FAIL_TEST): _S.ERROR,
    (_S.DEPRECATED, _A.DEPRECATE): _S.DEPRECATED,
    (_S.DEPRECATED, _A.FAIL_TEST): _S.DEPRECATED,  # final: a failed test is counted, no more
}

# Transitions that need a successful connection test since the last failed one.
GUARDED = frozenset({(_S.ERROR, _A.ACTIVATE)})


def next_status(
    current: DataSourceStatus, action: LifecycleAction, *, tested_since_error: bool
) -> DataSourceStatus:
    """The status `action` leads to from `current`, or FAILED_PRECONDITION naming `current`."""
    target = TRANSITIONS.get((current, action))
    metadata = {"status": current.name, "action": action.value}
    if target is None:
        allowed = sorted(s.name for (s, a) in TRANSITIONS if a is action)
        raise FailedPrecondition(
            "DATA_SOURCE_TRANSITION_NOT_ALLOWED",
            f"cannot {action.value} a data source in status {current.name}; "
            f"allowed from: {', '.join(allowed)}",
            metadata=metadata,
        )
    if (current, action) in GUARDED and not tested_since_error:
        raise FailedPrecondition(
            "DATA_SOURCE_NOT_RETESTED",
            f"cannot {action.value} a data source in status {current.name} before a successful "
            "TestDataSourceConnection since its last error",
            metadata=metadata,
        )
    return target
