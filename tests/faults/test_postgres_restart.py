"""PostgreSQL stopped and started under load: callers get UNAVAILABLE quickly while it is down,
calls succeed again soon after it returns without restarting the service, and every
acknowledged create is stored exactly once."""

from __future__ import annotations

from tests.faults.outage import run_outage
from tests.private_postgres import PrivatePostgres

RECOVERY_BOUND_SECONDS = 5.0  # "within 5 s of the database returning"


async def test_postgres_restart_under_load(private_postgres_cluster: PrivatePostgres) -> None:
    report = await run_outage(private_postgres_cluster)
    print("\n".join(report.lines()))

    # Callers only ever see success or UNAVAILABLE: nothing INTERNAL, nothing hanging into its
    # client deadline (that would be DEADLINE_EXCEEDED).
    assert set(report.codes) <= {"OK", "UNAVAILABLE"}, report.codes
    assert report.outage_codes["UNAVAILABLE"] > 0, report.outage_codes
    assert report.recovery_seconds is not None
    assert report.recovery_seconds <= RECOVERY_BOUND_SECONDS
    # Retrying each failed create with its request_id succeeds, and the database then holds
    # every acknowledged create exactly once.
    assert set(report.retry_codes) <= {"OK"}, report.retry_codes
    assert report.acknowledged
    assert report.missing == []
    assert report.duplicated == []
    assert len(report.stored) == len(report.acknowledged)
    # Readiness follows the database: unready while it is down, ready again afterwards.
    assert (report.health_during, report.health_after) == ("NOT_SERVING", "SERVING")
