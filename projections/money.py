"""The money read models: balances, every money movement as a Transaction row, escrows,
subscriptions and order rooms (CONTRACT §2.0 Transaction, Escrow, UserSubscription).

Rows are derived from Wallet, Deposit, Escrow, Membership and ChatRoom events only, so the
auditor can compare them with a fresh replay of the same events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    select,
    update,
)

from domain.chat import ChatRoom
from domain.deposit import Deposit
from domain.escrow import Escrow
from domain.subscription import Membership
from domain.wallet import Wallet
from projections.held import HeldRows
from projections.runtime import Projector, metadata

ROWS = uuid.UUID("3f6b2a1c-9d8e-4f7a-b6c5-d4e3f2a1b0c9")

wallets = Table(
    "wallets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False, unique=True),
    Column("available", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("pending_withdrawal", BigInteger, nullable=False),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payment_method", String(32)),
    Column("provider_transaction_id", String(200), nullable=False),
    Column("description", String(300), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("escrow_id", Uuid),
    Column("processed_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("transactions_user_newest", "user_id", "created_at"),
    Index("transactions_type_status", "type", "status"),
)

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
    Index("escrows_buyer_newest", "buyer_id", "created_at"),
    Index("escrows_seller_newest", "seller_id", "created_at"),
    Index("escrows_status", "status"),
)

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


CREDIT_KINDS = {
    "sale": "Sale: escrow released",
    "commission": "Commission",
    "subscription": "Subscription revenue",
}


def row_id(reference: UUID, kind: str) -> UUID:
    """The id of the Transaction row of one movement (a purchase's hold, its refund...)."""
    return uuid.uuid5(ROWS, f"{kind}:{reference}")


MAX_OWNERS = 200_000  # wallet owners kept between batches (a few MB at most)
OWNER_OF = select(wallets.c.owner_id).where(wallets.c.id == bindparam("wallet_id"))
TRANSACTION_DEFAULTS: dict[str, Any] = {
    "currency": "UZS",
    "payment_method": None,
    "provider_transaction_id": "",
    "escrow_id": None,
    "processed_at": None,
    "failed_at": None,
}
ESCROW_DEFAULTS: dict[str, Any] = {
    "chat_room_id": None,
    "release_after": None,
    "delivered_at": None,
    "buyer_confirmed_at": None,
    "seller_paid_at": None,
    "admin_released_at": None,
    "settled_by": None,
}


class MoneyProjector(Projector):
    """Wallets, transactions and escrows are held back per batch (projections/held.py);
    subscriptions, a few events a month per user, are written as they come."""

    name = "money"
    version = 1
    tables = (wallets, transactions, escrows, subscriptions)

    def __init__(self) -> None:
        self.wallets = HeldRows(wallets)
        self.transactions = HeldRows(transactions)
        self.escrows = HeldRows(escrows)
        self.owners: dict[UUID, UUID] = {}  # wallet -> owner; never changes once opened

    def begin_batch(self, conn: Connection, position: int) -> None:
        for held in (self.wallets, self.transactions, self.escrows):
            held.clear()
        if len(self.owners) > MAX_OWNERS:
            self.owners = {}

    def end_batch(self, conn: Connection, position: int) -> None:
        for held in (self.wallets, self.transactions, self.escrows):
            held.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events move no money."""

    # --- wallets ----------------------------------------------------------------------------
    @apply.register
    def _(self, e: Wallet.Opened, conn: Connection) -> None:
        self.owners[e.originator_id] = e.owner_id
        self.wallets.insert(
            {
                "id": e.originator_id,
                "owner_id": e.owner_id,
                "available": 0,
                "held": 0,
                "pending_withdrawal": 0,
            }
        )

    @apply.register
    def _(self, e: Wallet.Deposited, conn: Connection) -> None:
        self._balance(conn, e.originator_id, available=e.amount)

    @apply.register
    def _(self, e: Wallet.WithdrawalRequested, conn: Connection) -> None:
        owner = self._balance(conn, e.originator_id, available=-e.amount, pending=e.amount)
        self._insert(
            conn,
            id=e.withdrawal_id,
            user_id=owner,
            amount=e.amount,
            type="withdrawal",
            status="pending",
            payment_method=e.method or None,
            description=f"Withdrawal to {e.method}" if e.method else "Withdrawal",
            created_at=e.at,
        )

    @apply.register
    def _(self, e: Wallet.WithdrawalCompleted, conn: Connection) -> None:
        self._balance(conn, e.originator_id, pending=-e.amount)
        self._update(conn, e.withdrawal_id, status="completed", processed_at=e.at)

    @apply.register
    def _(self, e: Wallet.WithdrawalReturned, conn: Connection) -> None:
        self._balance(conn, e.originator_id, available=e.amount, pending=-e.amount)
        if e.outcome == "rejected":
            self._update(
                conn, e.withdrawal_id, status="failed", failed_at=e.at, meta={"reason": e.reason}
            )
        else:
            self._update(conn, e.withdrawal_id, status="cancelled", processed_at=e.at)

    @apply.register
    def _(self, e: Wallet.HoldPlaced, conn: Connection) -> None:
        owner = self._balance(conn, e.originator_id, available=-e.amount, held=e.amount)
        self._insert(
            conn,
            id=row_id(e.escrow_id, "purchase"),
            user_id=owner,
            amount=e.amount,
            type="purchase",
            status="pending",
            description="Purchase: payment held in escrow",
            escrow_id=e.escrow_id,
            created_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Wallet.HoldCaptured, conn: Connection) -> None:
        self._balance(conn, e.originator_id, held=-e.amount)
        self._update(
            conn, row_id(e.escrow_id, "purchase"), status="completed", processed_at=e.timestamp
        )

    @apply.register
    def _(self, e: Wallet.HoldReleased, conn: Connection) -> None:
        owner = self._balance(conn, e.originator_id, available=e.amount, held=-e.amount)
        self._update(
            conn, row_id(e.escrow_id, "purchase"), status="cancelled", processed_at=e.timestamp
        )
        self._insert(
            conn,
            id=row_id(e.escrow_id, "refund"),
            user_id=owner,
            amount=e.amount,
            type="refund",
            status="completed",
            description="Refund: purchase cancelled",
            escrow_id=e.escrow_id,
            processed_at=e.timestamp,
            created_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Wallet.Credited, conn: Connection) -> None:
        owner = self._balance(conn, e.originator_id, available=e.amount)
        kind = e.reason if e.reason in CREDIT_KINDS else "deposit"
        self._insert(
            conn,
            id=row_id(e.reference, kind),
            user_id=owner,
            amount=e.amount,
            type=kind,
            status="completed",
            description=CREDIT_KINDS.get(kind, "Credit"),
            escrow_id=e.reference if kind in ("sale", "commission") else None,
            processed_at=e.timestamp,
            created_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Wallet.Debited, conn: Connection) -> None:
        owner = self._balance(conn, e.originator_id, available=-e.amount)
        self._insert(
            conn,
            id=row_id(e.reference, "debit"),
            user_id=owner,
            amount=e.amount,
            type="subscription" if e.reason == "subscription" else "purchase",
            status="completed",
            description="Subscription payment" if e.reason == "subscription" else e.reason,
            processed_at=e.timestamp,
            created_at=e.timestamp,
        )

    # --- deposits ---------------------------------------------------------------------------
    @apply.register
    def _(self, e: Deposit.Requested, conn: Connection) -> None:
        self._insert(
            conn,
            id=e.originator_id,
            user_id=e.user_id,
            amount=e.amount,
            type="deposit",
            status="pending",
            payment_method=e.method or None,
            description=f"Deposit via {e.method}",
            meta={"provider": e.provider},
            created_at=e.at,
        )

    @apply.register
    def _(self, e: Deposit.Completed, conn: Connection) -> None:
        self._update(
            conn,
            e.originator_id,
            status="completed",
            processed_at=e.at,
            provider_transaction_id=e.provider_transaction_id,
        )

    @apply.register
    def _(self, e: Deposit.Cancelled, conn: Connection) -> None:
        self._update(conn, e.originator_id, status="cancelled", meta={"reason": e.reason})

    # --- escrows ----------------------------------------------------------------------------
    @apply.register
    def _(self, e: Escrow.Opened, conn: Connection) -> None:
        self.escrows.insert(
            {
                **ESCROW_DEFAULTS,
                "id": e.originator_id,
                "listing_id": e.listing_id,
                "buyer_id": e.buyer_id,
                "seller_id": e.seller_id,
                "amount": e.price,
                "commission": e.commission,
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
            self._escrow(conn, e.escrow_id, chat_room_id=e.originator_id)

    @apply.register
    def _(self, e: Escrow.Delivered, conn: Connection) -> None:
        self._escrow(
            conn,
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
        self._escrow(
            conn, e.originator_id, status="disputed", dispute_reason=e.reason, updated_at=e.at
        )

    @apply.register
    def _(self, e: Escrow.Released, conn: Connection) -> None:
        values: dict[str, Any] = {"status": "confirmed", "seller_paid_at": e.at, "settled_by": e.by}
        if e.by == "buyer":
            values["buyer_confirmed_at"] = e.at
        if e.by == "staff":
            values.update(admin_released_at=e.at, dispute_resolution=e.resolution)
        self._escrow(conn, e.originator_id, updated_at=e.at, **values)

    @apply.register
    def _(self, e: Escrow.Refunded, conn: Connection) -> None:
        values: dict[str, Any] = {"status": "refunded", "settled_by": e.by}
        if e.by == "staff":
            values.update(admin_released_at=e.at, dispute_resolution=e.reason)
        self._escrow(conn, e.originator_id, updated_at=e.at, **values)

    # --- subscriptions ----------------------------------------------------------------------
    @apply.register
    def _(self, e: Membership.Subscribed, conn: Connection) -> None:
        if e.replaces is not None:
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == e.replaces, subscriptions.c.status == "active")
                .values(status="cancelled", cancelled_at=e.start, cancel_reason="Replaced.")
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
                status="active",
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
            .values(status="cancelled", auto_renew="n", cancelled_at=e.at, cancel_reason=e.reason)
        )

    @apply.register
    def _(self, e: Membership.Expired, conn: Connection) -> None:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == e.subscription_id)
            .values(status="expired", auto_renew="n")
        )

    # --- helpers ----------------------------------------------------------------------------
    def _balance(
        self, conn: Connection, wallet: UUID, available: int = 0, held: int = 0, pending: int = 0
    ) -> UUID:
        """Move a wallet's balances; return its owner."""
        for column, amount in (
            ("available", available),
            ("held", held),
            ("pending_withdrawal", pending),
        ):
            if amount:
                self.wallets.add(wallet, column, amount)
        owner = self.owners.get(wallet)
        if owner is None:
            owner = conn.execute(OWNER_OF, {"wallet_id": wallet}).scalar_one()
            self.owners[wallet] = owner
        return owner

    def _insert(self, conn: Connection, **values: Any) -> None:
        self.transactions.insert({**TRANSACTION_DEFAULTS, "meta": {}, **values})

    def _update(self, conn: Connection, row: UUID, **values: Any) -> None:
        self.transactions.change(row, values)

    def _escrow(self, conn: Connection, escrow: UUID, **values: Any) -> None:
        self.escrows.change(escrow, values)


def _payment(price: int, start: datetime, period: str) -> dict[str, Any]:
    return {"amount": price, "date": start.isoformat(), "period": period}
