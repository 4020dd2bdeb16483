"""Keyset paging over (create_time, id), shared by every SQL store's list query; a table whose
rows are ordered by another time (the health history's `checked_at`) names it."""

from __future__ import annotations

import operator
from typing import Any, TypeVar

import sqlalchemy as sa

from engines.kernel.pagination import PageRequest

__all__ = ["AFTER_ID", "AFTER_TIME", "PAGE_LIMIT", "keyset_statement", "keyset_values", "page_of"]

AFTER_TIME, AFTER_ID, PAGE_LIMIT = "after_time", "after_id", "page_limit"

Q = TypeVar("Q", bound=sa.Select[Any])


def page_of(
    query: Q,
    table: sa.Table,
    page: PageRequest,
    *,
    descending: bool = False,
    time_column: sa.ColumnElement[Any] | None = None,
) -> Q:
    """Restricts `query` to the rows after the page token's key, in order, one row past a page.

    Ascending by default; `descending` lists newest first (time, then id, descending). The time
    is `create_time` unless `time_column` names another column of `table`."""
    create_time = table.c.create_time if time_column is None else time_column
    row_id = table.c.id
    if page.after is not None:
        after_time, after_id = page.after
        beyond = operator.lt if descending else operator.gt
        query = query.where(
            sa.or_(
                beyond(create_time, after_time),
                sa.and_(create_time == after_time, beyond(row_id, after_id)),
            )
        )
    order = (create_time.desc(), row_id.desc()) if descending else (create_time, row_id)
    return query.order_by(*order).limit(page.size + 1)


def keyset_statement(
    query: sa.Select,  # type: ignore[type-arg]
    table: sa.Table,
    *,
    after: bool,
    descending: bool = False,
) -> sa.Select:  # type: ignore[type-arg]
    """`page_of` built once: the key to continue after (when `after`) and the row limit are
    the bound parameters AFTER_TIME, AFTER_ID and PAGE_LIMIT, whose values `keyset_values`
    gives for a page. Order by (create_time, id)."""
    create_time, row_id = table.c.create_time, table.c.id
    if after:
        beyond = operator.lt if descending else operator.gt
        after_time: sa.BindParameter[Any] = sa.bindparam(AFTER_TIME)
        after_id: sa.BindParameter[Any] = sa.bindparam(AFTER_ID)
        query = query.where(
            sa.or_(
                beyond(create_time, after_time),
                sa.and_(create_time == after_time, beyond(row_id, after_id)),
            )
        )
    order = (create_time.desc(), row_id.desc()) if descending else (create_time, row_id)
    return query.order_by(*order).limit(sa.bindparam(PAGE_LIMIT, type_=sa.Integer))


def keyset_values(page: PageRequest) -> dict[str, Any]:
    """The bound values of a `keyset_statement` for `page` (one row past the page)."""
    values: dict[str, Any] = {PAGE_LIMIT: page.size + 1}
    if page.after is not None:
        values[AFTER_TIME], values[AFTER_ID] = page.after
    return values
