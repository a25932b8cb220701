"""Queries on the money read models (the API's and the timers' side of CQRS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, and_, bindparam, case, func, or_, select, true

from projections.listings import listings
from projections.money import escrows, subscriptions, transactions, wallets
from projections.users import users

buyers = users.alias("buyers")
sellers = users.alias("sellers")
OPEN = ("paid", "delivered", "disputed")


def balance(conn: Connection, owner: UUID) -> tuple[int, int, int]:
    row = conn.execute(
        select(wallets.c.available, wallets.c.held, wallets.c.pending_withdrawal).where(
            wallets.c.owner_id == owner
        )
    ).first()
    return (row.available, row.held, row.pending_withdrawal) if row else (0, 0, 0)


# --- transactions -------------------------------------------------------------------------
def transactions_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    where = transactions.c.user_id == user_id
    total = conn.execute(select(func.count()).select_from(transactions).where(where)).scalar_one()
    rows = conn.execute(
        select(transactions)
        .where(where)
        .order_by(transactions.c.created_at.desc(), transactions.c.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


def transaction(conn: Connection, row_id: UUID) -> Row[Any] | None:
    return conn.execute(select(transactions).where(transactions.c.id == row_id)).first()


def admin_transactions(
    conn: Connection,
    offset: int,
    limit: int,
    kind: str | None = None,
    status: str | None = None,
    row_id: UUID | None = None,
) -> tuple[int, list[Row[Any]]]:
    where = []
    if row_id is not None:
        where.append(transactions.c.id == row_id)
    if kind:
        where.append(transactions.c.type == kind)
    if status:
        where.append(transactions.c.status == status)
    condition = and_(true(), *where)
    total = conn.execute(
        select(func.count()).select_from(transactions).where(condition)
    ).scalar_one()
    rows = conn.execute(
        select(
            transactions,
            users.c.email.label("user_email"),
            users.c.full_name.label("user_full_name"),
        )
        .join(users, users.c.id == transactions.c.user_id, isouter=True)
        .where(condition)
        .order_by(transactions.c.created_at.desc(), transactions.c.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


# --- escrows ------------------------------------------------------------------------------
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
    total = conn.execute(select(func.count()).select_from(escrows).where(condition)).scalar_one()
    order = escrows.c.created_at.asc() if oldest_first else escrows.c.created_at.desc()
    rows = conn.execute(
        _escrow_query().where(condition).order_by(order, escrows.c.id).offset(offset).limit(limit)
    )
    return int(total), list(rows)


def purchases_of(conn: Connection, user_id: UUID, offset: int, limit: int) -> Any:
    return escrows_where(conn, escrows.c.buyer_id == user_id, offset, limit)


def sales_of(conn: Connection, user_id: UUID, offset: int, limit: int) -> Any:
    return escrows_where(conn, escrows.c.seller_id == user_id, offset, limit)


def disputes(conn: Connection, offset: int, limit: int) -> Any:
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


def dashboard(conn: Connection, seller_id: UUID) -> dict[str, Any]:
    """CONTRACT §2.2 dashboard numbers for a seller."""
    counts = conn.execute(
        select(
            func.count().filter(listings.c.status == "active"),
            func.count().filter(listings.c.status == "sold"),
            func.coalesce(
                func.sum(case((listings.c.status == "active", listings.c.views_count), else_=0)),
                0,
            ),
        ).where(listings.c.seller_id == seller_id)
    ).one()
    sales = conn.execute(
        select(
            func.count(), func.coalesce(func.sum(escrows.c.amount - escrows.c.commission), 0)
        ).where(escrows.c.seller_id == seller_id, escrows.c.status == "confirmed")
    ).one()
    views = int(counts[2])
    sales_count = int(sales[0])
    return {
        "active_listings": int(counts[0]),
        "sold_listings": int(counts[1]),
        "total_views": views,
        "total_sales_count": sales_count,
        "total_sales_amount": int(sales[1]),
        "conversion": round(sales_count / views * 100, 2) if views else 0,
    }


# --- subscriptions ------------------------------------------------------------------------
def current_subscription(conn: Connection, user_id: UUID, now: datetime) -> Row[Any] | None:
    """The subscription that counts now: active, or cancelled but not yet at its end date."""
    return conn.execute(
        select(subscriptions)
        .where(
            subscriptions.c.user_id == user_id,
            or_(
                subscriptions.c.status == "active",
                and_(subscriptions.c.status == "cancelled", subscriptions.c.end_date > now),
            ),
        )
        .order_by(subscriptions.c.created_at.desc())
        .limit(1)
    ).first()


def subscription(conn: Connection, subscription_id: UUID) -> Row[Any] | None:
    return conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()


def due_members(conn: Connection, now: datetime, limit: int = 500) -> list[UUID]:
    return list(
        conn.execute(
            select(subscriptions.c.user_id)
            .where(
                subscriptions.c.status.in_(("active", "cancelled")),
                subscriptions.c.end_date <= now,
            )
            .distinct()
            .limit(limit)
        ).scalars()
    )
