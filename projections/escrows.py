"""The escrows read model: one row per purchase, from the paid hold to its settlement (CONTRACT
§2.0 Escrow), with its order chat room.

Rows come from Escrow events (and the ChatRoom opened for an escrow) only, so the auditor can
compare them with its own replay. Queries join in the listing's title and both parties' names.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Row,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    or_,
    select,
)

from domain.chat import ChatRoom
from domain.escrow import Escrow, seller_earnings
from projections.held import HeldRows
from projections.listings import listings
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import users

escrows = Table(
    "escrows",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("listing_id", Uuid, nullable=False),
    Column("buyer_id", Uuid, nullable=False),
    Column("seller_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("chat_room_id", Uuid),
    Column("deliver_by", DateTime(timezone=True), nullable=False),
    Column("release_after", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("buyer_confirmed_at", DateTime(timezone=True)),
    Column("seller_paid_at", DateTime(timezone=True)),
    Column("admin_released_at", DateTime(timezone=True)),
    Column("settled_by", String(16)),
    Column("dispute_reason", Text, nullable=False),
    Column("dispute_resolution", Text, nullable=False),
    Column("reveals", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("seller_earnings", BigInteger, nullable=False),
    Index("escrows_buyer_newest", "buyer_id", "created_at"),
    Index("escrows_seller_newest", "seller_id", "created_at"),
    Index("escrows_status", "status"),
)

DEFAULTS: dict[str, Any] = {
    "chat_room_id": None,
    "release_after": None,
    "delivered_at": None,
    "buyer_confirmed_at": None,
    "seller_paid_at": None,
    "admin_released_at": None,
    "settled_by": None,
}


class EscrowsProjector(Projector):
    """Escrows are held back per batch (projections/held.py)."""

    name = "escrows"
    version = 1
    tables = (escrows,)
    replaces = ("money",)  # the one money projector these four read models were split from

    def __init__(self) -> None:
        self.escrows = HeldRows(escrows)

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.escrows.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        self.escrows.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave escrows untouched."""

    @apply.register
    def _(self, e: Escrow.Opened, conn: Connection) -> None:
        self.escrows.insert(
            {
                **DEFAULTS,
                "id": e.originator_id,
                "listing_id": e.listing_id,
                "buyer_id": e.buyer_id,
                "seller_id": e.seller_id,
                "amount": e.price,
                "commission": e.commission,
                "seller_earnings": seller_earnings(e.price, e.commission),
                "status": "paid",
                "deliver_by": e.deliver_by,
                "dispute_reason": "",
                "dispute_resolution": "",
                "reveals": 0,
                "created_at": e.at,
                "updated_at": e.at,
            }
        )

    @apply.register
    def _(self, e: ChatRoom.Opened, conn: Connection) -> None:
        if e.escrow_id is not None:
            self._set(e.escrow_id, chat_room_id=e.originator_id)

    @apply.register
    def _(self, e: Escrow.Delivered, conn: Connection) -> None:
        self._set(
            e.originator_id,
            status="delivered",
            delivered_at=e.at,
            release_after=e.release_after,
            updated_at=e.at,
        )

    @apply.register
    def _(self, e: Escrow.CredentialsRevealed, conn: Connection) -> None:
        self.escrows.add(e.originator_id, "reveals", 1)

    @apply.register
    def _(self, e: Escrow.Disputed, conn: Connection) -> None:
        self._set(e.originator_id, status="disputed", dispute_reason=e.reason, updated_at=e.at)

    @apply.register
    def _(self, e: Escrow.Released, conn: Connection) -> None:
        values: dict[str, Any] = {"status": "confirmed", "seller_paid_at": e.at, "settled_by": e.by}
        if e.by == "buyer":
            values["buyer_confirmed_at"] = e.at
        if e.by == "staff":
            values.update(admin_released_at=e.at, dispute_resolution=e.resolution)
        self._set(e.originator_id, updated_at=e.at, **values)

    @apply.register
    def _(self, e: Escrow.Refunded, conn: Connection) -> None:
        values: dict[str, Any] = {"status": "refunded", "settled_by": e.by}
        if e.by == "staff":
            values.update(admin_released_at=e.at, dispute_resolution=e.reason)
        self._set(e.originator_id, updated_at=e.at, **values)

    def _set(self, escrow: UUID, **values: Any) -> None:
        self.escrows.change(escrow, values)


