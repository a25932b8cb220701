"""The transactions read model: every money movement of a user as a Transaction row (CONTRACT
§2.0 Transaction): deposits from their request, withdrawals, purchases' holds, refunds, sales,
commissions and subscription payments.

Rows come from Wallet and Deposit events only. A wallet event names its wallet, not its owner:
this read model keeps its own copy of who owns which wallet (``transaction_wallets``), so a
rebuild never reads another read model.
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
    Row,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    true,
)

from domain.deposit import Deposit
from domain.wallet import Wallet
from projections.held import HeldRows
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import users

ROWS = uuid.UUID("3f6b2a1c-9d8e-4f7a-b6c5-d4e3f2a1b0c9")

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

# Who owns each wallet (never changes once opened).
transaction_wallets = Table(
    "transaction_wallets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False),
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
OWNER_OF = select(transaction_wallets.c.owner_id).where(
    transaction_wallets.c.id == bindparam("wallet_id")
)
DEFAULTS: dict[str, Any] = {
    "currency": "UZS",
    "payment_method": None,
    "provider_transaction_id": "",
    "escrow_id": None,
    "processed_at": None,
    "failed_at": None,
}


class TransactionsProjector(Projector):
    """Rows and wallet owners are held back per batch (projections/held.py)."""

    name = "transactions"
    version = 1
    tables = (transactions, transaction_wallets)
    replaces = ("money",)  # the one money projector these four read models were split from

    def __init__(self) -> None:
        self.transactions = HeldRows(transactions)
        self.wallets = HeldRows(transaction_wallets)
        self.owners: dict[UUID, UUID] = {}  # wallet -> owner; never changes once opened

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.transactions.clear()
        self.wallets.clear()
        if len(self.owners) > MAX_OWNERS:
            self.owners = {}

    def end_batch(self, conn: Connection, position: int) -> None:
        self.transactions.write(conn)
        self.wallets.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events write no transaction."""

    # --- wallets ----------------------------------------------------------------------------
    @apply.register
    def _(self, e: Wallet.Opened, conn: Connection) -> None:
        self.owners[e.originator_id] = e.owner_id
        self.wallets.insert({"id": e.originator_id, "owner_id": e.owner_id})

    @apply.register
    def _(self, e: Wallet.WithdrawalRequested, conn: Connection) -> None:
        self._insert(
            id=e.withdrawal_id,
            user_id=self._owner(conn, e.originator_id),
            amount=e.amount,
            type="withdrawal",
            status="pending",
            payment_method=e.method or None,
            description=f"Withdrawal to {e.method}" if e.method else "Withdrawal",
            created_at=e.at,
        )

    @apply.register
    def _(self, e: Wallet.WithdrawalCompleted, conn: Connection) -> None:
        self._update(e.withdrawal_id, status="completed", processed_at=e.at)

    @apply.register
    def _(self, e: Wallet.WithdrawalReturned, conn: Connection) -> None:
        if e.outcome == "rejected":
            self._update(
                e.withdrawal_id, status="failed", failed_at=e.at, meta={"reason": e.reason}
            )
        else:
            self._update(e.withdrawal_id, status="cancelled", processed_at=e.at)

    @apply.register
    def _(self, e: Wallet.HoldPlaced, conn: Connection) -> None:
        self._insert(
            id=row_id(e.escrow_id, "purchase"),
            user_id=self._owner(conn, e.originator_id),
            amount=e.amount,
            type="purchase",
            status="pending",
            description="Purchase: payment held in escrow",
            escrow_id=e.escrow_id,
            created_at=e.timestamp,
        )

    @apply.register
    def _(self, e: Wallet.HoldCaptured, conn: Connection) -> None:
        self._update(row_id(e.escrow_id, "purchase"), status="completed", processed_at=e.timestamp)

    @apply.register
    def _(self, e: Wallet.HoldReleased, conn: Connection) -> None:
        self._update(row_id(e.escrow_id, "purchase"), status="cancelled", processed_at=e.timestamp)
        self._insert(
            id=row_id(e.escrow_id, "refund"),
            user_id=self._owner(conn, e.originator_id),
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
        kind = e.reason if e.reason in CREDIT_KINDS else "deposit"
        self._insert(
            id=row_id(e.reference, kind),
            user_id=self._owner(conn, e.originator_id),
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
        self._insert(
            id=row_id(e.reference, "debit"),
            user_id=self._owner(conn, e.originator_id),
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
            e.originator_id,
            status="completed",
            processed_at=e.at,
            provider_transaction_id=e.provider_transaction_id,
        )

    @apply.register
    def _(self, e: Deposit.Cancelled, conn: Connection) -> None:
        self._update(e.originator_id, status="cancelled", meta={"reason": e.reason})

    # --- helpers ----------------------------------------------------------------------------
    def _owner(self, conn: Connection, wallet: UUID) -> UUID:
        owner = self.owners.get(wallet)
        if owner is None:
            owner = conn.execute(OWNER_OF, {"wallet_id": wallet}).scalar_one()
            self.owners[wallet] = owner
        return owner

    def _insert(self, **values: Any) -> None:
        self.transactions.insert({**DEFAULTS, "meta": {}, **values})

    def _update(self, row: UUID, **values: Any) -> None:
        self.transactions.change(row, values)


# --- queries ------------------------------------------------------------------------------
NEWEST = (transactions.c.created_at.desc(), transactions.c.id)


def transactions_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    where = transactions.c.user_id == user_id
    return counted_page(conn, transactions, select(transactions), where, NEWEST, offset, limit)


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
    """Staff's view: every user's transactions, with the user's name and e-mail joined in."""
    where = []
    if row_id is not None:
        where.append(transactions.c.id == row_id)
    if kind:
        where.append(transactions.c.type == kind)
    if status:
        where.append(transactions.c.status == status)
    rows = select(
        transactions,
        users.c.email.label("user_email"),
        users.c.full_name.label("user_full_name"),
    ).join(users, users.c.id == transactions.c.user_id, isouter=True)
    return counted_page(conn, transactions, rows, and_(true(), *where), NEWEST, offset, limit)


def completed_volumes(conn: Connection, since: datetime) -> tuple[int, int]:
    """The dashboard's volumes (AD1): the amounts of completed transactions, in all and since
    ``since``, in tiyin."""
    completed = transactions.c.status == "completed"
    total, recent = conn.execute(
        select(
            func.coalesce(func.sum(transactions.c.amount).filter(completed), 0),
            func.coalesce(
                func.sum(transactions.c.amount).filter(
                    completed, transactions.c.created_at >= since
                ),
                0,
            ),
        ).select_from(transactions)
    ).one()
    return int(total), int(recent)
