"""Randomness for retry and probe jitter: a number in [0, 1) from a generator of the service's
own, so it never draws from (or disturbs) the `random` module's global state that libraries and
tests in the same process rely on."""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["Jitter", "random_fraction"]

Jitter = Callable[[], float]
"""A source of numbers in [0, 1)."""

random_fraction: Jitter = random.Random().random  # noqa: S311 - spreads retries, not a secret
