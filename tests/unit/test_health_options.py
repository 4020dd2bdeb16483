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


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--health-interval", "-1"], id="negative-interval"),
        pytest.param(["--health-read-timeout", "0"], id="zero-timeout"),
        pytest.param(["--health-slow-ms", "0"], id="zero-slow"),
    ],
)
def test_bad_values_are_refused(argv: list[str]) -> None:
    with pytest.raises(ValueError, match=argv[0]):
        health_settings(parse(*argv))
