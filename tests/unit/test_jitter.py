"""Retry and probe jitter never touches the `random` module's global state: Hypothesis (and any
library seeding it) in the same process sees that state change as its own non-determinism."""

from __future__ import annotations

import random
from datetime import timedelta

from engines.admission.webhooks import backoff
from engines.health.circuit import CircuitSettings, backoff_delay
from engines.kernel.jitter import random_fraction


def test_jitter_leaves_the_global_random_state_alone() -> None:
    random.seed(1234)
    before = random.getstate()
    fractions = [random_fraction() for _ in range(50)]
    waits = [backoff(3, timedelta(seconds=10), timedelta(hours=1)) for _ in range(50)]
    delays = [backoff_delay(4, CircuitSettings()) for _ in range(50)]
    assert random.getstate() == before
    assert all(0 <= f < 1 for f in fractions) and len(set(fractions)) > 1
    assert len(set(waits)) > 1 and all(timedelta(seconds=20) <= w <= timedelta(seconds=40) for w in waits)
    assert len(set(delays)) > 1
