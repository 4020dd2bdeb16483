"""SQL implementation of `engines.admission.control.AdmissionStore` (SQLite and PostgreSQL).

Exactness: every admission of an integration runs in one transaction that first takes the
integration's lock (the same lock covers the limits of its models), then aggregates used and
reserved in ONE statement (one snapshot), decides
and inserts the reservation. On PostgreSQL the lock is `pg_advisory_xact_lock`, shared by every
replica and released at commit, so the next admission's aggregate sees this one's reservation.
Within a process an asyncio.Lock per integration comes first, so queued admissions do not hold
pooled connections; on SQLite (one process) that is the whole lock. Settles need no lock: they flip
the reservation and insert the usage event in one transaction, which any single-statement
aggregate sees entirely or not at all. Expired reservations become EXPIRED usage events through
a conditional UPDATE ... RETURNING, so each is converted exactly once whoever sweeps.

Group admissions (PostgreSQL): concurrent admissions of the process queue in a `Batcher`, and
one transaction decides up to `admit_batch` of them with the same statements, each for the whole
group: every lock (ascending lock-key order) with every item's integration, one aggregate, the
plans in queue order in Python (`_BatchPlans`), one insert (`_admit_batch`; docs/admission.md).

Limit events of recorded usage: a settle beyond its reservation's estimate (or under another
model), a batch and RecordUsage (through `SqlIntegrationStore`) read, in the transaction that
wrote the usage and only when the integration has a budget or token limit (`_watched`, a column
of a statement they run anyway), the same aggregate as admit and store the thresholds reached
(`raise_limit_events`). A settle within its estimate skips that: admission saw the estimate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.admission.limit_events import LimitEventWriter
from drivers.integrations.store import exact_sum, from_halves, row_to_integration
from drivers.kernel.batching import Batcher
from drivers.kernel.database import Database
from drivers.tables.admission import (
    admission_model_limits,
    admission_policies,
    admission_reservations,
    admission_usage_buckets,
)
from drivers.tables.integrations import integrations, usage_events
from engines.admission.control import (
    AdmitOutcome,
    BatchStatus,
    CallOutcome,
    GroupBy,
    Planner,
    Reading,
    Reservation,
    ReservationState,
    SettledUsage,
    Settlement,
    SettleOutcome,
    SummaryRow,
    UsageRecord,
)
from engines.admission.events import LimitEvent, has_period_limits, reached
from engines.admission.limits import (
    AdmissionPolicy,
    AdmissionWindow,
    CallEstimate,
    Counters,
    ModelCounters,
    ModelLimits,
    Verdict,
    window_at,
)
from engines.admission.periods import LimitPeriod, PeriodKind
from engines.integrations.integration import Integration, ModelUsage, PeriodUsage
from engines.kernel.errors import FailedPrecondition

__all__ = ["DEFAULT_ADMIT_BATCH", "SqlAdmissionStore"]

E, R, P = usage_events, admission_reservations, admission_policies
B, M = admission_usage_buckets, admission_model_limits
_OPEN = ReservationState.OPEN.value
_IN_CHUNK = 500  # ids per IN (...) list, below SQLite's variable limit
_bp = sa.bindparam


def _sum(column: Any, *conditions: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column).filter(*conditions), 0)


def _counter_parts(
    prefix: str, model: Any, source: Any = _bp, gate: Sequence[Any] = ()
) -> list[Any]:
    """The counters of one integration (`model` None) or of one model of it, as three one-row
    subqueries with `prefix`ed columns: events of the sliding minute and of the period's partial
    edge buckets; whole buckets of the period; reservations open or made within the minute.
    `source(name)` is each parameter: a bind (one admission) or a column of the batch's rows,
    and then the subqueries are LATERAL; `gate` conditions are added to each subquery."""
    lateral = source is not _bp
    iid: Any = source("integration_id")
    now: Any = source("now")
    ws: Any = source("window_start")
    ps: Any = source("period_start")
    pe: Any = source("period_end")

    def between(column: Any, low: str, high: str) -> Any:
        return sa.and_(column >= source(low), column < source(high))

    def part(select: Any, name: str) -> Any:
        select = select.where(*gate)
        return select.lateral(name) if lateral else select.subquery(name)

    unreserved = E.c.reservation_id.is_(None)
    recent = E.c.occurred_at >= ws
    edges = sa.or_(between(E.c.occurred_at, "head_lo", "head_hi"),
                   between(E.c.occurred_at, "tail_lo", "tail_hi"))
    of_model = [] if model is None else [E.c.model == model]
    # Event sums as exact halves: events stored before the per-event bound may sum past int64.
    exact_events = [
        half.label(f"{prefix}e_{name}_{side}")
        for name, column, condition in (("window_tokens", E.c.tokens, recent),
                                        ("edge_cost", E.c.cost_cents, edges),
                                        ("edge_tokens", E.c.tokens, edges))
        for side, half in zip(("high", "low"), exact_sum(column, condition), strict=True)
    ]
    events = part(
        sa.select(
            sa.func.count().filter(unreserved, recent).label(f"{prefix}e_requests"),
            sa.func.min(E.c.occurred_at).filter(unreserved, recent).label(f"{prefix}e_oldest"),
            sa.func.min(E.c.occurred_at).filter(E.c.tokens > 0, recent)
            .label(f"{prefix}e_oldest_tokens"),
            *exact_events,
        )
        .where(E.c.integration_id == iid, sa.or_(recent, edges), *of_model),
        f"{prefix}e",
    )
    cost_high, cost_low = exact_sum(B.c.cost_cents, sa.true())
    tokens_high, tokens_low = exact_sum(B.c.tokens, sa.true())
    buckets = part(
        sa.select(
            cost_high.label(f"{prefix}b_cost_high"), cost_low.label(f"{prefix}b_cost_low"),
            tokens_high.label(f"{prefix}b_tokens_high"), tokens_low.label(f"{prefix}b_tokens_low"),
        )
        .where(B.c.integration_id == iid, B.c.model == (model if model is not None else ""),
               between(B.c.bucket_start, "bucket_lo", "bucket_hi")),
        f"{prefix}b",
    )
    is_open = R.c.state == _OPEN
    expired = sa.and_(is_open, R.c.expire_time <= now)
    live = sa.and_(is_open, R.c.expire_time > now)
    admitted = sa.and_(R.c.create_time >= ws, R.c.state != ReservationState.RELEASED.value)
    estimate = R.c.estimated_input_tokens + R.c.estimated_output_tokens
    in_period = (R.c.expire_time >= ps, R.c.expire_time < pe)
    held = part(
        sa.select(
            _sum(R.c.estimated_cost_cents, expired, *in_period).label(f"{prefix}x_cost"),
            _sum(estimate, expired, *in_period).label(f"{prefix}x_tokens"),
            _sum(estimate, expired, R.c.expire_time >= ws).label(f"{prefix}x_window_tokens"),
            sa.func.count().filter(expired).label(f"{prefix}x_count"),
            _sum(R.c.estimated_cost_cents, live).label(f"{prefix}r_cost"),
            _sum(estimate, live).label(f"{prefix}r_tokens"),
            sa.func.count().filter(live).label(f"{prefix}r_open"),
            sa.func.count().filter(admitted).label(f"{prefix}r_requests"),
            sa.func.min(R.c.create_time).filter(admitted).label(f"{prefix}r_oldest"),
        )
        .where(R.c.integration_id == iid, sa.or_(is_open, R.c.create_time >= ws),
               *([] if model is None else [R.c.model == model])),
        f"{prefix}r",
    )
    return [events, buckets, held]


def _aggregate_statement(with_model: bool) -> sa.Select[Any]:
    """Every counter of one integration (and of the call's model when it has limits) in one
    statement (one snapshot). A period's usage is the sum of its whole 15-minute buckets plus
    the events of its partial edge buckets (none for calendar periods, whose bounds are bucket
    edges), so its cost grows with the period's buckets, not its events."""
    parts = _counter_parts("", None) + (_counter_parts("m_", _bp("model")) if with_model else [])
    earlier = R.alias("earlier")
    earlier_columns = [c.label(f"earlier_{c.name}") for c in earlier.c]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, sa.true())
    return sa.select(*parts, *earlier_columns).select_from(
        joined.outerjoin(
            earlier,
            sa.and_(earlier.c.tenant_id == _bp("tenant_id"), earlier.c.call_id == _bp("call_id")),
        )
    )


