"""Fraud signals for staff (CONTRACT §2.12 AD2), detected from the events:

- ``new_account_high_value``: a purchase of at least ``HIGH_VALUE`` by an account younger than
  ``NEW_ACCOUNT``;
- ``purchase_burst``: a buyer's ``BURST`` or more purchases within ``BURST_WINDOW`` (once per
  window);
- ``dispute_heavy``: a buyer's ``DISPUTES`` or more disputes within ``DISPUTE_WINDOW``.

Many accounts from one address is not among them: the event log keeps no client addresses
(whether it should is a privacy decision for the operations work). A signal's id is derived
from what it is about, so replaying the log finds the same signals; staff resolve one through a
``SignalReview`` (domain/fraud.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
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
    func,
    select,
    update,
)

from domain.escrow import Escrow
from domain.fraud import SignalReview
from domain.user import User
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import as_utc

NAMESPACE = uuid.UUID("c3e9a1f2-7b4d-4e8a-b5c6-1d2e3f4a5b6c")
UZS = 100
HIGH_VALUE = 1_000_000 * UZS
NEW_ACCOUNT = timedelta(hours=24)
BURST, BURST_WINDOW = 5, timedelta(hours=1)
DISPUTES, DISPUTE_WINDOW = 3, timedelta(days=30)

fraud_signals = Table(
    "fraud_signals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("escrow_id", Uuid),
    Column("amount", BigInteger),
    Column("detail", Text, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", Uuid),
    Column("resolution_note", Text),
    Index("ix_fraud_signals_open", "resolved_at", "detected_at"),
)
# What the detection needs to remember: when each user registered, and each purchase.
fraud_accounts = Table(
    "fraud_accounts",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)
fraud_purchases = Table(
    "fraud_purchases",
    metadata,
    Column("escrow_id", Uuid, primary_key=True),
    Column("buyer_id", Uuid, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("disputed_at", DateTime(timezone=True)),
    Index("ix_fraud_purchases_buyer", "buyer_id", "at"),
)


def signal_id(kind: str, subject: object) -> UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{subject}")


class FraudProjector(Projector):
    name = "fraud"
    version = 1
    tables = (fraud_signals, fraud_accounts, fraud_purchases)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events signal nothing."""

    @apply.register
    def _(self, e: User.Registered, conn: Connection) -> None:
        conn.execute(fraud_accounts.insert().values(user_id=e.originator_id, registered_at=e.at))

    @apply.register
    def _(self, e: Escrow.Opened, conn: Connection) -> None:
        conn.execute(
            fraud_purchases.insert().values(escrow_id=e.originator_id, buyer_id=e.buyer_id, at=e.at)
        )
        registered = as_utc(
            conn.execute(
                select(fraud_accounts.c.registered_at).where(fraud_accounts.c.user_id == e.buyer_id)
            ).scalar()
        )
        if e.price >= HIGH_VALUE and registered is not None and e.at - registered < NEW_ACCOUNT:
            hours = (e.at - registered).total_seconds() / 3600
            self._signal(
                conn,
                "new_account_high_value",
                e.originator_id,
                e.buyer_id,
                e.at,
                f"A purchase of {e.price // UZS} UZS by an account {hours:.1f} h old.",
                escrow_id=e.originator_id,
                amount=e.price,
            )
        recent = self._count(conn, fraud_purchases.c.at, e.buyer_id, e.at - BURST_WINDOW)
        if recent >= BURST:
            window = int(e.at.timestamp() // BURST_WINDOW.total_seconds())
            self._signal(
                conn,
                "purchase_burst",
                f"{e.buyer_id}:{window}",
                e.buyer_id,
                e.at,
                f"{recent} purchases within an hour.",
            )

    @apply.register
    def _(self, e: Escrow.Disputed, conn: Connection) -> None:
        conn.execute(
            update(fraud_purchases)
            .where(fraud_purchases.c.escrow_id == e.originator_id)
            .values(disputed_at=e.at)
        )
        buyer = conn.execute(
            select(fraud_purchases.c.buyer_id).where(fraud_purchases.c.escrow_id == e.originator_id)
        ).scalar()
        if buyer is None:
            return
        disputes = self._count(conn, fraud_purchases.c.disputed_at, buyer, e.at - DISPUTE_WINDOW)
        if disputes >= DISPUTES:
            self._signal(
                conn,
                "dispute_heavy",
                e.originator_id,
                buyer,
                e.at,
                f"{disputes} disputes within 30 days.",
                escrow_id=e.originator_id,
            )

    @apply.register
    def _(self, e: SignalReview.Resolved, conn: Connection) -> None:
        conn.execute(
            update(fraud_signals)
            .where(fraud_signals.c.id == e.originator_id)
            .values(resolved_at=e.at, resolved_by=e.by, resolution_note=e.note)
        )

    def _count(self, conn: Connection, column: Any, buyer: UUID, since: datetime) -> int:
        query = (
            select(func.count())
            .select_from(fraud_purchases)
            .where(fraud_purchases.c.buyer_id == buyer, column >= since)
        )
        return int(conn.execute(query).scalar_one())

    def _signal(
        self,
        conn: Connection,
        kind: str,
        subject: object,
        user_id: UUID,
        at: datetime,
        detail: str,
        **extra: Any,
    ) -> None:
        sid = signal_id(kind, subject)
        if conn.execute(select(fraud_signals.c.id).where(fraud_signals.c.id == sid)).first():
            return  # the same window or purchase signalled already
        conn.execute(
            fraud_signals.insert().values(
                id=sid, kind=kind, user_id=user_id, detail=detail, detected_at=at, **extra
            )
        )


def signals(
    conn: Connection, offset: int, limit: int, *, resolved: bool = False
) -> tuple[int, list[Row[Any]]]:
    """Open signals (or resolved ones), newest first."""
    where = (
        fraud_signals.c.resolved_at.isnot(None)
        if resolved
        else fraud_signals.c.resolved_at.is_(None)
    )
    order = (fraud_signals.c.detected_at.desc(), fraud_signals.c.id)
    return counted_page(conn, fraud_signals, select(fraud_signals), where, order, offset, limit)


def signal(conn: Connection, sid: UUID) -> Row[Any] | None:
    return conn.execute(select(fraud_signals).where(fraud_signals.c.id == sid)).first()


def signal_counts(conn: Connection, week_ago: datetime) -> tuple[int, int]:
    """AD2's two: open signals, and those resolved since ``week_ago``."""
    resolved_at = fraud_signals.c.resolved_at
    open_, resolved = conn.execute(
        select(
            func.count().filter(resolved_at.is_(None)),
            func.count().filter(resolved_at >= week_ago),
        ).select_from(fraud_signals)
    ).one()
    return int(open_), int(resolved)
