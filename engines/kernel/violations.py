"""Gathering every bad field of a request before refusing it, so one INVALID_ARGUMENT names
them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engines.kernel.errors import FieldViolation, InvalidArgument

__all__ = ["collect"]

T = TypeVar("T")


def collect(violations: list[FieldViolation], check: Callable[..., T], *args: Any) -> T | None:
    """Runs `check(*args)`; on InvalidArgument adds its violations and returns None."""
    try:
        return check(*args)
    except InvalidArgument as exc:
        violations.extend(exc.violations)
        return None
