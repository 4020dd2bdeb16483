"""The --health-* flags of `serve` become HealthSettings; bad values are refused."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from service.health_options import add_health_arguments, health_settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_health_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = health_settings(parse())
    assert defaults.background_interval is None
    assert (defaults.min_interval, defaults.slow_after_ms) == (timedelta(seconds=60), 2000)
    assert (defaults.connect_timeout_seconds, defaults.read_timeout_seconds) == (5.0, 10.0)
    monkeypatch.setenv("INTEGRATIONS_HEALTH_READ_TIMEOUT", "3")
    chosen = health_settings(parse("--health-interval", "30", "--health-history-days", "7"))
    assert chosen.background_interval == timedelta(seconds=30)
    assert chosen.history_retention == timedelta(days=7)
    assert chosen.read_timeout_seconds == 3.0
    assert defaults.circuit.failure_threshold == 3
    assert defaults.circuit.backoff_max == timedelta(minutes=30)
    assert defaults.circuit.backoff_base == timedelta(seconds=30)
    # The backoff starts from the background interval.
    assert chosen.circuit.backoff_base == timedelta(seconds=30)
    circuit = health_settings(parse(
        "--health-interval", "10", "--health-failure-threshold", "5", "--health-backoff-max", "120"
    )).circuit
    assert (circuit.failure_threshold, circuit.backoff_base, circuit.backoff_max) == (
        5, timedelta(seconds=10), timedelta(minutes=2)
    )
    short = health_settings(parse("--health-interval", "60", "--health-backoff-max", "5")).circuit
    assert short.backoff_base == short.backoff_max == timedelta(seconds=5)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--health-interval", "-1"], id="negative-interval"),
        pytest.param(["--health-read-timeout", "0"], id="zero-timeout"),
        pytest.param(["--health-slow-ms", "0"], id="zero-slow"),
        pytest.param(["--health-failure-threshold", "0"], id="zero-threshold"),
        pytest.param(["--health-backoff-max", "0"], id="zero-backoff"),
    ],
)
def test_bad_values_are_refused(argv: list[str]) -> None:
    with pytest.raises(ValueError, match=argv[0]):
        health_settings(parse(*argv))