_AGGREGATE = {False: _aggregate_statement(False), True: _aggregate_statement(True)}


def _watched(integration_id: Any) -> Any:
    """Whether the integration has a limit that raises limit events (a budget or token limit of
    its own or of one of its models), as a column: writers of usage add it to a statement they
    run anyway, so usage of an integration without such limits costs no extra query.
    `integration_id` is named with its table: RETURNING renders columns unqualified, and in the
    subqueries an unqualified `integration_id` would be admission_model_limits' own."""
    integration_id = sa.literal_column(f"{integration_id.table.name}.{integration_id.name}")
    own = (
        sa.select(sa.or_(integrations.c.budget_limit_cents > 0,
                         integrations.c.token_limit_month > 0))
        .where(integrations.c.id == integration_id)
        .scalar_subquery()
    )
    of_models = sa.exists().where(
        M.c.integration_id == integration_id,
        sa.or_(M.c.budget_limit_cents > 0, M.c.token_limit > 0),
    )
    return sa.or_(sa.func.coalesce(own, sa.false()), of_models).label("watched")


_INSERT_RESERVATION = R.insert()
_INSERT_EVENT = E.insert()


def _flip(which: Any, now: Any) -> Any:
    """Marks the open reservation `which` names, unless expired at `now`, settled at `now`;
    returns it with `watched`."""
    return (
        R.update()
        .where(which, R.c.state == _OPEN, R.c.expire_time > now)
        .values(state=ReservationState.SETTLED.value, settle_time=now)
        .returning(*R.c, _watched(R.c.integration_id))
    )


@functools.cache
def _one_statement_settle(by_reservation: bool) -> Any:
    """PostgreSQL's settle in one statement, atomic without BEGIN and COMMIT: flips the open
    reservation (by `s_reservation_id`, else `s_call_id`) and inserts its usage event from the
    flipped row as `SettledUsage.record_for` completes it (the settlement's model, else the
    reservation's). Returns the flipped reservation, `watched` and `recorded`; no row when the
    reservation was not open."""
    which = (R.c.id == _bp("s_reservation_id")) if by_reservation else (
        R.c.call_id == _bp("s_call_id"))
    flipped = _flip(sa.and_(R.c.tenant_id == _bp("s_tenant_id"), which), _bp("s_now")).cte(
        "flipped"
    )
    derived = {
        "tenant_id": flipped.c.tenant_id,
        "integration_id": flipped.c.integration_id,
        "call_id": flipped.c.call_id,
        "reservation_id": flipped.c.id,
        "model": sa.func.coalesce(
            sa.func.nullif(sa.bindparam("e_model", type_=E.c.model.type), ""), flipped.c.model
        ),
        "policy_result": flipped.c.verdict,
    }
    written = _record_values(SettledUsage("", _NO_SETTLEMENT, _EPOCH).record_for(_NOT_YET_FOUND))
    values = {
        c.name: derived.get(c.name, sa.bindparam(f"e_{c.name}", type_=c.type))
        for c in E.c if c.name in written
    }
    recorded = (
        E.insert()
        .from_select(list(values), sa.select(*values.values()).select_from(flipped))
        .returning(E.c.id)
        .cte("recorded")
    )
    # Selected so that the statement renders the insert's CTE (PostgreSQL runs it either way).
    count = sa.select(sa.func.count()).select_from(recorded).scalar_subquery()
    return sa.select(flipped, count.label("recorded"))


_BUCKET = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# What `SettledUsage.record_for` is given before the reservation is known, for the bind values
# of `_one_statement_settle`: the columns it fills from the reservation come from the flipped
# row instead.
_NOT_YET_FOUND = Reservation(
    id="", tenant_id="", integration_id="", call_id="", model="", estimated_input_tokens=0,
    estimated_output_tokens=0, estimated_cost_cents=0, verdict=Verdict.ALLOW,
    state=ReservationState.OPEN, create_time=_EPOCH, expire_time=_EPOCH,
)
_NO_SETTLEMENT = Settlement("", "", "", 0, 0, 0)


def _bucket_floor(instant: datetime) -> datetime:
    return _EPOCH + (instant - _EPOCH) // _BUCKET * _BUCKET


