"""Keyset paging over (create_time, id), shared by every SQL store's list query."""

from __future__ import annotations

import sqlalchemy as sa

from engines.pagination import PageRequest

__all__ = ["page_of"]


def page_of(query: sa.Select, table: sa.Table, page: PageRequest) -> sa.Select:  # type: ignore[type-arg]
    """Restricts `query` to the rows after the page token's key, in order, one row past a page."""
    if page.after is not None:
        after_time, after_id = page.after
        query = query.where(
            sa.or_(
                table.c.create_time > after_time,
                sa.and_(table.c.create_time == after_time, table.c.id > after_id),
            )
        )
    return query.order_by(table.c.create_time, table.c.id).limit(page.size + 1)
