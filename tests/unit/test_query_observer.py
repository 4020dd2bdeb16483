"""The SQL gateway engine reports each query's outcome to its QueryObserver port."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engines.kernel.errors import DeadlineExceeded, FailedPrecondition
from engines.sql_gateway.gateway import BoundQuery, GatewayDraft, QueryLimits, QueryTarget, SqlGatewayEngine
from engines.sql_gateway.results import QueryResult, TruncationReason
from engines.sql_gateway.templates import TemplateDraft
from tests.unit.test_sql_gateway_engine import TENANT, FakeCredentials, FakeStore


@dataclass
class RecordingObserver:
    finished: list[tuple[int, int, str | None]] = field(default_factory=list)
    timeouts: int = 0

    def query_finished(self, rows: int, result_bytes: int, truncation: str | None) -> None:
        self.finished.append((rows, result_bytes, truncation))

    def query_timed_out(self) -> None:
        self.timeouts += 1


@dataclass
class ScriptedRunner:
    """Answers with `result`, or raises `error`."""

    result: QueryResult | None = None
    error: Exception | None = None

    async def run(self, target: QueryTarget, query: BoundQuery, limits: QueryLimits) -> QueryResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


async def _execute(runner: ScriptedRunner, observer: RecordingObserver) -> QueryResult:
    engine = SqlGatewayEngine(
        FakeStore("id"),
        FakeStore("name"),
        FakeCredentials({(TENANT, "env://WAREHOUSE"): "postgresql://db/x"}),
        runner,
        observer=observer,
    )
    await engine.create_template(TENANT, TemplateDraft(id="all", name="All", sql="SELECT 1"))
    gateway = await engine.create_gateway(
        TENANT, GatewayDraft(name="w", connection_string_ref="env://WAREHOUSE",
                             allowed_template_ids=["all"]),
    )
    return await engine.execute(TENANT, gateway.id, "all", {})


def _result(rows: int, reason: TruncationReason | None) -> QueryResult:
    return QueryResult(
        columns=("n",), rows=tuple({"n": i} for i in range(rows)), truncated=reason is not None,
        result_bytes=11 * rows, truncation_reason=reason,
    )


@pytest.mark.parametrize(
    "reason", [None, TruncationReason.MAX_ROWS, TruncationReason.MAX_RESULT_BYTES],
    ids=["whole", "max-rows", "max-bytes"],
)
async def test_a_query_reports_its_rows_bytes_and_truncation(
    reason: TruncationReason | None,
) -> None:
    observer = RecordingObserver()
    await _execute(ScriptedRunner(_result(3, reason)), observer)
    assert observer.finished == [(3, 33, reason.value if reason else None)]
    assert observer.timeouts == 0


async def test_a_timed_out_query_reports_a_timeout_and_still_raises() -> None:
    observer = RecordingObserver()
    with pytest.raises(DeadlineExceeded):
        await _execute(ScriptedRunner(error=DeadlineExceeded("slow", reason="QUERY_TIMEOUT")),
                       observer)
    assert (observer.finished, observer.timeouts) == ([], 1)


async def test_other_failures_are_neither_results_nor_timeouts() -> None:
    observer = RecordingObserver()
    with pytest.raises(FailedPrecondition):
        await _execute(ScriptedRunner(error=FailedPrecondition("X", "refused")), observer)
    assert (observer.finished, observer.timeouts) == ([], 0)

