"""PostgreSQL outages under steady load (longer than the suite's version): a server process on a
private cluster, creates and reads at a steady rate, the database stopped for several seconds
(a clean fast shutdown, then a crash-like immediate one) and started again. Prints what callers
saw during the outage (codes, and the failed calls' p99 as a ratio to the p99 of healthy calls
in the same run), how long after the database returned calls succeeded again, and acknowledged
against stored creates."""

from __future__ import annotations

from tests.faults.outage import run_outage
from tests.private_postgres import find_postgres_bin, private_postgres

__all__ = ["main"]

ROUNDS = (("fast", 8.0), ("immediate", 8.0))
RATE_PER_SECOND = 100.0


async def main() -> None:
    if find_postgres_bin() is None:
        print("skipped: initdb is not installed (no private PostgreSQL cluster)")
        return
    for mode, outage_seconds in ROUNDS:
        with private_postgres() as cluster:
            report = await run_outage(
                cluster,
                before_seconds=3.0,
                outage_seconds=outage_seconds,
                after_seconds=8.0,
                rate_per_second=RATE_PER_SECOND,
                stop_mode=mode,
            )
        print(f"-- stop -m {mode}, {outage_seconds:g} s down, {RATE_PER_SECOND:g} calls/s")
        for line in report.lines():
            print(f"   {line}")
