"""The saved searches read model: each user's saved searches, newest first."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    Row,
    String,
    Table,
    Uuid,
    delete,
    select,
    update,
)

from domain.saved_search import SavedSearches
from projections.paging import counted_page
from projections.runtime import Projector, metadata

# Keyed by the owner's SavedSearches aggregate (its id is derived from the owner's) and the
# search's number in it: the events name only the aggregate.
saved_searches = Table(
    "saved_searches",
    metadata,
    Column("list_id", Uuid, primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("query_params", JSON, nullable=False),
    Column("notify_email", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("last_notified_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class SavedSearchesProjector(Projector):
    name = "saved_searches"
    version = 1
    tables = (saved_searches,)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events save no search."""

    @apply.register
    def _(self, e: SavedSearches.Saved, conn: Connection) -> None:
        conn.execute(
            saved_searches.insert().values(
                list_id=e.originator_id,
                id=e.search_id,
                name=e.name,
                query_params=e.query_params,
                notify_email=e.notify_email,
                is_active=e.is_active,
                created_at=e.at,
            )
        )

    @apply.register
    def _(self, e: SavedSearches.Changed, conn: Connection) -> None:
        conn.execute(update(saved_searches).where(*_key(e)).values(**e.changes))

    @apply.register
    def _(self, e: SavedSearches.Removed, conn: Connection) -> None:
        conn.execute(delete(saved_searches).where(*_key(e)))


def _key(e: Any) -> tuple[Any, Any]:
    return saved_searches.c.list_id == e.originator_id, saved_searches.c.id == e.search_id


def searches_of(
    conn: Connection, owner_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """The owner's saved searches, newest first."""
    where = saved_searches.c.list_id == SavedSearches.create_id(owner_id)
    order = (saved_searches.c.id.desc(),)
    return counted_page(conn, saved_searches, select(saved_searches), where, order, offset, limit)


def search_of(conn: Connection, owner_id: UUID, search_id: int) -> Row[Any] | None:
    return conn.execute(
        select(saved_searches).where(
            saved_searches.c.list_id == SavedSearches.create_id(owner_id),
            saved_searches.c.id == search_id,
        )
    ).first()
