"""A page of a read model's rows and how many rows there are: the shape of every list query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, FromClause, Row, Select, func, select


def counted_page(
    conn: Connection,
    table: FromClause,
    rows: Select[Any],
    condition: Any,
    order_by: tuple[Any, ...],
    offset: int,
    limit: int,
) -> tuple[int, list[Row[Any]]]:
    """How many of ``table``'s rows meet ``condition``, and ``rows`` (a SELECT over that table,
    with whatever it joins) meeting it, in ``order_by``, from ``offset``: two queries, the second
    skipped past the end."""
    total = int(conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one())
    if offset >= total:
        return total, []
    page = rows.where(condition).order_by(*order_by).offset(offset).limit(limit)
    return total, list(conn.execute(page))
