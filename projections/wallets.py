"""The wallets read model: each owner's balances (available, held, pending withdrawal).

Rows come from Wallet events only, so the auditor can compare them with its own replay.
The users read model shows ``available`` as the user's balance (projections/users.py).
"""

from __future__ import annotations

from functools import singledispatchmethod
from uuid import UUID

from sqlalchemy import BigInteger, Column, Connection, Table, Uuid, select

from domain.wallet import Wallet
from projections.held import HeldRows
from projections.runtime import Projector, metadata

wallets = Table(
    "wallets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False, unique=True),
    Column("available", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("pending_withdrawal", BigInteger, nullable=False),
)


class WalletsProjector(Projector):
    """Balances move by increments, held back per batch (projections/held.py)."""

    name = "wallets"
    version = 1
    tables = (wallets,)
    replaces = ("money",)  # the one money projector these four read models were split from

    def __init__(self) -> None:
        self.wallets = HeldRows(wallets)

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.wallets.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        self.wallets.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events move no balance."""

    @apply.register
    def _(self, e: Wallet.Opened, conn: Connection) -> None:
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
        self._move(e.originator_id, available=e.amount)

    @apply.register
    def _(self, e: Wallet.WithdrawalRequested, conn: Connection) -> None:
        self._move(e.originator_id, available=-e.amount, pending=e.amount)

    @apply.register
    def _(self, e: Wallet.WithdrawalCompleted, conn: Connection) -> None:
        self._move(e.originator_id, pending=-e.amount)

    @apply.register
    def _(self, e: Wallet.WithdrawalReturned, conn: Connection) -> None:
        self._move(e.originator_id, available=e.amount, pending=-e.amount)

    @apply.register
    def _(self, e: Wallet.HoldPlaced, conn: Connection) -> None:
        self._move(e.originator_id, available=-e.amount, held=e.amount)

    @apply.register
    def _(self, e: Wallet.HoldCaptured, conn: Connection) -> None:
        self._move(e.originator_id, held=-e.amount)

    @apply.register
    def _(self, e: Wallet.HoldReleased, conn: Connection) -> None:
        self._move(e.originator_id, available=e.amount, held=-e.amount)

    @apply.register
    def _(self, e: Wallet.Credited, conn: Connection) -> None:
        self._move(e.originator_id, available=e.amount)

    @apply.register
    def _(self, e: Wallet.Debited, conn: Connection) -> None:
        self._move(e.originator_id, available=-e.amount)

    def _move(self, wallet: UUID, available: int = 0, held: int = 0, pending: int = 0) -> None:
        for column, amount in (
            ("available", available),
            ("held", held),
            ("pending_withdrawal", pending),
        ):
            if amount:
                self.wallets.add(wallet, column, amount)


# --- queries ------------------------------------------------------------------------------
def balance(conn: Connection, owner: UUID) -> tuple[int, int, int]:
    """(available, held, pending withdrawal) of ``owner``'s wallet; zeros before it opens."""
    row = conn.execute(
        select(wallets.c.available, wallets.c.held, wallets.c.pending_withdrawal).where(
            wallets.c.owner_id == owner
        )
    ).first()
    return (row.available, row.held, row.pending_withdrawal) if row else (0, 0, 0)
