"""Queries over the listings read model (with its seller and game joined in)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import (
    Connection,
    Row,
    Uuid,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    or_,
    select,
)

from projections.games import games
from projections.listings.tables import favorites, listings
from projections.users import users

ORDERABLE = {
    "price": listings.c.price,
    "created_at": listings.c.created_at,
    "views_count": listings.c.views_count,
    "favorites_count": listings.c.favorites_count,
}
# Everything a card or detail shows; the search text stays in the database.
CARD_COLUMNS = tuple(c for c in listings.c if c.name != "search_text")
DEFAULT_ORDER: tuple[tuple[str, bool], ...] = (("is_premium", True), ("created_at", True))


class ListingFilter(msgspec.Struct, kw_only=True):
    statuses: tuple[str, ...] = ("active",)
    search: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    game_id: UUID | None = None
    seller_id: UUID | None = None
    is_premium: bool | None = None
    level: str | None = None
    rank: str | None = None
    has_warranty: bool | None = None
    ordering: tuple[tuple[str, bool], ...] = DEFAULT_ORDER  # (field, descending)
    # Search leaves out active listings under review (enough pending reports); a seller's own
    # list and staff's show them.
    hide_under_review: bool = True


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(f: ListingFilter) -> list[Any]:
    c = listings.c
    where: list[Any] = [c.status.in_(f.statuses)] if f.statuses else []
    if f.hide_under_review:
        where.append(or_(c.status != "active", c.under_review.is_(False)))
    if f.search:
        where += [c.search_text.like(_like(term), escape="\\") for term in f.search.split()]
    if f.min_price is not None:
        where.append(c.price >= f.min_price)
    if f.max_price is not None:
        where.append(c.price <= f.max_price)
    if f.game_id is not None:
        where.append(c.game_id == f.game_id)
    if f.seller_id is not None:
        where.append(c.seller_id == f.seller_id)
    if f.is_premium is not None:
        where.append(c.is_premium == f.is_premium)
    if f.level:
        where.append(func.lower(c.level).like(_like(f.level), escape="\\"))
    if f.rank:
        where.append(func.lower(c.rank).like(_like(f.rank), escape="\\"))
    if f.has_warranty is True:
        where.append(c.warranty_days > 0)
    elif f.has_warranty is False:
        where.append(c.warranty_days == 0)
    return where


def _cards(favorited: Any) -> Any:
    return (
        select(
            *CARD_COLUMNS,
            users.c.username.label("seller_username"),
            users.c.full_name.label("seller_full_name"),
            users.c.email.label("seller_email"),
            users.c.avatar.label("seller_avatar"),
            users.c.rating_cents.label("seller_rating_cents"),
            users.c.reviews_count.label("seller_reviews_count"),
            users.c.total_sales.label("seller_total_sales"),
            users.c.created_at.label("seller_created_at"),
            users.c.plan.label("seller_plan"),
            games.c.slug.label("game_slug"),
            games.c.name.label("game_name"),
            games.c.icon.label("game_icon"),
            games.c.image.label("game_image"),
            games.c.color.label("game_color"),
            favorited.label("is_favorited"),
        )
        .join(users, users.c.id == listings.c.seller_id)
        .join(games, games.c.id == listings.c.game_id)
    )


# Built once (building this 40-column SELECT was 12-14 % of a detail read); the viewer is a
# parameter of the execution.
_viewer_favorites = favorites.alias("viewer_favorites")
ANONYMOUS_CARDS = _cards(false())
VIEWER_CARDS = _cards(
    exists().where(
        _viewer_favorites.c.listing_id == listings.c.id,
        _viewer_favorites.c.user_id == bindparam("viewer_id", type_=Uuid),
    )
)


def _card_query(viewer_id: UUID | None) -> tuple[Any, dict[str, Any]]:
    """The cards' SELECT and the parameters to execute it with."""
    if viewer_id is None:
        return ANONYMOUS_CARDS, {}
    return VIEWER_CARDS, {"viewer_id": viewer_id}


