"""The suite-wide secret guard (tests/secret_guard.py): it sees every log line as the service
formats it, finds registered secrets in them, and fails a pytest run that logged one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.secret_guard import SecretGuard
from tests.secrets_registry import register_secret

REPO = Path(__file__).resolve().parents[1]


def _record(message: str, *args: object, **rpc: str) -> logging.LogRecord:
    record = logging.LogRecord("integrations.rpc", logging.INFO, __file__, 1, message, args, None)
    if rpc:
        record.rpc = rpc
    return record


def test_the_guard_is_on_the_root_logger_for_the_whole_session() -> None:
    assert any(isinstance(h, SecretGuard) for h in logging.getLogger().handlers)


def test_a_secret_anywhere_in_a_line_is_a_leak_and_is_not_repeated_in_the_report() -> None:
    secret, quoted = "guard-sk-0f1e2d3c", 'guard-"quoted"\\secret'
    guard = SecretGuard()
    guard.emit(_record("rpc %s", "harmless"))
    guard.emit(_record("connecting with %s", secret))
    guard.emit(_record("rpc", tenant_id=quoted))  # JSON escapes it: \"quoted\"\\secret
    leaks = guard.leaks([secret, quoted, "never-logged-value"])
    assert [leak.secret for leak in leaks] == [secret, quoted]
    for leak in leaks:
        assert leak.secret not in leak.describe() and "<SECRET>" in leak.describe()


def test_short_values_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="at least"):
        register_secret("pw")


def test_a_run_that_logs_a_registered_secret_fails(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(
        "import logging\n"
        "from tests.secrets_registry import register_secret\n"
        "KEY = register_secret('leaky-KEY-73a9c1')\n"
        "def test_logs_the_key():\n"
        "    logging.getLogger('integrations.demo').info('using %s', KEY)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.secret_guard",
         "-p", "no:cacheprovider", "-p", "no:asyncio", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "secret guard" in run.stdout
    assert "lea... (16 characters)" in run.stdout
    assert "leaky-KEY-73a9c1" not in run.stdout + run.stderr
