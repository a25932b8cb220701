"""The games read model: the catalogue as the frontend lists it."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    Row,
    String,
    Table,
    Text,
    Uuid,
    select,
    update,
)

from domain.game import Category, Game, category_id
from projections.runtime import Projector, metadata

games = Table(
    "games",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(120), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("icon", String(500), nullable=False),
    Column("image", String(500)),
    Column("color", String(7), nullable=False),
    Column("description", Text, nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


categories = Table(
    "categories",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(120), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("parent_id", Uuid),
)


class GamesProjector(Projector):
    name = "games"
    version = 3
    tables = (games, categories)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave the catalogue untouched."""

    @apply.register
    def _(self, e: Game.Added, conn: Connection) -> None:
        conn.execute(
            games.insert().values(
                id=e.originator_id,
                slug=e.slug,
                name=e.name,
                icon=e.icon,
                image=e.image,
                color=e.color,
                description=e.description,
                sort_order=e.sort_order,
                is_active=True,
                created_at=e.timestamp,
                updated_at=e.timestamp,
            )
        )

    @apply.register
    def _(self, e: Category.Added, conn: Connection) -> None:
        parent = category_id(e.parent_slug) if e.parent_slug else None
        conn.execute(
            categories.insert().values(
                id=e.originator_id, slug=e.slug, name=e.name, parent_id=parent
            )
        )

    @apply.register
    def _(self, e: Game.Edited, conn: Connection) -> None:
        self._set(conn, e, **e.changes)

    @apply.register
    def _(self, e: Game.Deactivated, conn: Connection) -> None:
        self._set(conn, e, is_active=False)

    @apply.register
    def _(self, e: Game.Reactivated, conn: Connection) -> None:
        self._set(conn, e, is_active=True)

    @staticmethod
    def _set(conn: Connection, e: Any, **values: Any) -> None:
        conn.execute(
            update(games)
            .where(games.c.id == e.originator_id)
            .values(updated_at=e.timestamp, **values)
        )


def active_games(conn: Connection) -> list[Row[Any]]:
    query = select(games).where(games.c.is_active).order_by(games.c.sort_order, games.c.name)
    return list(conn.execute(query))


def game_by_slug(conn: Connection, slug: str, *, include_inactive: bool = False) -> Row[Any] | None:
    query = select(games).where(games.c.slug == slug)
    if not include_inactive:
        query = query.where(games.c.is_active)
    return conn.execute(query).first()


def category_rows(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(categories).order_by(categories.c.name)))