# --- queries ------------------------------------------------------------------------------
buyers = users.alias("buyers")
sellers = users.alias("sellers")


def _escrow_query() -> Any:
    return (
        select(
            escrows,
            listings.c.title.label("listing_title"),
            buyers.c.full_name.label("buyer_full_name"),
            buyers.c.username.label("buyer_username"),
            buyers.c.email.label("buyer_email"),
            sellers.c.full_name.label("seller_full_name"),
            sellers.c.username.label("seller_username"),
            sellers.c.email.label("seller_email"),
        )
        .join(listings, listings.c.id == escrows.c.listing_id, isouter=True)
        .join(buyers, buyers.c.id == escrows.c.buyer_id, isouter=True)
        .join(sellers, sellers.c.id == escrows.c.seller_id, isouter=True)
    )


ESCROW = _escrow_query().where(escrows.c.id == bindparam("escrow_id"))  # built once: hot


def escrow(conn: Connection, escrow_id: UUID) -> Row[Any] | None:
    return conn.execute(ESCROW, {"escrow_id": escrow_id}).first()


def escrows_where(
    conn: Connection, condition: Any, offset: int, limit: int, oldest_first: bool = False
) -> tuple[int, list[Row[Any]]]:
    order = escrows.c.created_at.asc() if oldest_first else escrows.c.created_at.desc()
    return counted_page(
        conn, escrows, _escrow_query(), condition, (order, escrows.c.id), offset, limit
    )


def purchases_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    return escrows_where(conn, escrows.c.buyer_id == user_id, offset, limit)


def sales_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    return escrows_where(conn, escrows.c.seller_id == user_id, offset, limit)


def disputes(conn: Connection, offset: int, limit: int) -> tuple[int, list[Row[Any]]]:
    return escrows_where(conn, escrows.c.status == "disputed", offset, limit, oldest_first=True)


def due_escrows(conn: Connection, now: datetime, limit: int = 500) -> list[UUID]:
    """Escrows a timer may settle: undelivered past the deadline, delivered past release."""
    return list(
        conn.execute(
            select(escrows.c.id)
            .where(
                or_(
                    and_(escrows.c.status == "paid", escrows.c.deliver_by <= now),
                    and_(escrows.c.status == "delivered", escrows.c.release_after <= now),
                )
            )
            .order_by(escrows.c.created_at)
            .limit(limit)
        ).scalars()
    )


def seller_sales(conn: Connection, seller_id: UUID) -> tuple[int, int]:
    """How many of ``seller_id``'s sales were released to them, and what they earned (tiyin)."""
    earned = func.coalesce(func.sum(escrows.c.seller_earnings), 0)
    count, total = conn.execute(
        select(func.count(), earned).where(
            escrows.c.seller_id == seller_id, escrows.c.status == "confirmed"
        )
    ).one()
    return int(count), int(total)


def escrow_counts(conn: Connection) -> dict[str, int]:
    """The dashboard's escrows (AD1): open (paid or delivered), disputed, completed
    (confirmed), and the commission the completed ones earned, in tiyin."""
    status = escrows.c.status
    active, disputed, completed, commission = conn.execute(
        select(
            func.count().filter(status.in_(("paid", "delivered"))),
            func.count().filter(status == "disputed"),
            func.count().filter(status == "confirmed"),
            func.coalesce(func.sum(escrows.c.commission).filter(status == "confirmed"), 0),
        ).select_from(escrows)
    ).one()
    return {
        "active": active,
        "disputed": disputed,
        "completed": completed,
        "total_commission": int(commission),
    }