def _range_binds(start: datetime, end: datetime) -> dict[str, datetime]:
    """[start, end) as whole buckets [bucket_lo, bucket_hi) and the partial edges head and tail."""
    low = -(-(start - _EPOCH) // _BUCKET) * _BUCKET + _EPOCH  # the ceiling
    high = _bucket_floor(end)
    if low >= high:
        return {"bucket_lo": start, "bucket_hi": start, "head_lo": start, "head_hi": end,
                "tail_lo": end, "tail_hi": end}
    return {"bucket_lo": low, "bucket_hi": high, "head_lo": start, "head_hi": low,
            "tail_lo": high, "tail_hi": end}


def _aggregate_binds(
    integration: Integration, window: AdmissionWindow, model: str, call_id: str = ""
) -> dict[str, Any]:
    """The parameters of `_AGGREGATE`: the integration's (and `model`'s) counters over
    `window`, and the earlier reservation of `call_id` (none for "")."""
    return {
        "integration_id": integration.id,
        "tenant_id": integration.tenant_id,
        "call_id": call_id,
        "model": model,
        "now": window.now,
        "window_start": window.window_start,
        "period_start": window.period_start,
        "period_end": window.count_end,
        **_range_binds(window.period_start, window.count_end),
    }


_POLICY_COLUMNS = [P.c.tokens_per_minute, P.c.max_parallel_calls, P.c.reservation_ttl_ms,
                   P.c.warn_percent, P.c.period_kind, P.c.period_time_zone, P.c.period_anchor,
                   P.c.rolling_window_ms, P.c.fail_open,
                   P.c.update_time.label("policy_update_time")]
_MODEL_LIMIT_FIELDS = ("budget_limit_cents", "token_limit", "rate_limit_rpm",
                       "tokens_per_minute", "max_parallel_calls")


def _integration_statement(with_lock: bool) -> sa.Select[Any]:
    """The live integration, its policy, the call's model (the request's, else the default)
    and that model's limits; on PostgreSQL the row also takes the lock."""
    call_model = sa.case(
        (_bp("model") == "", integrations.c.default_model), else_=_bp("model")
    )
    columns: list[Any] = [integrations, *_POLICY_COLUMNS, call_model.label("call_model"),
                          *(M.c[name].label(f"ml_{name}") for name in _MODEL_LIMIT_FIELDS),
                          M.c.model.label("ml_model")]
    if with_lock:
        columns.append(
            sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(_bp("lock_key"), 0))
        )
    return (
        sa.select(*columns)
        .select_from(
            integrations.outerjoin(P, P.c.integration_id == integrations.c.id).outerjoin(
                M, sa.and_(M.c.integration_id == integrations.c.id, M.c.model == call_model)
            )
        )
        .where(
            integrations.c.tenant_id == _bp("tenant_id"),
            integrations.c.id == _bp("integration_id"),
            integrations.c.delete_time.is_(None),
        )
    )


_INTEGRATION = {True: _integration_statement(True), False: _integration_statement(False)}

# Batched admission (PostgreSQL): the batch's rows are bound as arrays, one per column, and
# unnested into a relation, so each statement has one shape (compiled and prepared once)
# whatever the batch's size.
_TEXT = postgresql.ARRAY(sa.Text)
_TIMES = postgresql.ARRAY(sa.DateTime(timezone=True))
_BATCH_TEXT = ("tenant_id", "integration_id", "call_id", "model")
_BATCH_TIMES = ("now", "window_start", "period_start", "period_end", "bucket_lo", "bucket_hi",
                "head_lo", "head_hi", "tail_lo", "tail_hi")


def _rows_of(name: str, columns: Sequence[tuple[str, Any]]) -> Any:
    """`unnest(:b_<column>, ...) AS name(column, ...)`: one row per batch item, `idx` first."""
    arrays = [sa.cast(_bp(f"b_{c}", type_=array), array) for c, array in columns]
    return sa.func.unnest(*arrays).table_valued(
        *(sa.column(c, array.item_type) for c, array in columns)
    ).render_derived(name=name)


def _batch_integration_statement() -> sa.Select[Any]:
    """`_integration_statement` for a batch: per item (`b_idx`), its live integration, policy,
    call model and that model's limits; and first, as a one-time condition, the admission lock
    of every integration of the batch (`b_lock_ids`), taken in ascending lock-key order so that
    batches on any replica never wait for each other in a cycle."""
    req = _rows_of("req", [("idx", postgresql.ARRAY(sa.Integer)), ("tenant_id", _TEXT),
                           ("integration_id", _TEXT), ("model", _TEXT)])
    ids = _rows_of("ids", [("lock_ids", _TEXT)])
    key = sa.func.hashtextextended(sa.literal("admission:", sa.Text).concat(ids.c.lock_ids), 0)
    ordered = sa.select(key.label("key")).select_from(ids).order_by(key).subquery("ordered")
    taken = sa.select(sa.func.pg_advisory_xact_lock(ordered.c.key).label("taken")).subquery(
        "taken"
    )
    locked = sa.select(sa.func.count()).select_from(taken).scalar_subquery()
    call_model = sa.case(
        (req.c.model == "", integrations.c.default_model), else_=req.c.model
    )
    # The rest of the transaction uses generic plans: with custom plans PostgreSQL would plan
    # the aggregate (the arrays' lengths vary) afresh every time, which costs more than running it.
    generic = sa.func.set_config("plan_cache_mode", "force_generic_plan", True)
    columns: list[Any] = [req.c.idx, integrations, *_POLICY_COLUMNS,
                          call_model.label("call_model"),
                          *(M.c[name].label(f"ml_{name}") for name in _MODEL_LIMIT_FIELDS),
                          M.c.model.label("ml_model"), generic.label("plan_cache_mode")]
    return (
        sa.select(*columns)
        .select_from(
            req.join(integrations, sa.and_(
                integrations.c.tenant_id == req.c.tenant_id,
                integrations.c.id == req.c.integration_id,
                integrations.c.delete_time.is_(None),
            ))
            .outerjoin(P, P.c.integration_id == integrations.c.id)
            .outerjoin(M, sa.and_(M.c.integration_id == integrations.c.id,
                                  M.c.model == call_model))
        )
        .where(locked >= 0)
    )


def _batch_aggregate_statement() -> sa.Select[Any]:
    """`_aggregate_statement` for a batch, in one statement (one snapshot, taken after the
    locks): per item (`idx`), the counters of its integration over its window, those of its
    call model when `with_model`, and the earlier reservation of its call_id."""
    req = _rows_of("req", [("idx", postgresql.ARRAY(sa.Integer)),
                           *((c, _TEXT) for c in _BATCH_TEXT),
                           ("with_model", postgresql.ARRAY(sa.Boolean)),
                           *((c, _TIMES) for c in _BATCH_TIMES)])

    def source(name: str) -> Any:
        return req.c[name]

    parts = (_counter_parts("", None, source)
             + _counter_parts("m_", req.c.model, source, [req.c.with_model]))
    # LATERAL with LIMIT 1: a probe of the (tenant_id, call_id) key per item, whatever the plan.
    earlier = (
        sa.select(R).where(R.c.tenant_id == req.c.tenant_id, R.c.call_id == req.c.call_id)
        .limit(1).lateral("earlier")
    )
    joined: Any = req
    for part in parts:
        joined = joined.join(part, sa.true())
    return sa.select(req.c.idx, *parts, *(c.label(f"earlier_{c.name}") for c in earlier.c))\
        .select_from(joined.outerjoin(earlier, sa.true()))


