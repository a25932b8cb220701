"""The subscriptions read model: each paid subscription with its payment history (CONTRACT
§2.0 UserSubscription), from Membership events only."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Index,
    Row,
    String,
    Table,
    Text,
    Uuid,
    and_,
    or_,
    select,
    update,
)

from domain.subscription import RENEWING, RUNNING, RUNNING_OUT, Membership
from projections.runtime import Projector, metadata

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("plan", String(16), nullable=False),
    Column("period", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_date", DateTime(timezone=True), nullable=False),
    Column("end_date", DateTime(timezone=True), nullable=False),
    Column("auto_renew", String(1), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", Text, nullable=False),
    Column("payment_history", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("subscriptions_due", "status", "end_date"),
)


class SubscriptionsProjector(Projector):
    """A few events a month per user: written as they come, not held back."""

    name = "subscriptions"
    version = 1
    tables = (subscriptions,)
    replaces = ("money",)  # the one money projector these four read models were split from

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave subscriptions untouched."""

    @apply.register
    def _(self, e: Membership.Subscribed, conn: Connection) -> None:
        if e.replaces is not None:
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == e.replaces, subscriptions.c.status == RENEWING)
                .values(status=RUNNING_OUT, cancelled_at=e.start, cancel_reason="Replaced.")
            )
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == e.replaces)
                .values(end_date=e.start, auto_renew="n")
            )
        conn.execute(
            subscriptions.insert().values(
                id=e.subscription_id,
                user_id=e.user_id,
                plan=e.plan,
                period=e.period,
                status=RENEWING,
                start_date=e.start,
                end_date=e.end,
                auto_renew="y",
                cancel_reason="",
                payment_history=[_payment(e.price, e.start, e.period)],
                created_at=e.start,
            )
        )

    @apply.register
    def _(self, e: Membership.Renewed, conn: Connection) -> None:
        history = conn.execute(
            select(subscriptions.c.payment_history).where(subscriptions.c.id == e.subscription_id)
        ).scalar_one()
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == e.subscription_id)
            .values(
                end_date=e.end, payment_history=[*history, _payment(e.price, e.start, "monthly")]
            )
        )

    @apply.register
    def _(self, e: Membership.Cancelled, conn: Connection) -> None:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == e.subscription_id)
            .values(status=RUNNING_OUT, auto_renew="n", cancelled_at=e.at, cancel_reason=e.reason)
        )

    @apply.register
    def _(self, e: Membership.Expired, conn: Connection) -> None:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == e.subscription_id)
            .values(status="expired", auto_renew="n")
        )


def _payment(price: int, start: datetime, period: str) -> dict[str, Any]:
    return {"amount": price, "date": start.isoformat(), "period": period}


# --- queries ------------------------------------------------------------------------------
def counts_at(now: datetime) -> ColumnElement[bool]:
    """domain.subscription.counts_at in SQL: renewing, or running out after ``now``."""
    c = subscriptions.c
    return or_(c.status == RENEWING, and_(c.status == RUNNING_OUT, c.end_date > now))


def is_due(now: datetime) -> ColumnElement[bool]:
    """domain.subscription.is_due in SQL: running, and at its end date by ``now``."""
    return and_(subscriptions.c.status.in_(RUNNING), subscriptions.c.end_date <= now)


def current_subscription(conn: Connection, user_id: UUID, now: datetime) -> Row[Any] | None:
    """The newest of ``user_id``'s subscriptions that counts ``now``."""
    return conn.execute(
        select(subscriptions)
        .where(subscriptions.c.user_id == user_id, counts_at(now))
        .order_by(subscriptions.c.created_at.desc())
        .limit(1)
    ).first()


def subscription(conn: Connection, subscription_id: UUID) -> Row[Any] | None:
    return conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()


def ending_members(
    conn: Connection, now: datetime, within: timedelta, limit: int = 500
) -> list[UUID]:
    """Members whose running subscription ends after ``now`` but within ``within`` (the
    timer tells them; domain.subscription.Membership.ends_soon decides)."""
    c = subscriptions.c
    ending = and_(c.status.in_(RUNNING), c.end_date > now, c.end_date <= now + within)
    return list(conn.execute(select(c.user_id).where(ending).distinct().limit(limit)).scalars())


def due_members(conn: Connection, now: datetime, limit: int = 500) -> list[UUID]:
    """Members whose subscription reached its end date: to renew or expire (a timer)."""
    return list(
        conn.execute(
            select(subscriptions.c.user_id).where(is_due(now)).distinct().limit(limit)
        ).scalars()
    )
