"""The --egress-* and --env-credential-prefix flags of `serve` (and their environment
variables) become ServeConfig values; a malformed rule stops the server from starting."""

from __future__ import annotations

import argparse

import pytest

from engines.credentials.env_credentials import DEFAULT_ENV_PREFIXES
from engines.egress.policy import EgressPolicy
from service.egress_options import add_egress_arguments, egress_values
from service.security_cli import add_security_arguments, security_values


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_egress_arguments(parser)
    add_security_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_rules_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTEGRATIONS_EGRESS_ALLOW", raising=False)
    monkeypatch.delenv("INTEGRATIONS_EGRESS_DENY", raising=False)
    assert egress_values(parse()) == {"egress_allow": (), "egress_deny": ()}


def test_repeatable_flags_and_comma_separated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEGRATIONS_EGRESS_ALLOW", "10.0.0.0/8, db.internal:5432")
    monkeypatch.setenv("INTEGRATIONS_EGRESS_DENY", "10.9.0.0/16")
    assert egress_values(parse()) == {
        "egress_allow": ("10.0.0.0/8", "db.internal:5432"),
        "egress_deny": ("10.9.0.0/16",),
    }
    flags = egress_values(parse("--egress-allow", "127.0.0.0/8", "--egress-allow", "[::1]:8080"))
    assert flags["egress_allow"] == ("127.0.0.0/8", "[::1]:8080")  # flags replace the variable
    EgressPolicy.from_rules(flags["egress_allow"], flags["egress_deny"])


def test_a_malformed_rule_is_a_configuration_error() -> None:
    values = egress_values(parse("--egress-allow", "10.0.0.0/33"))
    with pytest.raises(ValueError, match="10.0.0.0/33"):
        EgressPolicy.from_rules(values["egress_allow"])


def test_env_credential_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTEGRATIONS_ENV_CREDENTIAL_PREFIX", raising=False)
    assert security_values(parse())["env_credential_prefixes"] == DEFAULT_ENV_PREFIXES
    monkeypatch.setenv("INTEGRATIONS_ENV_CREDENTIAL_PREFIX", "APP_, OTHER_")
    assert security_values(parse())["env_credential_prefixes"] == ("APP_", "OTHER_")
    chosen = parse("--env-credential-prefix", "X_", "--env-credential-prefix", "Y_")
    assert security_values(chosen)["env_credential_prefixes"] == ("X_", "Y_")