_BATCH_INTEGRATION = _batch_integration_statement()
_BATCH_AGGREGATE = _batch_aggregate_statement()


def _model_limits(row: Any, prefix: str = "") -> ModelLimits:
    return ModelLimits(
        model=row._mapping[f"{prefix}model"],
        **{name: int(row._mapping[f"{prefix}{name}"]) for name in _MODEL_LIMIT_FIELDS},
    )


def _policy_of(
    integration_id: str, row: Any, model_limits: Sequence[ModelLimits] = ()
) -> AdmissionPolicy:
    if row.reservation_ttl_ms is None:
        return AdmissionPolicy(integration_id=integration_id)
    return AdmissionPolicy(
        integration_id=integration_id,
        tokens_per_minute=row.tokens_per_minute,
        max_parallel_calls=row.max_parallel_calls,
        reservation_ttl=timedelta(milliseconds=row.reservation_ttl_ms),
        warn_percent=row.warn_percent,
        update_time=row.policy_update_time,
        period=LimitPeriod(
            kind=PeriodKind(row.period_kind),
            time_zone=row.period_time_zone,
            anchor=row.period_anchor,
            rolling_window=timedelta(milliseconds=row.rolling_window_ms),
        ),
        model_limits=tuple(model_limits),
        fail_open=bool(row.fail_open),
    )


def _reservation(values: Any) -> Reservation:
    return Reservation(
        id=values["id"],
        tenant_id=values["tenant_id"],
        integration_id=values["integration_id"],
        call_id=values["call_id"],
        model=values["model"],
        estimated_input_tokens=values["estimated_input_tokens"],
        estimated_output_tokens=values["estimated_output_tokens"],
        estimated_cost_cents=values["estimated_cost_cents"],
        verdict=Verdict(values["verdict"]),
        state=ReservationState(values["state"]),
        create_time=values["create_time"],
        expire_time=values["expire_time"],
    )


def _reservation_values(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "tenant_id": reservation.tenant_id,
        "integration_id": reservation.integration_id,
        "call_id": reservation.call_id,
        "model": reservation.model,
        "estimated_input_tokens": reservation.estimated_input_tokens,
        "estimated_output_tokens": reservation.estimated_output_tokens,
        "estimated_cost_cents": reservation.estimated_cost_cents,
        "verdict": reservation.verdict.value,
        "state": reservation.state.value,
        "create_time": reservation.create_time,
        "expire_time": reservation.expire_time,
    }


def _record_values(record: UsageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "tenant_id": record.tenant_id,
        "integration_id": record.integration_id,
        "tokens": record.tokens,
        "cost_cents": record.cost_cents,
        "occurred_at": record.occurred_at,
        "request_id": None,
        "create_time": record.create_time,
        "call_id": record.call_id,
        "reservation_id": record.reservation_id,
        "model": record.model,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "latency_ms": record.latency_ms,
        "outcome": record.outcome.value,
        "error_code": record.error_code,
        "session_id": record.session_id,
        "agent_id": record.agent_id,
        "policy_result": record.policy_result.value if record.policy_result else None,
        "call_metadata": dict(record.metadata) or None,
    }


def _record(row: Any) -> UsageRecord:
    return UsageRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        call_id=row.call_id,
        reservation_id=row.reservation_id,
        model=row.model,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_cents=row.cost_cents,
        latency_ms=row.latency_ms,
        outcome=CallOutcome(row.outcome),
        error_code=row.error_code,
        session_id=row.session_id,
        agent_id=row.agent_id,
        policy_result=Verdict(row.policy_result) if row.policy_result else None,
        metadata=row.call_metadata or {},
        occurred_at=row.occurred_at,
        create_time=row.create_time,
    )


def _expired_record(row: Any, now: datetime) -> dict[str, Any]:
    """The usage event an unsettled reservation becomes: its estimate, counted at expiry."""
    return _record_values(UsageRecord(
        id=row.id,  # one event per reservation, so the reservation's id serves
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        call_id=row.call_id,
        reservation_id=row.id,
        model=row.model,
        input_tokens=row.estimated_input_tokens,
        output_tokens=row.estimated_output_tokens,
        cost_cents=row.estimated_cost_cents,
        outcome=CallOutcome.EXPIRED,
        policy_result=Verdict(row.verdict),
        occurred_at=row.expire_time,
        create_time=now,
    ))


async def _expire(conn: AsyncConnection, condition: Any, now: datetime, insert: Any) -> int:
    """Turns open reservations past expiry that match `condition` into usage events. `insert`
    ignores conflicts: when RecordUsageBatch already stored an event under the call_id, that
    event is the call's usage and the estimate is not added on top."""
    expired = (
        await conn.execute(
            R.update()
            .where(condition, R.c.state == _OPEN, R.c.expire_time <= now)
            .values(state=ReservationState.EXPIRED.value)
            .returning(*R.c)
        )
    ).all()
    if expired:
        # In integration order, so concurrent sweeps lock the totals rows in the same order.
        ordered = sorted(expired, key=lambda row: (row.integration_id, row.id))
        await conn.execute(insert, [_expired_record(row, now) for row in ordered])
    return len(expired)


async def _read_counters(
    conn: AsyncConnection,
    integration: Integration,
    window: AdmissionWindow,
    model_limits: Sequence[ModelLimits],
) -> tuple[Counters, list[ModelCounters]]:
    """What `admit` counts over `window` (its aggregate statement): the integration's counters
    and those of each model of `model_limits`, one statement per model (the integration's from
    the first), one without any."""
    if not model_limits:
        row = (await conn.execute(_AGGREGATE[False], _aggregate_binds(integration, window, ""))).one()
        return _counters(row, ""), []
    counters = Counters()
    models = []
    for index, limits in enumerate(model_limits):
        row = (await conn.execute(_AGGREGATE[True], _aggregate_binds(
            integration, window, limits.model))).one()
        if index == 0:
            counters = _counters(row, "")
        models.append(ModelCounters(limits, _counters(row, "m_")))
    return counters, models


