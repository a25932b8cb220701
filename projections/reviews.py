"""The reviews read model: one row per review (CONTRACT §2.0 Review), newest first by seller
and by listing, with its helpful votes counted.

Rows come from Review events only. A deleted review keeps its row, marked ``deleted_at``, and
no query shows it. Reviews are published as written (``is_moderated``, CONTRACT §3.7): there
is no moderation step yet. The seller's rating and review count are the users read model's
(projections/users.py); queries join both parties' public profiles.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    Row,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    exists,
    select,
)

from domain.review import Review
from projections.held import HeldRows
from projections.listings import listings
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import users

reviews = Table(
    "reviews",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("escrow_id", Uuid, nullable=False),
    Column("listing_id", Uuid, nullable=False),
    Column("reviewer_id", Uuid, nullable=False),
    Column("reviewee_id", Uuid, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("is_moderated", Boolean, nullable=False),
    Column("reply", Text, nullable=False),
    Column("reply_at", DateTime(timezone=True)),
    Column("helpful_count", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Index("reviews_reviewee_newest", "reviewee_id", "created_at"),
    Index("reviews_listing_newest", "listing_id", "created_at"),
)


class ReviewsProjector(Projector):
    """Reviews are held back per batch (projections/held.py)."""

    name = "reviews"
    version = 1
    tables = (reviews,)

    def __init__(self) -> None:
        self.reviews = HeldRows(reviews)

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.reviews.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        self.reviews.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave reviews untouched."""

    @apply.register
    def _(self, e: Review.Written, conn: Connection) -> None:
        self.reviews.insert(
            {
                "id": e.originator_id,
                "escrow_id": e.escrow_id,
                "listing_id": e.listing_id,
                "reviewer_id": e.reviewer_id,
                "reviewee_id": e.reviewee_id,
                "rating": e.rating,
                "comment": e.comment,
                "is_moderated": True,  # published as written (CONTRACT §3.7)
                "reply": "",
                "reply_at": None,
                "helpful_count": 0,
                "created_at": e.at,
                "updated_at": e.at,
                "deleted_at": None,
            }
        )

    @apply.register
    def _(self, e: Review.Edited, conn: Connection) -> None:
        self.reviews.change(
            e.originator_id, {"rating": e.rating, "comment": e.comment, "updated_at": e.at}
        )

    @apply.register
    def _(self, e: Review.Deleted, conn: Connection) -> None:
        self.reviews.change(e.originator_id, {"deleted_at": e.at, "updated_at": e.at})

    @apply.register
    def _(self, e: Review.Replied, conn: Connection) -> None:
        self.reviews.change(e.originator_id, {"reply": e.reply, "reply_at": e.at})

    @apply.register
    def _(self, e: Review.MarkedHelpful, conn: Connection) -> None:
        self.reviews.add(e.originator_id, "helpful_count", 1)


# --- queries ------------------------------------------------------------------------------
reviewers = users.alias("reviewers")
reviewees = users.alias("reviewees")
PUBLIC = (  # the users columns a UserPublic is drawn from
    *("username", "full_name", "email", "avatar", "rating_cents", "reviews_count"),
    *("total_sales", "created_at", "plan"),
)


def _review_query() -> Any:
    """Reviews with both parties' public profiles, their columns labelled ``reviewer_*`` and
    ``reviewee_*``."""
    return (
        select(
            reviews,
            *(reviewers.c[name].label(f"reviewer_{name}") for name in PUBLIC),
            *(reviewees.c[name].label(f"reviewee_{name}") for name in PUBLIC),
        )
        .join(reviewers, reviewers.c.id == reviews.c.reviewer_id)
        .join(reviewees, reviewees.c.id == reviews.c.reviewee_id)
    )


SHOWN = and_(reviews.c.deleted_at.is_(None), reviews.c.is_moderated.is_(True))
REVIEW = _review_query().where(reviews.c.id == bindparam("review_id"), SHOWN)  # built once


def review(conn: Connection, review_id: UUID) -> Row[Any] | None:
    """A review that is shown (written, not deleted), with both parties."""
    return conn.execute(REVIEW, {"review_id": review_id}).first()


def reviews_where(
    conn: Connection, condition: Any, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """The shown reviews meeting ``condition``, newest first, and how many there are."""
    order = (reviews.c.created_at.desc(), reviews.c.id)
    return counted_page(
        conn, reviews, _review_query(), and_(SHOWN, condition), order, offset, limit
    )


def reviews_of_seller(
    conn: Connection, seller_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    return reviews_where(conn, reviews.c.reviewee_id == seller_id, offset, limit)


def reviews_of_listing(
    conn: Connection, listing_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    return reviews_where(conn, reviews.c.listing_id == listing_id, offset, limit)


def listing_exists(conn: Connection, listing_id: UUID) -> bool:
    """Whether the listing is one anyone may open (any status but deleted, CONTRACT L3)."""
    return bool(
        conn.execute(
            select(exists().where(listings.c.id == listing_id, listings.c.status != "deleted"))
        ).scalar()
    )
