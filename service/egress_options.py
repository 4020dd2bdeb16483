"""The `serve` flags of the egress policy (docs/egress.md), each also settable by environment
variable (comma separated)."""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_egress_arguments", "egress_values"]

_FLAGS = (
    (
        "egress-allow",
        "open a destination the default deny list refuses (CIDR, HOST, HOST:PORT or CIDR:PORT; "
        "IPv6 in brackets with a port); never the service's own database or listeners",
    ),
    ("egress-deny", "refuse a destination besides the defaults; wins over --egress-allow"),
)


def _env_name(flag: str) -> str:
    return "INTEGRATIONS_" + flag.upper().replace("-", "_")


def add_egress_arguments(serve: argparse.ArgumentParser) -> None:
    """Adds --egress-allow and --egress-deny (repeatable) to the `serve` parser."""
    group = serve.add_argument_group("egress policy")
    for flag, description in _FLAGS:
        group.add_argument(
            f"--{flag}",
            action="append",
            default=None,
            metavar="RULE",
            help=f"{description} (repeatable; env {_env_name(flag)}, comma separated)",
        )


def _rules(args: argparse.Namespace, flag: str) -> tuple[str, ...]:
    given = getattr(args, flag.replace("-", "_"))
    if given:
        return tuple(given)
    return tuple(r.strip() for r in os.environ.get(_env_name(flag), "").split(",") if r.strip())


def egress_values(args: argparse.Namespace) -> dict[str, Any]:
    """The ServeConfig fields these flags set (rules are parsed, and checked, at start)."""
    return {"egress_allow": _rules(args, "egress-allow"), "egress_deny": _rules(args, "egress-deny")}