async def _limits_of(
    conn: AsyncConnection, tenant_id: str, integration_id: str, models: Collection[str]
) -> tuple[Integration, AdmissionPolicy] | None:
    """The tenant's live integration and its policy with the limits of those of `models` that
    have limits of their own (one statement for one model, as admit reads it; two for more);
    None when there is no such integration."""
    named = sorted({m for m in models if m})
    found = (
        await conn.execute(_INTEGRATION[False], {
            "tenant_id": tenant_id, "integration_id": integration_id,
            "model": named[0] if named else "",
        })
    ).first()
    if found is None:
        return None
    integration = row_to_integration(found)
    limits: list[ModelLimits] = []
    if len(named) == 1 and found.ml_model is not None:
        limits = [_model_limits(found, "ml_")]
    elif len(named) > 1:
        rows = await conn.execute(
            sa.select(M).where(M.c.integration_id == integration.id, M.c.model.in_(named))
            .order_by(M.c.model)
        )
        limits = [_model_limits(row) for row in rows]
    return integration, _policy_of(integration.id, found, limits)


@contextlib.contextmanager
def _call_id_conflict(call_id: str | None) -> Iterator[None]:
    """A settle's usage event refused by the call_id key (the statement or transaction rolled
    back, so the reservation stays open): FAILED_PRECONDITION CALL_ID_CONFLICT."""
    try:
        yield
    except IntegrityError:
        raise FailedPrecondition(
            "CALL_ID_CONFLICT",
            "a usage event with this call_id was recorded by RecordUsageBatch",
            metadata={"call_id": call_id or ""},
        ) from None


def _day(dialect: str) -> Any:
    if dialect == "sqlite":  # UtcDateTime stores a fixed-width UTC ISO string
        return sa.func.substr(E.c.occurred_at, 1, 10)
    return sa.func.to_char(sa.func.timezone("UTC", E.c.occurred_at), "YYYY-MM-DD")


DEFAULT_ADMIT_BATCH = 64
_INSERT_RESERVATIONS = (
    postgresql.insert(R)
    .on_conflict_do_nothing(index_elements=[R.c.tenant_id, R.c.call_id])
    .returning(R.c.id)
)


@dataclass(frozen=True, slots=True)
class _Queued:
    """An admission waiting for its batch."""

    estimate: CallEstimate
    now: datetime
    plan: Planner


# What a batch gives each item: its outcome, None (no such integration) or its own error.
_Result = AdmitOutcome | None | Exception


@dataclass(frozen=True, slots=True)
class _BatchRead:
    """What the batch's first statement read for one item."""

    item: _Queued
    integration: Integration
    policy: AdmissionPolicy
    limits: ModelLimits | None
    call_model: str
    window: AdmissionWindow

    @classmethod
    def of(cls, item: _Queued, row: Any) -> _BatchRead:
        integration = row_to_integration(row)
        limits = _model_limits(row, "ml_") if row.ml_model is not None else None
        policy = _policy_of(integration.id, row, [limits] if limits else [])
        return cls(item, integration, policy, limits, row.call_model,
                   window_at(item.now, policy.period))


def _batch_aggregate_binds(read: dict[int, _BatchRead]) -> dict[str, Any]:
    """The arrays `_BATCH_AGGREGATE` unnests: one element per item read."""
    rows = [
        {"idx": index, **_aggregate_binds(r.integration, r.window, r.call_model,
                                          r.item.estimate.call_id),
         "with_model": r.limits is not None}
        for index, r in sorted(read.items())
    ]
    names = ("idx", *_BATCH_TEXT, "with_model", *_BATCH_TIMES)
    return {f"b_{name}": [row[name] for row in rows] for name in names}


class _BatchPlans:
    """The decisions of one batch, in queue order: the counters each integration (and model)
    has reached with the reservations planned so far, and the reservations of call ids."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str], Counters] = {}  # (integration, model or "")
        self._calls: dict[tuple[str, str], Reservation] = {}  # (tenant, call_id)
        self._events: dict[int, Sequence[LimitEvent]] = {}
        self.reservations: list[Reservation] = []
        self.events: list[LimitEvent] = []

    def _current(self, key: tuple[str, str], row: Any, prefix: str) -> Counters:
        if key not in self._counters:
            self._counters[key] = _counters(row, prefix)
        return self._counters[key]

    def decide(self, index: int, read: _BatchRead, row: Any) -> AdmitOutcome:
        """Item `index`'s plan on the counters as the items before it left them."""
        estimate, integration = read.item.estimate, read.integration
        counters = self._current((integration.id, ""), row, "")
        model = None
        if read.limits is not None:
            model = ModelCounters(read.limits, self._current(
                (integration.id, read.call_model), row, "m_"))
        earlier = self._calls.get((estimate.tenant_id, estimate.call_id))
        if earlier is None and row.earlier_id is not None:
            earlier = _reservation({c.name: row._mapping[f"earlier_{c.name}"] for c in R.c})
        reading = Reading(integration, read.policy, read.window, counters, model, earlier)
        planned = read.item.plan(reading)
        reservation = planned.reservation
        replayed = reservation is not None and reservation is earlier
        self._events[index] = planned.events
        self.events.extend(planned.events)
        if reservation is not None and not replayed:
            self.reservations.append(reservation)
            self._calls[estimate.tenant_id, estimate.call_id] = reservation
            self._reserve((integration.id, ""), reservation)
            if model is not None:
                self._reserve((integration.id, read.call_model), reservation)
        return AdmitOutcome(reading, planned.decision, reservation, replayed)

    def _reserve(self, key: tuple[str, str], reservation: Reservation) -> None:
        self._counters[key] = self._counters[key].reserving(
            reservation.estimated_cost_cents, reservation.estimated_tokens,
            reservation.create_time,
        )

    def events_of(self, index: int) -> Sequence[LimitEvent]:
        return self._events.get(index, ())


