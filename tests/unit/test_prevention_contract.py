"""Pins the frozen prevention contract 1.0.0: version, freeze date, every rule, order, threshold.

If one of these fails, the contract drifted: restore it, or publish a new contract version."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from engines.kernel.errors import FailedPrecondition
from engines.prevention.contract import (
    CONTRACT_FROZEN_AT,
    CONTRACT_VERSION,
    MIN_SIGNATURE_CONFIDENCE,
    RULES,
    PreventionCandidate,
    require_valid,
    validate,
)

VALID = PreventionCandidate(
    policy_id="policy-1",
    pattern_id="pattern-1",
    tenant_id="8d0c8d8e-2f5a-4c55-9a4a-0d7f2f1d2c3b",
    signature_match_confidence=0.9,
    policy_mode="active",
    incident_created=False,
)

# Each rule, in contract order, with a change to a valid candidate that breaks only that rule
# (also used by the end-to-end tests).
BREAKS: list[tuple[str, dict[str, object]]] = [
    ("POLICY_MODE", {"policy_mode": "shadow"}),
    ("INCIDENT_CREATED", {"incident_created": True}),
    ("SIGNATURE_CONFIDENCE", {"signature_match_confidence": 0.5999}),
    ("TENANT_REQUIRED", {"tenant_id": ""}),
    ("PATTERN_REQUIRED", {"pattern_id": ""}),
    ("POLICY_REQUIRED", {"policy_id": ""}),
]


def test_version_and_freeze_date_are_pinned() -> None:
    assert CONTRACT_VERSION == "1.0.0"
    assert CONTRACT_FROZEN_AT == datetime(2025, 12, 23, tzinfo=timezone.utc)
    assert MIN_SIGNATURE_CONFIDENCE == 0.6


def test_rules_and_their_order_are_pinned() -> None:
    assert [r.rule for r in RULES] == [rule for rule, _ in BREAKS]


def test_a_valid_candidate_passes() -> None:
    result = validate(VALID)
    assert result.valid and result.rule == ""
    require_valid(VALID)


@pytest.mark.parametrize(("rule", "change"), [pytest.param(r, c, id=r) for r, c in BREAKS])
def test_each_rule_alone(rule: str, change: dict[str, object]) -> None:
    result = validate(replace(VALID, **change))  # type: ignore[arg-type]
    assert (result.valid, result.rule) == (False, rule)
    with pytest.raises(FailedPrecondition) as caught:
        require_valid(replace(VALID, **change))  # type: ignore[arg-type]
    assert caught.value.reason == rule
    assert caught.value.metadata == {"rule": rule, "contract_version": "1.0.0"}


@pytest.mark.parametrize("first", range(len(BREAKS)), ids=[r for r, _ in BREAKS])
def test_a_candidate_breaking_several_rules_reports_the_first(first: int) -> None:
    changes: dict[str, object] = {}
    for _, change in BREAKS[first:]:
        changes.update(change)
    assert validate(replace(VALID, **changes)).rule == BREAKS[first][0]  # type: ignore[arg-type]


def test_everything_broken_reports_policy_mode() -> None:
    broken = PreventionCandidate(policy_id="", pattern_id="", tenant_id="")
    assert validate(broken).rule == "POLICY_MODE"


@pytest.mark.parametrize(
    ("confidence", "valid"),
    [
        pytest.param(0.6, True, id="0.6-passes"),
        pytest.param(0.5999, False, id="0.5999-fails"),
        pytest.param(0.59999999, False, id="just-below-fails"),
        pytest.param(1.0, True, id="1.0-passes"),
        pytest.param(0.0, False, id="0-fails"),
    ],
)
def test_confidence_boundary(confidence: float, valid: bool) -> None:
    result = validate(replace(VALID, signature_match_confidence=confidence))
    assert result.valid is valid
    if not valid:
        assert result.rule == "SIGNATURE_CONFIDENCE"
        assert repr(confidence) in result.details


@pytest.mark.parametrize("mode", ["ACTIVE", "Active", " active", "active ", "", "simulate"])
def test_policy_mode_must_be_exactly_active(mode: str) -> None:
    assert validate(replace(VALID, policy_mode=mode)).rule == "POLICY_MODE"


@pytest.mark.parametrize(
    ("field", "rule"),
    [("tenant_id", "TENANT_REQUIRED"), ("pattern_id", "PATTERN_REQUIRED"), ("policy_id", "POLICY_REQUIRED")],
)
def test_blank_ids_count_as_missing(field: str, rule: str) -> None:
    assert validate(replace(VALID, **{field: " \t "})).rule == rule  # type: ignore[arg-type]


def test_simulation_is_not_a_contract_rule() -> None:
    assert validate(replace(VALID, is_simulated=True)).valid
