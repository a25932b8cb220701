"""The users read model: the private User, the public profile and the token gate.

Other aggregates feed a user's numbers: purchases and sales (Escrow), the plan (Membership),
and the seller's rating and review count (Review: the average of the reviews they have,
``domain.review.seller_rating``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    Row,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from domain.escrow import Escrow
from domain.review import NEW_SELLER_RATING, Review, seller_rating
from domain.subscription import Membership
from domain.user import User
from projections.held import HeldRows
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.wallets import wallets

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False, index=True),
    Column("username", String(50)),
    Column("full_name", String(150), nullable=False, default=""),
    Column("phone_number", String(20)),
    Column("telegram_id", BigInteger),
    Column("telegram_username", String(64)),
    Column("avatar", String(500)),
    Column("bio", String(500), nullable=False, default=""),
    Column("language", String(2), nullable=False, default="ru"),
    Column("timezone", String(64), nullable=False, default="Asia/Tashkent"),
    Column("is_verified", Boolean, nullable=False, default=False),
    Column("is_staff", Boolean, nullable=False, default=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("deleted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login", DateTime(timezone=True)),
    Column("plan", String(16), nullable=False, default="free"),
    Column("rating_cents", Integer, nullable=False, default=NEW_SELLER_RATING),
    Column("reviews_count", Integer, nullable=False, default=0),
    Column("rating_total", Integer, nullable=False, default=0),  # the stars of those reviews
    Column("total_sales", Integer, nullable=False, default=0),
    Column("total_purchases", Integer, nullable=False, default=0),
    Column("tokens_valid_after", Float),
)

# Who sells what: a release names only its escrow, and this read model counts the seller's sales.
escrow_sellers = Table(
    "user_escrow_sellers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seller_id", Uuid, nullable=False),
)

# Whom a review rates and with how many stars: an edit or a deletion names only the review.
review_ratings = Table(
    "user_review_ratings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seller_id", Uuid, nullable=False),
    Column("rating", Integer, nullable=False),
)


SELLER_OF = select(escrow_sellers.c.seller_id).where(escrow_sellers.c.id == bindparam("escrow"))
RATING_OF = select(review_ratings.c.seller_id, review_ratings.c.rating).where(
    review_ratings.c.id == bindparam("review")
)


class UsersProjector(Projector):
    """Users, escrow sellers and review ratings are held back per batch (projections/held.py);
    the ratings of the sellers a batch's reviews touched are recomputed once, at its end."""

    name = "users"
    version = 3
    first = True  # the chats projector reads users while applying
    tables = (users, escrow_sellers, review_ratings)

    def __init__(self) -> None:
        self.users = HeldRows(users)
        self.sellers = HeldRows(escrow_sellers)
        self.ratings = HeldRows(review_ratings)
        self.rated: set[UUID] = set()  # sellers whose reviews changed in this batch

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.users.clear()
        self.sellers.clear()
        self.ratings.clear()
        self.rated.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        self.users.write(conn)
        self.sellers.write(conn)
        self.ratings.write(conn)
        if self.rated:
            self._rerate(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave users untouched."""

    @apply.register
    def _(self, e: User.Registered, conn: Connection) -> None:
        self.users.insert(
            {
                "id": e.originator_id,
                "email": e.email.strip().lower(),
                "username": e.username,
                "full_name": e.full_name,
                "phone_number": e.phone_number,
                "language": e.language,
                "is_verified": e.is_verified,
                "created_at": e.at,
                "bio": "",
                "timezone": "Asia/Tashkent",
                "is_staff": False,
                "is_active": True,
                "plan": "free",
                "rating_cents": NEW_SELLER_RATING,
                "reviews_count": 0,
                "rating_total": 0,
                "total_sales": 0,
                "total_purchases": 0,
            }
        )

    @apply.register
    def _(self, e: User.LoggedIn, conn: Connection) -> None:
        self._set(conn, e.originator_id, last_login=e.at)

    @apply.register
    def _(self, e: User.ProfileUpdated, conn: Connection) -> None:
        self._set(conn, e.originator_id, **e.changes)

    @apply.register
    def _(self, e: User.Verified, conn: Connection) -> None:
        self._set(conn, e.originator_id, is_verified=True)

    @apply.register
    def _(self, e: User.TelegramLinked, conn: Connection) -> None:
        self._set(conn, e.originator_id, telegram_id=e.telegram_id)

    @apply.register
    def _(self, e: User.StaffGranted, conn: Connection) -> None:
        self._set(conn, e.originator_id, is_staff=True)

    @apply.register
    def _(self, e: User.StaffRevoked, conn: Connection) -> None:
        self._set(conn, e.originator_id, is_staff=False)

    @apply.register
    def _(self, e: User.Banned, conn: Connection) -> None:
        self._set(conn, e.originator_id, is_active=False, tokens_valid_after=e.at.timestamp())

    @apply.register
    def _(self, e: User.Unbanned, conn: Connection) -> None:
        self._set(conn, e.originator_id, is_active=True)

    @apply.register
    def _(self, e: User.Deleted, conn: Connection) -> None:
        self._set(
            conn,
            e.originator_id,
            is_active=False,
            deleted_at=e.at,
            tokens_valid_after=e.at.timestamp(),
        )

    @apply.register
    def _(self, e: User.PasswordReset, conn: Connection) -> None:
        self._set(conn, e.originator_id, tokens_valid_after=e.at.timestamp())

    @apply.register
    def _(self, e: Membership.Subscribed, conn: Connection) -> None:
        self._set(conn, e.user_id, plan=e.plan)

    @apply.register
    def _(self, e: Membership.Expired, conn: Connection) -> None:
        self._set(conn, e.user_id, plan="free")

    @apply.register
    def _(self, e: Escrow.Opened, conn: Connection) -> None:
        self.users.add(e.buyer_id, "total_purchases", 1)
        self.sellers.insert({"id": e.originator_id, "seller_id": e.seller_id})

    @apply.register
    def _(self, e: Escrow.Released, conn: Connection) -> None:
        row = self.sellers.row(e.originator_id)
        if row is not None:
            seller = row["seller_id"]
        else:
            seller = conn.execute(SELLER_OF, {"escrow": e.originator_id}).scalar_one()
        self.users.add(seller, "total_sales", 1)

    @apply.register
    def _(self, e: Review.Written, conn: Connection) -> None:
        self.ratings.insert({"id": e.originator_id, "seller_id": e.reviewee_id, "rating": e.rating})
        self._rated(e.reviewee_id, e.rating, 1)

    @apply.register
    def _(self, e: Review.Edited, conn: Connection) -> None:
        seller, was = self._rating_of(conn, e.originator_id)
        self.ratings.change(e.originator_id, {"rating": e.rating})
        self._rated(seller, e.rating - was, 0)

    @apply.register
    def _(self, e: Review.Deleted, conn: Connection) -> None:
        seller, was = self._rating_of(conn, e.originator_id)
        self.ratings.change(e.originator_id, {"rating": 0})  # counts for nothing any more
        self._rated(seller, -was, -1)

    def _rating_of(self, conn: Connection, review: UUID) -> tuple[UUID, int]:
        """The seller a review rates and its stars as this batch has left them."""
        row = self.ratings.row(review)
        if row is None:
            self.ratings.write(conn)  # an earlier edit of this batch must be read back
            found = conn.execute(RATING_OF, {"review": review}).one()
            return found.seller_id, found.rating
        return row["seller_id"], row["rating"]

    def _rated(self, seller: UUID, stars: int, reviews: int) -> None:
        self.users.add(seller, "rating_total", stars)
        if reviews:
            self.users.add(seller, "reviews_count", reviews)
        self.rated.add(seller)

    def _rerate(self, conn: Connection) -> None:
        """Each touched seller's rating from their reviews' stars and count, in one UPDATE."""
        rows = conn.execute(
            select(
                users.c.id, users.c.rating_total, users.c.reviews_count, users.c.rating_cents
            ).where(users.c.id.in_(self.rated))
        )
        changed = [
            {"seller": r.id, "cents": cents}
            for r in rows
            if (cents := seller_rating(r.rating_total, r.reviews_count, r.rating_cents))
            != r.rating_cents
        ]
        if changed:
            conn.execute(RERATE, changed)
        self.rated.clear()

    def _set(self, conn: Connection, user_id: UUID, **values: Any) -> None:
        self.users.change(user_id, values)


RERATE = (
    update(users).where(users.c.id == bindparam("seller")).values(rating_cents=bindparam("cents"))
)


# --- queries ------------------------------------------------------------------------------


# Built once: every authenticated request runs it, and building it cost as much as running it.
USER_ROW = (
    select(users, func.coalesce(wallets.c.available, 0).label("balance_minor"))
    .outerjoin(wallets, wallets.c.owner_id == users.c.id)
    .where(users.c.id == bindparam("user_id"))
)


def user_row(conn: Connection, user_id: UUID) -> Row[Any] | None:
    """The user with ``balance_minor``, their wallet's available balance."""
    return conn.execute(USER_ROW, {"user_id": user_id}).first()


def active_user_row(conn: Connection, user_id: UUID) -> Row[Any] | None:
    row = user_row(conn, user_id)
    return row if row is not None and row.is_active and row.deleted_at is None else None


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class UserFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Staff's list of users (AD10): a substring of the e-mail, name or username, and flags."""

    search: str | None = None
    is_staff: bool | None = None
    is_active: bool | None = None  # False: banned or deleted
    is_verified: bool | None = None


def users_page(
    conn: Connection, f: UserFilter, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """Users newest first, each with their balance, in one query per page (and one count)."""
    where: list[Any] = []
    if f.search:
        term = (
            "%"
            + f.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        where.append(
            or_(
                *(
                    func.lower(func.coalesce(column, "")).like(term, escape="\\")
                    for column in (users.c.email, users.c.full_name, users.c.username)
                )
            )
        )
    for column, wanted in (
        (users.c.is_staff, f.is_staff),
        (users.c.is_active, f.is_active),
        (users.c.is_verified, f.is_verified),
    ):
        if wanted is not None:
            where.append(column.is_(wanted))
    rows = select(users, func.coalesce(wallets.c.available, 0).label("balance_minor")).outerjoin(
        wallets, wallets.c.owner_id == users.c.id
    )
    order = (users.c.created_at.desc(), users.c.id.desc())
    return counted_page(conn, users, rows, and_(*where), order, offset, limit)


def user_counts(conn: Connection, now: datetime) -> dict[str, int]:
    """The dashboard's users (AD1): active users, the new ones of 30 and 7 days, the verified."""
    active = users.c.is_active.is_(True)
    total, month, week, verified = conn.execute(
        select(
            func.count().filter(active),
            func.count().filter(active, users.c.created_at >= now - timedelta(days=30)),
            func.count().filter(active, users.c.created_at >= now - timedelta(days=7)),
            func.count().filter(active, users.c.is_verified.is_(True)),
        ).select_from(users)
    ).one()
    return {
        "total": total,
        "new_this_month": month,
        "new_this_week": week,
        "verified": verified,
    }
