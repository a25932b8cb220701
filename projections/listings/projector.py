"""The listings projector: listings from Listing events, favourites and views, the seller and
game names of the search text from User and Game events, and whether enough pending reports
keep a listing out of search from Report events."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Connection, delete, distinct, func, select, update
from sqlalchemy.exc import DBAPIError

from domain.game import Game
from domain.listing import Listing, without_image
from domain.listing_activity import Favorite, ListingView
from domain.report import Report, hides_listing
from domain.user import User, display_name
from projections.held import HeldRows
from projections.listings.tables import (
    favorites,
    listing_games,
    listing_reports,
    listing_sellers,
    listings,
    search_text,
)
from projections.runtime import Projector, ReadStore

log = structlog.get_logger(__name__)


def primary_image(images: list[dict[str, Any]]) -> str | None:
    primary = next((i for i in images if i.get("is_primary")), images[0] if images else None)
    return primary["url"] if primary else None


# An active listing of a banned seller: in no catalogue, not for sale. The contract's "blocked"
# (CONTRACT §3.2), a status the frontend already knows and the previous backend never set.
HIDDEN = "blocked"
MAX_NAMES = 200_000  # sellers' names kept between batches (a few MB at most)


class ListingsProjector(Projector):
    name = "listings"
    # 2: sellers' names are their display names, kept with the parts they come from
    # 3: a banned seller's active listings are "blocked" until the ban is lifted
    # 4: listings under review (enough users' pending reports) are marked
    version = 4
    tables = (listings, listing_sellers, listing_games, favorites, listing_reports)

    def __init__(self) -> None:
        self.held = HeldRows(listings)
        # Names the search text needs, as of ``names_at``: kept from batch to batch while each
        # batch starts where the last one ended (nothing rolled back, rebuilt or moved by
        # another process in between); forgotten otherwise.
        self.games: dict[UUID, str] = {}
        self.sellers: dict[UUID, str] = {}
        self.banned: dict[UUID, bool] = {}
        self.names_at: int | None = None

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.held.clear()
        if position != self.names_at or len(self.sellers) > MAX_NAMES:
            self.games, self.sellers, self.banned = {}, {}, {}
        self.names_at = None

    def end_batch(self, conn: Connection, position: int) -> None:
        self.held.write(conn)
        self.names_at = position

    def after_create(self, conn: Connection, store: ReadStore) -> None:
        """On PostgreSQL a trigram index keeps ``search`` (substrings, every term) fast."""
        if not store.is_postgres:
            return
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError:
            log.warning("listings.search_index_unavailable", reason="cannot create pg_trgm")
            return
        conn.exec_driver_sql(
            f'CREATE INDEX IF NOT EXISTS ix_listings_search_trgm ON "{store.schema}".listings '
            "USING gin (search_text gin_trgm_ops)"
        )

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave listings untouched."""

    # --- names used by search -----------------------------------------------------------
    @apply.register
    def _(self, e: User.Registered, conn: Connection) -> None:
        name = display_name(e.full_name, e.username, e.email)
        conn.execute(
            listing_sellers.insert().values(
                user_id=e.originator_id,
                name=name,
                full_name=e.full_name,
                username=e.username,
                email=e.email,
            )
        )
        self.sellers[e.originator_id] = name

    @apply.register
    def _(self, e: User.ProfileUpdated, conn: Connection) -> None:
        named = {k: e.changes[k] for k in ("full_name", "username") if k in e.changes}
        if not named:
            return
        seller = conn.execute(
            select(listing_sellers).where(listing_sellers.c.user_id == e.originator_id)
        ).first()
        if seller is None:
            return
        parts = {"full_name": seller.full_name, "username": seller.username, **named}
        name = display_name(email=seller.email, **parts)
        conn.execute(
            update(listing_sellers)
            .where(listing_sellers.c.user_id == e.originator_id)
            .values(name=name, **parts)
        )
        self.sellers[e.originator_id] = name
        if name != seller.name:
            self._refresh_search(conn, listings.c.seller_id == e.originator_id)

    @apply.register
    def _(self, e: Game.Added, conn: Connection) -> None:
        conn.execute(listing_games.insert().values(game_id=e.originator_id, name=e.name))
        self.games[e.originator_id] = e.name

    @apply.register
    def _(self, e: Game.Edited, conn: Connection) -> None:
        if "name" in e.changes:
            conn.execute(
                update(listing_games)
                .where(listing_games.c.game_id == e.originator_id)
                .values(name=e.changes["name"])
            )
            self.games[e.originator_id] = e.changes["name"]
            self._refresh_search(conn, listings.c.game_id == e.originator_id)

    # --- the listing's life -------------------------------------------------------------
    @apply.register
    def _(self, e: Listing.Created, conn: Connection) -> None:
        self.held.insert(
            {
                "id": e.originator_id,
                "seller_id": e.seller_id,
                "game_id": e.game_id,
                "title": e.title,
                "description": e.description,
                "price": e.price,
                "original_price": e.original_price,
                "status": "pending",
                "is_premium": False,
                "views_count": 0,
                "favorites_count": 0,
                "warranty_days": e.warranty_days,
                "sale_percent": e.sale_percent,
                "sale_ends_at": e.sale_ends_at,
                "login_method": e.login_method,
                "level": e.level,
                "rank": e.rank,
                "skins_count": e.skins_count,
                "features": e.features,
                "images": [],
                "primary_image": None,
                "reject_reason": None,
                "under_review": False,
                "created_at": e.at,
                "updated_at": e.at,
                "search_text": search_text(
                    e.title,
                    e.description,
                    self._game_name(conn, e.game_id),
                    self._seller_name(conn, e.seller_id),
                ),
            }
        )

    @apply.register
    def _(self, e: Listing.Edited, conn: Connection) -> None:
        shown = {
            k: v for k, v in e.changes.items() if k not in ("sealed_credentials", "additional_info")
        }
        if e.resubmitted:
            shown.update(status="pending", reject_reason=None)
        self._set(conn, e, **shown)
        if {"title", "description", "game_id"} & set(shown):
            self._refresh_search(conn, listings.c.id == e.originator_id)

    @apply.register
    def _(self, e: Listing.Approved, conn: Connection) -> None:
        self._set(conn, e, status=self._active(conn, e.originator_id))

    @apply.register
    def _(self, e: Listing.Rejected, conn: Connection) -> None:
        self._set(conn, e, status="rejected", reject_reason=e.reason)

    @apply.register
    def _(self, e: Listing.Deleted, conn: Connection) -> None:
        self._set(conn, e, status="deleted")

    @apply.register
    def _(self, e: Listing.Archived, conn: Connection) -> None:
        self._set(conn, e, status="archived")

    @apply.register
    def _(self, e: Listing.Reserved, conn: Connection) -> None:
        self._set(conn, e, status="reserved")

    @apply.register
    def _(self, e: Listing.Released, conn: Connection) -> None:
        self._set(conn, e, status=self._active(conn, e.originator_id))

    # --- a banned seller's listings leave the catalogue until the ban is lifted ----------
    @apply.register
    def _(self, e: User.Banned, conn: Connection) -> None:
        self._seller_banned(conn, e.originator_id, banned=True)

    @apply.register
    def _(self, e: User.Unbanned, conn: Connection) -> None:
        self._seller_banned(conn, e.originator_id, banned=False)

    def _seller_banned(self, conn: Connection, seller_id: UUID, *, banned: bool) -> None:
        self.held.write(conn)
        conn.execute(
            update(listing_sellers)
            .where(listing_sellers.c.user_id == seller_id)
            .values(is_banned=banned)
        )
        self.banned[seller_id] = banned
        before, after = ("active", HIDDEN) if banned else (HIDDEN, "active")
        conn.execute(
            update(listings)
            .where(listings.c.seller_id == seller_id, listings.c.status == before)
            .values(status=after)
        )

    def _active(self, conn: Connection, listing_id: UUID) -> str:
        """The status an active listing shows: "active", or "blocked" while its seller is
        banned."""
        new = self.held.row(listing_id)
        seller_id = (
            new["seller_id"]
            if new is not None
            else conn.execute(
                select(listings.c.seller_id).where(listings.c.id == listing_id)
            ).scalar_one()
        )
        if seller_id not in self.banned:
            self.banned[seller_id] = bool(
                conn.execute(
                    select(listing_sellers.c.is_banned).where(
                        listing_sellers.c.user_id == seller_id
                    )
                ).scalar()
            )
        return HIDDEN if self.banned[seller_id] else "active"

    @apply.register
    def _(self, e: Listing.Sold, conn: Connection) -> None:
        self._set(conn, e, status="sold")

    @apply.register
    def _(self, e: Listing.PremiumSet, conn: Connection) -> None:
        self._set(conn, e, is_premium=e.is_premium)

    @apply.register
    def _(self, e: Listing.ImagesAdded, conn: Connection) -> None:
        images = self._images(conn, e.originator_id) + list(e.images)
        self._set(conn, e, images=images, primary_image=primary_image(images))

    @apply.register
    def _(self, e: Listing.ImageRemoved, conn: Connection) -> None:
        images = without_image(self._images(conn, e.originator_id), e.image_id)
        self._set(conn, e, images=images, primary_image=primary_image(images))

    # --- favourites and views -----------------------------------------------------------
    @apply.register
    def _(self, e: Favorite.Added, conn: Connection) -> None:
        self._favorited(conn, e.user_id, e.listing_id, e.at)

    @apply.register
    def _(self, e: Favorite.Readded, conn: Connection) -> None:
        self._favorited(conn, e.user_id, e.listing_id, e.at)

    @apply.register
    def _(self, e: Favorite.Removed, conn: Connection) -> None:
        conn.execute(
            favorites.delete().where(
                favorites.c.user_id == e.user_id, favorites.c.listing_id == e.listing_id
            )
        )
        self.held.add(e.listing_id, "favorites_count", -1)

    @apply.register
    def _(self, e: ListingView.Counted, conn: Connection) -> None:
        self.held.add(e.listing_id, "views_count", 1)

    # --- reports ----------------------------------------------------------------------------
    @apply.register
    def _(self, e: Report.Filed, conn: Connection) -> None:
        if e.reported_listing_id is None:
            return
        conn.execute(
            listing_reports.insert().values(
                report_id=e.originator_id,
                listing_id=e.reported_listing_id,
                reporter_id=e.reporter_id,
            )
        )
        self._review(conn, e.reported_listing_id)

    @apply.register
    def _(self, e: Report.Resolved, conn: Connection) -> None:
        self._report_answered(conn, e.originator_id)

    @apply.register
    def _(self, e: Report.Dismissed, conn: Connection) -> None:
        self._report_answered(conn, e.originator_id)

    def _report_answered(self, conn: Connection, report_id: UUID) -> None:
        by_report = listing_reports.c.report_id == report_id
        listing_id = conn.execute(select(listing_reports.c.listing_id).where(by_report)).scalar()
        if listing_id is not None:
            conn.execute(delete(listing_reports).where(by_report))
            self._review(conn, listing_id)

    def _review(self, conn: Connection, listing_id: UUID) -> None:
        """Whether the listing stays in search, from its pending reports' distinct reporters
        (not a change of the listing itself: ``updated_at`` stays)."""
        reporters = conn.execute(
            select(func.count(distinct(listing_reports.c.reporter_id))).where(
                listing_reports.c.listing_id == listing_id
            )
        ).scalar_one()
        self.held.change(listing_id, {"under_review": hides_listing(reporters)})

    # --- helpers -----------------------------------------------------------------------
    def _favorited(self, conn: Connection, user_id: UUID, listing_id: UUID, at: Any) -> None:
        conn.execute(
            favorites.insert().values(user_id=user_id, listing_id=listing_id, created_at=at)
        )
        self.held.add(listing_id, "favorites_count", 1)

    def _set(self, conn: Connection, e: Any, **values: Any) -> None:
        self.held.change(e.originator_id, {"updated_at": e.timestamp, **values})

    def _images(self, conn: Connection, listing_id: UUID) -> list[dict[str, Any]]:
        self.held.write(conn)
        images = conn.execute(
            select(listings.c.images).where(listings.c.id == listing_id)
        ).scalar_one()
        return list(images or [])

    def _game_name(self, conn: Connection, game_id: UUID) -> str:
        if game_id not in self.games:
            name = conn.execute(
                select(listing_games.c.name).where(listing_games.c.game_id == game_id)
            ).scalar()
            self.games[game_id] = str(name or "")
        return self.games[game_id]

    def _seller_name(self, conn: Connection, user_id: UUID) -> str:
        if user_id not in self.sellers:
            name = conn.execute(
                select(listing_sellers.c.name).where(listing_sellers.c.user_id == user_id)
            ).scalar()
            self.sellers[user_id] = str(name or "")
        return self.sellers[user_id]

    def _refresh_search(self, conn: Connection, where: Any) -> None:
        self.held.write(conn)
        rows = conn.execute(
            select(
                listings.c.id,
                listings.c.title,
                listings.c.description,
                listings.c.game_id,
                listings.c.seller_id,
            ).where(where)
        )
        for row in list(rows):
            conn.execute(
                update(listings)
                .where(listings.c.id == row.id)
                .values(
                    search_text=search_text(
                        row.title,
                        row.description,
                        self._game_name(conn, row.game_id),
                        self._seller_name(conn, row.seller_id),
                    )
                )
            )
