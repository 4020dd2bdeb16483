"""The prevention contract, version 1.0.0, frozen on 2025-12-23: which candidates may become records.

Frozen means the rules, their order and the threshold here never drift;
tests/unit/test_prevention_contract.py pins each of them. A change is a new contract version
with its own constants, never an edit of these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engines.kernel.errors import FailedPrecondition

__all__ = [
    "CONTRACT_FROZEN_AT",
    "CONTRACT_VERSION",
    "MIN_SIGNATURE_CONFIDENCE",
    "REQUIRED_POLICY_MODE",
    "RULES",
    "ContractResult",
    "ContractRule",
    "PreventionCandidate",
    "require_valid",
    "validate",
]

CONTRACT_VERSION = "1.0.0"
CONTRACT_FROZEN_AT = datetime(2025, 12, 23, tzinfo=timezone.utc)
REQUIRED_POLICY_MODE = "active"
MIN_SIGNATURE_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class PreventionCandidate:
    """What a policy engine reports when a policy blocked a request matching a known pattern."""

    policy_id: str
    pattern_id: str
    tenant_id: str
    blocked_incident_id: str = ""
    original_incident_id: str = ""
    signature_match_confidence: float = 0.0
    policy_mode: str = ""
    pattern_signature: Mapping[str, Any] = field(default_factory=dict)
    request_signature: Mapping[str, Any] = field(default_factory=dict)
    incident_created: bool = False
    is_simulated: bool = False


@dataclass(frozen=True, slots=True)
class ContractRule:
    """One rule: its code (the ErrorInfo reason when broken), what it requires, and the check."""

    rule: str
    description: str
    holds: Callable[[PreventionCandidate], bool]
    explain: Callable[[PreventionCandidate], str]


@dataclass(frozen=True, slots=True)
class ContractResult:
    """The outcome of checking a candidate: valid, or the first rule broken and why."""

    valid: bool
    rule: str
    details: str


def _present(value: str) -> bool:
    return bool(value.strip())


# The order is part of the contract: a candidate breaking several rules is reported for the first.
RULES: tuple[ContractRule, ...] = (
    ContractRule(
        "POLICY_MODE",
        f'policy_mode must be "{REQUIRED_POLICY_MODE}"',
        lambda c: c.policy_mode == REQUIRED_POLICY_MODE,
        lambda c: f'policy_mode must be "{REQUIRED_POLICY_MODE}"; got {c.policy_mode!r}',
    ),
    ContractRule(
        "INCIDENT_CREATED",
        "incident_created must be false",
        lambda c: not c.incident_created,
        lambda c: "incident_created must be false: an incident was created, so nothing was "
        "prevented",
    ),
    ContractRule(
        "SIGNATURE_CONFIDENCE",
        f"signature_match_confidence must be >= {MIN_SIGNATURE_CONFIDENCE}",
        lambda c: c.signature_match_confidence >= MIN_SIGNATURE_CONFIDENCE,
        lambda c: f"signature_match_confidence must be >= {MIN_SIGNATURE_CONFIDENCE}; "
        f"got {c.signature_match_confidence!r}",
    ),
    ContractRule(
        "TENANT_REQUIRED",
        "tenant_id is required",
        lambda c: _present(c.tenant_id),
        lambda c: "tenant_id is required",
    ),
    ContractRule(
        "PATTERN_REQUIRED",
        "pattern_id is required",
        lambda c: _present(c.pattern_id),
        lambda c: "pattern_id is required",
    ),
    ContractRule(
        "POLICY_REQUIRED",
        "policy_id is required",
        lambda c: _present(c.policy_id),
        lambda c: "policy_id is required",
    ),
)


def validate(candidate: PreventionCandidate) -> ContractResult:
    """Checks the rules in order and reports the first one broken."""
    for rule in RULES:
        if not rule.holds(candidate):
            return ContractResult(valid=False, rule=rule.rule, details=rule.explain(candidate))
    return ContractResult(
        valid=True, rule="", details=f"satisfies prevention contract {CONTRACT_VERSION}"
    )


def require_valid(candidate: PreventionCandidate) -> None:
    """Raises FailedPrecondition whose reason is the first rule the candidate breaks."""
    result = validate(candidate)
    if not result.valid:
        raise FailedPrecondition(
            result.rule,
            f"prevention contract {CONTRACT_VERSION}: {result.details}",
            metadata={"rule": result.rule, "contract_version": CONTRACT_VERSION},
        )
