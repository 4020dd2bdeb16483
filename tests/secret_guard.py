"""pytest plugin (registered by tests/conftest.py): every log record written during the whole
suite is formatted as the service formats it (service.logs.JsonFormatter) and kept; when the
session ends, the run fails if any line contains a secret from tests/secrets_registry.py.

Only records of this process are seen: servers the tests start as subprocesses log elsewhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterable
from dataclasses import dataclass

import pytest

from service.logs import JsonFormatter
from tests.secrets_registry import known_secrets

__all__ = ["Leak", "SecretGuard"]

_GUARD = pytest.StashKey["SecretGuard"]()
_LEAKS = pytest.StashKey[list["Leak"]]()
# The service logs under "integrations.*"; make its INFO and DEBUG lines reach the guard even
# though the root logger passes only WARNING and above by default.
_SERVICE_LOGGER = "integrations"


def _forms(secret: str) -> tuple[str, ...]:
    """The secret as written, and as it appears inside a JSON string (escaped)."""
    escaped = json.dumps(secret)[1:-1]
    return (secret,) if escaped == secret else (secret, escaped)


@dataclass(frozen=True, slots=True)
class Leak:
    """A log line that contains a registered secret."""

    secret: str
    line: str

    def describe(self) -> str:
        """Says which secret leaked where, without printing the secret itself."""
        line = self.line
        for form in _forms(self.secret):
            line = line.replace(form, "<SECRET>")
        return f"secret {self.secret[:3]}... ({len(self.secret)} characters) in: {line[:300]}"


class SecretGuard(logging.Handler):
    """A root-logger handler that keeps every record formatted as one JSON line."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def install(self) -> None:
        """Puts the guard on the root logger (again, if a test replaced the root handlers, as
        `service.logs.configure_logging` does)."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)

    def leaks(self, secrets: Iterable[str]) -> list[Leak]:
        """Every (secret, line) where a line contains a secret."""
        return [
            Leak(secret, line)
            for line in self.lines
            for secret in secrets
            if any(form in line for form in _forms(secret))
        ]


def pytest_configure(config: pytest.Config) -> None:
    guard = SecretGuard()
    config.stash[_GUARD] = guard
    service_logger = logging.getLogger(_SERVICE_LOGGER)
    if service_logger.level == logging.NOTSET:
        service_logger.setLevel(logging.DEBUG)
    guard.install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    item.config.stash[_GUARD].install()
    try:
        return (yield)
    finally:
        item.config.stash[_GUARD].install()


@pytest.hookimpl(trylast=True)  # after session-scoped fixtures are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    guard = session.config.stash.get(_GUARD, None)
    if guard is None:
        return
    logging.getLogger().removeHandler(guard)
    session.config.stash[_LEAKS] = leaks = guard.leaks(known_secrets())
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    guard, leaks = config.stash.get(_GUARD, None), config.stash.get(_LEAKS, [])
    if guard is None:
        return
    if not leaks:
        terminalreporter.write_line(
            f"secret guard: {len(guard.lines)} log lines checked for "
            f"{len(known_secrets())} registered secrets: no leak"
        )
        return
    terminalreporter.section("secret guard", sep="=", red=True, bold=True)
    terminalreporter.write_line(f"{len(leaks)} log line(s) contain a registered test secret:")
    for leak in leaks[:20]:
        terminalreporter.write_line("  " + leak.describe())