def search(
    conn: Connection, f: ListingFilter, offset: int, limit: int, viewer_id: UUID | None = None
) -> tuple[int, list[Row[Any]]]:
    where = and_(*_conditions(f))
    total = conn.execute(select(func.count()).select_from(listings).where(where)).scalar_one()
    if offset >= total:
        return int(total), []
    order = []
    for field, descending in f.ordering:
        column = listings.c.is_premium if field == "is_premium" else ORDERABLE[field]
        order.append(column.desc() if descending else column.asc())
    order.append(listings.c.id.asc())
    cards, params = _card_query(viewer_id)
    rows = conn.execute(cards.where(where).order_by(*order).offset(offset).limit(limit), params)
    return int(total), list(rows)


def detail(
    conn: Connection,
    listing_id: UUID,
    viewer_id: UUID | None = None,
    statuses: tuple[str, ...] | None = None,
) -> Row[Any] | None:
    cards, params = _card_query(viewer_id)
    query = cards.where(listings.c.id == listing_id, listings.c.status != "deleted")
    if statuses is not None:
        query = query.where(listings.c.status.in_(statuses))
    return conn.execute(query, params).first()


def cards_of(
    conn: Connection, listing_ids: Collection[UUID], viewer_id: UUID | None = None
) -> dict[UUID, Row[Any]]:
    """The cards of ``listing_ids`` by id, in one query (a deleted listing has none)."""
    if not listing_ids:
        return {}
    cards, params = _card_query(viewer_id)
    query = cards.where(listings.c.id.in_(listing_ids), listings.c.status != "deleted")
    return {row.id: row for row in conn.execute(query, params)}


def favorites_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    where = and_(favorites.c.user_id == user_id, listings.c.status != "deleted")
    total = conn.execute(
        select(func.count())
        .select_from(favorites.join(listings, listings.c.id == favorites.c.listing_id))
        .where(where)
    ).scalar_one()
    cards, params = _card_query(user_id)
    query = (
        cards.add_columns(
            favorites.c.id.label("favorite_id"), favorites.c.created_at.label("favorited_at")
        )
        .join(favorites, favorites.c.listing_id == listings.c.id)
        .where(where)
        .order_by(favorites.c.created_at.desc(), favorites.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(conn.execute(query, params))


def active_counts_by_game(conn: Connection) -> dict[UUID, int]:
    query = (
        select(listings.c.game_id, func.count())
        .where(listings.c.status == "active")
        .group_by(listings.c.game_id)
    )
    return {game_id: int(n) for game_id, n in conn.execute(query)}


def stale_active_ids(conn: Connection, created_before: Any) -> list[UUID]:
    query = select(listings.c.id).where(
        listings.c.status == "active", listings.c.created_at < created_before
    )
    return list(conn.execute(query).scalars())


def seller_counts(conn: Connection, seller_id: UUID) -> tuple[int, int, int]:
    """``seller_id``'s active listings, sold listings, and the views of the active ones."""
    active, sold, views = conn.execute(
        select(
            func.count().filter(listings.c.status == "active"),
            func.count().filter(listings.c.status == "sold"),
            func.coalesce(
                func.sum(case((listings.c.status == "active", listings.c.views_count), else_=0)),
                0,
            ),
        ).where(listings.c.seller_id == seller_id)
    ).one()
    return int(active), int(sold), int(views)


def listing_counts(conn: Connection) -> dict[str, int]:
    """The dashboard's listings (AD1): every listing not deleted, and by status."""
    status = listings.c.status
    total, active, pending, sold = conn.execute(
        select(
            func.count().filter(status != "deleted"),
            func.count().filter(status == "active"),
            func.count().filter(status == "pending"),
            func.count().filter(status == "sold"),
        ).select_from(listings)
    ).one()
    return {"total": total, "active": active, "pending": pending, "sold": sold}