class SqlAdmissionStore:
    """Reservations, usage events and admission policies in the service's database."""

    def __init__(
        self,
        database: Database,
        events: LimitEventWriter | None = None,
        *,
        admit_batch: int = DEFAULT_ADMIT_BATCH,
    ) -> None:
        """`admit_batch`: on PostgreSQL, the most concurrent admissions of this process decided
        in one transaction (`_admit_batch`); 1, and SQLite, decide each in its own."""
        self._db = database
        self._events = events or LimitEventWriter(database)
        self._local_locks: dict[str, asyncio.Lock] = {}
        self._insert_events = self._insert(E).on_conflict_do_nothing()
        self._batches: Batcher[_Queued, _Result] | None = None
        if admit_batch > 1 and not database.is_sqlite:
            self._batches = Batcher(
                self._admit_batch, max_batch=admit_batch, abandoned=self._release_abandoned
            )

    @contextlib.asynccontextmanager
    async def _locked(self, integration_id: str) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the integration's admission lock. Within the process an
        asyncio.Lock queues admissions before they take a pooled connection (on SQLite, one
        process, that is the whole lock); on PostgreSQL the first statement,
        `_INTEGRATION[True]`, then takes the advisory lock shared with the other replicas."""
        lock = self._local_locks.setdefault(integration_id, asyncio.Lock())
        async with lock, self._db.transaction() as conn:
            yield conn

    async def admit(
        self, estimate: CallEstimate, now: datetime, plan: Planner
    ) -> AdmitOutcome | None:
        if self._batches is not None:
            result = await self._batches.submit(_Queued(estimate, now, plan))
            if isinstance(result, Exception):
                raise result
            return result
        return await self._admit_one(estimate, now, plan)

    async def _admit_batch(self, items: list[_Queued]) -> list[_Result]:
        """Decides queued admissions in one transaction (PostgreSQL): the admission locks of
        all their integrations and each item's integration, policy and model limits in one
        statement, the counters of every item in a second (one snapshot, after the locks),
        each plan in queue order in Python (an item sees the reservations of the items before
        it: `Counters.reserving`, and an earlier item's reservation of its call_id), then one
        insert of the reservations and the limit events, and COMMIT. An item whose plan
        raises gets that error and the others go on; a database error fails them all."""
        results: list[_Result] = [None] * len(items)
        decided: list[tuple[int, AdmitOutcome]] = []
        events: list[LimitEvent] = []
        async with self._db.transaction() as conn:
            found = {row.idx: row for row in await conn.execute(_BATCH_INTEGRATION, {
                "b_idx": list(range(len(items))),
                "b_tenant_id": [item.estimate.tenant_id for item in items],
                "b_integration_id": [item.estimate.integration_id for item in items],
                "b_model": [item.estimate.model for item in items],
                "b_lock_ids": sorted({item.estimate.integration_id for item in items}),
            })}
            if not found:
                return results
            read = {index: _BatchRead.of(items[index], row) for index, row in found.items()}
            counted = {row.idx: row for row in await conn.execute(
                _BATCH_AGGREGATE, _batch_aggregate_binds(read)
            )}
            plans = _BatchPlans()
            for index in sorted(read):
                try:
                    decided.append((index, plans.decide(index, read[index], counted[index])))
                except Exception as exc:  # noqa: BLE001 - this item's error alone
                    results[index] = exc
            expired = sorted({read[i].integration.id for i in read if counted[i].x_count})
            if expired:
                await _expire(conn, R.c.integration_id.in_(expired),
                              min(item.now for item in items), self._insert_events)
            refused = await self._insert_reservations(conn, plans.reservations)
            stored = await self._write_events(conn, plans.events)
            events = [e for group in stored.values() for e in group]
        self.notify_committed(events)
        kept = {e.id for e in events}
        for index, outcome in decided:
            reservation = outcome.reservation
            if reservation is not None and reservation.id in refused:
                results[index] = FailedPrecondition(
                    "CALL_ID_REUSED", "call_id was admitted before for another integration",
                    metadata={"call_id": reservation.call_id},
                )
                continue
            results[index] = replace(outcome, events=tuple(
                e for e in plans.events_of(index) if e.id in kept
            ))
        return results

    async def _insert_reservations(
        self, conn: AsyncConnection, reservations: Sequence[Reservation]
    ) -> set[str]:
        """Inserts `reservations` in one statement; the ids of those refused because another
        integration's reservation holds their call_id (committed by another replica after
        this batch's aggregate read: that integration's lock is not held)."""
        if not reservations:
            return set()
        inserted = await conn.execute(
            _INSERT_RESERVATIONS, [_reservation_values(r) for r in reservations]
        )
        return {r.id for r in reservations} - {row.id for row in inserted}

    async def _write_events(
        self, conn: AsyncConnection, events: Sequence[LimitEvent]
    ) -> dict[tuple[str, str], list[LimitEvent]]:
        """The batch's limit events, written per tenant and integration in tenant order (each
        tenant's event lock, like the integrations' locks, is taken in one order everywhere);
        the stored ones of each."""
        groups: defaultdict[tuple[str, str], list[LimitEvent]] = defaultdict(list)
        for event in events:
            groups[event.tenant_id, event.integration_id].append(event)
        return {key: await self._events.write(conn, groups[key]) for key in sorted(groups)}

    async def _release_abandoned(self, gone: list[tuple[_Queued, _Result]]) -> None:
        """Gives back the reservations of callers cancelled while their batch ran (they never
        received them). Best effort: one left open by a failure here expires, and its
        estimate then counts as used."""
        ids = sorted(
            r.reservation.id for _, r in gone
            if isinstance(r, AdmitOutcome) and r.reservation is not None and not r.replayed
        )
        if ids:
            async with self._db.transaction() as conn:
                await conn.execute(
                    R.update().where(R.c.id.in_(ids), R.c.state == _OPEN)
                    .values(state=ReservationState.RELEASED.value)
                )

    async def _admit_one(
        self, estimate: CallEstimate, now: datetime, plan: Planner
    ) -> AdmitOutcome | None:
        async with self._locked(estimate.integration_id) as conn:
            found = (
                await conn.execute(
                    _INTEGRATION[not self._db.is_sqlite],
                    {
                        "tenant_id": estimate.tenant_id,
                        "integration_id": estimate.integration_id,
                        "model": estimate.model,
                        "lock_key": f"admission:{estimate.integration_id}",
                    },
                )
            ).first()
            if found is None:
                return None
            integration = row_to_integration(found)
            limits = _model_limits(found, "ml_") if found.ml_model is not None else None
            policy = _policy_of(integration.id, found, [limits] if limits else [])
            window = window_at(now, policy.period)
            row = (
                await conn.execute(
                    _AGGREGATE[limits is not None],
                    _aggregate_binds(integration, window, found.call_model, estimate.call_id),
                )
            ).one()
            earlier = None
            if row.earlier_id is not None:
                earlier = _reservation({c.name: row._mapping[f"earlier_{c.name}"] for c in R.c})
            reading = Reading(
                integration, policy, window, _counters(row, ""),
                ModelCounters(limits, _counters(row, "m_")) if limits else None, earlier,
            )
            planned = plan(reading)
            reservation = planned.reservation
            if row.x_count:
                await _expire(conn, R.c.integration_id == integration.id, now, self._insert_events)
            replayed = reservation is not None and reservation is earlier
            if reservation is not None and not replayed:
                await conn.execute(_INSERT_RESERVATION, _reservation_values(reservation))
            events = await self._events.write(conn, planned.events)
        self._events.notify_committed(events)
        return AdmitOutcome(reading, planned.decision, reservation, replayed, tuple(events))

    async def release(self, reservation: Reservation) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                R.update()
                .where(R.c.id == reservation.id, R.c.state == _OPEN)
                .values(state=ReservationState.RELEASED.value)
            )

    async def settle(
        self,
        tenant_id: str,
        call_id: str,
        reservation_id: str,
        usage: SettledUsage,
        now: datetime,
    ) -> SettleOutcome | None:
        which = sa.and_(
            R.c.tenant_id == tenant_id,
            R.c.id == reservation_id if reservation_id else R.c.call_id == call_id,
        )
        if self._db.is_sqlite:  # no UPDATE in a WITH: two statements in a transaction
            settled = await self._settle_in_transaction(which, usage, now)
        else:
            settled = await self._settle_in_one_statement(
                tenant_id, call_id, reservation_id, usage, now
            )
        if settled is not None:
            self.notify_committed(settled.events)
            return settled
        return await self._settled_before(which)

    async def _settle_in_transaction(
        self, which: Any, usage: SettledUsage, now: datetime
    ) -> SettleOutcome | None:
        async with self._db.transaction() as conn:
            flipped = (await conn.execute(_flip(which, now))).first()
            if flipped is None:
                return None
            reservation = _reservation(flipped._mapping)
            record = usage.record_for(reservation)
            with _call_id_conflict(record.call_id):
                await conn.execute(_INSERT_EVENT, _record_values(record))
            events = await self.raise_limit_events(
                conn, reservation.tenant_id, reservation.integration_id, [record.model], now
            ) if flipped.watched and not reservation.covers(record) else []
        return SettleOutcome(reservation, record, True, tuple(events))

    async def _settle_in_one_statement(
        self, tenant_id: str, call_id: str, reservation_id: str, usage: SettledUsage,
        now: datetime,
    ) -> SettleOutcome | None:
        """One round trip for the usual settle; a settle beyond its estimate then checks the
        thresholds in a transaction of its own (a crash between the two loses no usage, and the
        next call that checks raises what this one did not)."""
        binds = {f"e_{name}": value for name, value in
                 _record_values(usage.record_for(_NOT_YET_FOUND)).items()}
        binds.update(s_tenant_id=tenant_id, s_reservation_id=reservation_id,
                     s_call_id=call_id, s_now=now)
        with _call_id_conflict(call_id):
            async with self._db.read() as conn:  # autocommit: the statement is its transaction
                flipped = (await conn.execute(
                    _one_statement_settle(bool(reservation_id)), binds
                )).first()
        if flipped is None:
            return None
        reservation = _reservation(flipped._mapping)
        record = usage.record_for(reservation)
        events: list[LimitEvent] = []
        if flipped.watched and not reservation.covers(record):
            async with self._db.transaction() as conn:
                events = await self.raise_limit_events(
                    conn, tenant_id, reservation.integration_id, [record.model], now
                )
        return SettleOutcome(reservation, record, True, tuple(events))

    async def _settled_before(self, which: Any) -> SettleOutcome | None:
        async with self._db.read() as conn:  # not open: settled before, expired, or unknown
            found = (await conn.execute(sa.select(R).where(which))).first()
            if found is None:
                return None
            earlier = (
                await conn.execute(sa.select(E).where(E.c.reservation_id == found.id))
            ).first()
        reservation = _reservation(found._mapping)
        if found.state == ReservationState.SETTLED.value and earlier is not None:
            return SettleOutcome(reservation, _record(earlier), False)
        raise FailedPrecondition(
            "RESERVATION_EXPIRED",
            "the reservation expired (or was released) before it was settled; its estimate "
            "counts as used",
            metadata={"call_id": reservation.call_id},
        )

    async def raise_limit_events(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        integration_id: str,
        models: Collection[str],
        now: datetime,
    ) -> list[LimitEvent]:
        """In the transaction that just wrote usage of the integration (of `models`; "" for
        usage of no model): the counters as `admit` reads them, as they stand after that write,
        and the limit events of every threshold they reach, stored unless stored before (call
        `notify_committed` with them after the commit). No query after the first when neither
        the integration nor those models have a budget or token limit."""
        read = await _limits_of(conn, tenant_id, integration_id, models)
        if read is None:
            return []
        integration, policy = read
        policy = replace(policy, model_limits=tuple(
            m for m in policy.model_limits if m.budget_limit_cents > 0 or m.token_limit > 0
        ))
        if not has_period_limits(integration, policy):
            return []
        window = window_at(now, policy.period)
        counters, model_counters = await _read_counters(
            conn, integration, window, policy.model_limits
        )
        return await self._events.write(
            conn, reached(integration, policy, counters, window, model_counters, now)
        )

    def notify_committed(self, events: Sequence[LimitEvent]) -> None:
        """Wakes the watchers of `events` once their transaction has committed."""
        self._events.notify_committed(events)

    async def expire_due(self, tenant_id: str, now: datetime) -> int:
        async with self._db.transaction() as conn:
            return await _expire(conn, R.c.tenant_id == tenant_id, now, self._insert_events)

    async def owned_integrations(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        owned: set[str] = set()
        async with self._db.read() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                rows = await conn.execute(
                    sa.select(integrations.c.id).where(
                        integrations.c.tenant_id == tenant_id,
                        integrations.c.id.in_(chunk),
                        integrations.c.delete_time.is_(None),
                    )
                )
                owned.update(r.id for r in rows)
        return owned

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert(table) if self._db.is_sqlite else postgresql.insert(table))

    async def record_batch(
        self, records: Sequence[UsageRecord]
    ) -> list[tuple[BatchStatus, UsageRecord]]:
        tenant_id = records[0].tenant_id
        call_ids = sorted({r.call_id for r in records if r.call_id})
        stored: dict[str, UsageRecord] = {}
        ids = {r.id for r in records}
        watched: defaultdict[str, set[str]] = defaultdict(set)  # integration: models recorded
        events: list[LimitEvent] = []
        async with self._db.transaction() as conn:
            # In integration order, so concurrent batches lock the totals rows in the same order.
            ordered = sorted(records, key=lambda r: (r.integration_id, r.occurred_at))
            await conn.execute(
                self._insert(E).on_conflict_do_nothing(), [_record_values(r) for r in ordered]
            )
            for start in range(0, len(call_ids), _IN_CHUNK):
                rows = await conn.execute(
                    sa.select(E, _watched(E.c.integration_id)).where(
                        E.c.tenant_id == tenant_id,
                        E.c.call_id.in_(call_ids[start:start + _IN_CHUNK]),
                    )
                )
                for row in rows:
                    stored[row.call_id] = _record(row)
                    if row.watched and row.id in ids:  # recorded now
                        watched[row.integration_id].add(row.model)
            now = max(r.create_time for r in records)
            for integration_id in sorted(watched):
                events += await self.raise_limit_events(
                    conn, tenant_id, integration_id, watched[integration_id], now
                )
        self.notify_committed(events)
        results = []
        for record in records:
            found = stored[record.call_id or ""]
            status = BatchStatus.RECORDED if found.id == record.id else BatchStatus.DUPLICATE
            results.append((status, found))
        return results

    async def summary(
        self,
        tenant_id: str,
        integration_id: str | None,
        start: datetime,
        end: datetime,
        group_by: Sequence[GroupBy],
    ) -> list[SummaryRow]:
        dimensions = {
            GroupBy.DAY: _day(self._db.dialect).label("day"),
            GroupBy.MODEL: E.c.model.label("model"),
            GroupBy.INTEGRATION: E.c.integration_id.label("integration_id"),
        }
        keys = [dimensions[g] for g in GroupBy if g in group_by]
        conditions = [E.c.tenant_id == tenant_id, E.c.occurred_at >= start, E.c.occurred_at < end]
        if integration_id is not None:
            conditions.append(E.c.integration_id == integration_id)
        failed = E.c.outcome.in_([CallOutcome.ERROR.value, CallOutcome.TIMEOUT.value])
        query = (
            sa.select(
                *keys,
                sa.func.count().label("requests"),
                sa.func.coalesce(sa.func.sum(E.c.input_tokens), 0).label("input_tokens"),
                sa.func.coalesce(sa.func.sum(E.c.output_tokens), 0).label("output_tokens"),
                sa.func.coalesce(sa.func.sum(E.c.tokens), 0).label("tokens"),
                sa.func.coalesce(sa.func.sum(E.c.cost_cents), 0).label("cost_cents"),
                sa.func.count().filter(failed).label("errors"),
            )
            .where(*conditions)
            .group_by(*keys)
            .order_by(*keys)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [SummaryRow(**_summary_fields(r)) for r in rows if r.requests or keys]

    async def get_policy(self, tenant_id: str, integration_id: str) -> AdmissionPolicy | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(*_POLICY_COLUMNS).where(
                        P.c.tenant_id == tenant_id, P.c.integration_id == integration_id
                    )
                )
            ).first()
            models = (
                await conn.execute(
                    sa.select(M).where(M.c.tenant_id == tenant_id,
                                       M.c.integration_id == integration_id).order_by(M.c.model)
                )
            ).all()
        return _policy_of(integration_id, row, [_model_limits(m) for m in models]) if row else None

    async def period_usage(self, integration: Integration, now: datetime) -> PeriodUsage:
        """What `admit` counts at `now` (the same statement, without the lock): the usage over
        the policy's period and the requests of the last minute, of the integration and of each
        model with limits (one statement per model; the integration's from the first)."""
        policy = await self.get_policy(integration.tenant_id, integration.id)
        policy = policy or AdmissionPolicy(integration_id=integration.id)
        window = window_at(now, policy.period)
        async with self._db.read() as conn:
            counters, of_models = await _read_counters(
                conn, integration, window, policy.model_limits
            )
        models = [
            ModelUsage(
                model=m.limits.model,
                budget_limit_cents=m.limits.budget_limit_cents,
                cost_used=m.counters.cost_used,
                token_limit=m.limits.token_limit,
                tokens_used=m.counters.tokens_used,
                rate_limit_rpm=m.limits.rate_limit_rpm,
                requests_in_window=m.counters.requests_in_window,
            )
            for m in of_models
        ]
        return PeriodUsage(
            period=policy.period,
            period_start=window.period_start,
            period_end=window.period_end,
            cost_used=counters.cost_used,
            tokens_used=counters.tokens_used,
            requests_in_window=counters.requests_in_window,
            models=tuple(models),
        )

    async def put_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy:
        period = policy.period
        values = {
            "tokens_per_minute": policy.tokens_per_minute,
            "max_parallel_calls": policy.max_parallel_calls,
            "reservation_ttl_ms": policy.reservation_ttl // timedelta(milliseconds=1),
            "warn_percent": policy.warn_percent,
            "update_time": policy.update_time,
            "period_kind": period.kind.value,
            "period_time_zone": period.time_zone,
            "period_anchor": period.anchor,
            "rolling_window_ms": period.rolling_window // timedelta(milliseconds=1),
            "fail_open": policy.fail_open,
        }
        statement = self._insert(P).values(
            integration_id=policy.integration_id, tenant_id=tenant_id, **values
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                statement.on_conflict_do_update(index_elements=[P.c.integration_id], set_=values)
            )
            await conn.execute(M.delete().where(M.c.integration_id == policy.integration_id))
            if policy.model_limits:
                await conn.execute(M.insert(), [
                    {"integration_id": policy.integration_id, "tenant_id": tenant_id,
                     "model": m.model, **{name: getattr(m, name) for name in _MODEL_LIMIT_FIELDS}}
                    for m in policy.model_limits
                ])
        return replace(policy, model_limits=tuple(sorted(policy.model_limits, key=lambda m: m.model)))


def _summary_fields(row: Any) -> dict[str, Any]:
    return {k: (v if isinstance(v, str) else int(v)) for k, v in row._mapping.items()}


def _counters(row: Any, prefix: str) -> Counters:
    """The counters of the aggregate's `prefix`ed columns ('' the integration, 'm_' the model)."""
    v = {k[len(prefix):]: x for k, x in row._mapping.items() if k.startswith(prefix)}
    oldest = [t for t in (v["e_oldest"], v["r_oldest"]) if t is not None]
    def exact(name: str) -> int:
        return from_halves(v[f"{name}_high"], v[f"{name}_low"])

    cost = exact("b_cost") + exact("e_edge_cost")
    tokens = exact("b_tokens") + exact("e_edge_tokens")
    return Counters(
        cost_used=cost + int(v["x_cost"]),
        cost_reserved=int(v["r_cost"]),
        tokens_used=tokens + int(v["x_tokens"]),
        tokens_reserved=int(v["r_tokens"]),
        requests_in_window=int(v["e_requests"]) + int(v["r_requests"]),
        oldest_request=min(oldest) if oldest else None,
        tokens_in_window=exact("e_window_tokens") + int(v["x_window_tokens"]),
        oldest_tokens=v["e_oldest_tokens"],
        open_reservations=int(v["r_open"]),
    )
