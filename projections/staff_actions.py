"""The staff audit log: what staff (or the platform's operator) did to users, listings, escrows
and withdrawals, and who did it, from the events that record the acting staff member.

One row per such event, newest first for staff (``GET /admin-panel/audit-log/``). ``staff_id``
is None where the platform acted (the operator's command line, the seed) or where the event was
stored before it named the staff member.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    Row,
    String,
    Table,
    Text,
    Uuid,
    select,
    true,
)

from domain.escrow import Escrow
from domain.listing import Listing
from domain.user import User
from domain.wallet import Wallet
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import users

staff_actions = Table(
    "staff_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("staff_id", Uuid),
    Column("action", String(32), nullable=False),
    Column("target_type", String(16), nullable=False),
    Column("target_id", Uuid, nullable=False),
    Column("detail", Text, nullable=False, default=""),
)


class StaffActionsProjector(Projector):
    name = "staff_actions"
    version = 1
    tables = (staff_actions,)

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.rows.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        if self.rows:
            conn.execute(staff_actions.insert(), self.rows)
            self.rows.clear()

    def _log(
        self,
        e: Any,
        staff_id: UUID | None,
        action: str,
        target_type: str,
        detail: str = "",
        at: datetime | None = None,
    ) -> None:
        self.rows.append(
            {
                "at": at or e.timestamp,
                "staff_id": staff_id,
                "action": action,
                "target_type": target_type,
                "target_id": e.originator_id,
                "detail": detail,
            }
        )

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events are nobody's staff action."""

    # --- users ------------------------------------------------------------------------
    @apply.register
    def _(self, e: User.Banned, conn: Connection) -> None:
        self._log(e, e.by, "user.banned", "user", e.reason, e.at)

    @apply.register
    def _(self, e: User.Unbanned, conn: Connection) -> None:
        self._log(e, e.by, "user.unbanned", "user", at=e.at)

    @apply.register
    def _(self, e: User.StaffGranted, conn: Connection) -> None:
        self._log(e, e.by, "user.staff_granted", "user")

    @apply.register
    def _(self, e: User.StaffRevoked, conn: Connection) -> None:
        self._log(e, e.by, "user.staff_revoked", "user")

    # --- listings -----------------------------------------------------------------------
    @apply.register
    def _(self, e: Listing.Approved, conn: Connection) -> None:
        self._log(e, e.by, "listing.approved", "listing", at=e.at)

    @apply.register
    def _(self, e: Listing.Rejected, conn: Connection) -> None:
        self._log(e, e.by, "listing.rejected", "listing", e.reason, e.at)

    @apply.register
    def _(self, e: Listing.PremiumSet, conn: Connection) -> None:
        action = "listing.premium_set" if e.is_premium else "listing.premium_unset"
        self._log(e, e.by, action, "listing")

    # --- escrows and withdrawals --------------------------------------------------------
    @apply.register
    def _(self, e: Escrow.Released, conn: Connection) -> None:
        if e.by == "staff":
            self._log(e, e.staff_id, "dispute.released", "escrow", e.resolution, e.at)

    @apply.register
    def _(self, e: Escrow.Refunded, conn: Connection) -> None:
        if e.by == "staff":
            self._log(e, e.staff_id, "dispute.refunded", "escrow", e.reason, e.at)

    @apply.register
    def _(self, e: Wallet.WithdrawalCompleted, conn: Connection) -> None:
        self._log(e, e.by, "withdrawal.approved", "wallet", at=e.at, detail=_amount(e))

    @apply.register
    def _(self, e: Wallet.WithdrawalReturned, conn: Connection) -> None:
        if e.outcome == "rejected":
            detail = f"{_amount(e)}: {e.reason}" if e.reason else _amount(e)
            self._log(e, e.by, "withdrawal.rejected", "wallet", detail, e.at)


def _amount(e: Any) -> str:
    return f"withdrawal {e.withdrawal_id}, {e.amount} tiyin"


def audit_log(conn: Connection, offset: int, limit: int) -> tuple[int, list[Row[Any]]]:
    """Staff actions, newest first, with the acting staff member's e-mail (one query)."""
    rows = select(staff_actions, users.c.email.label("staff_email")).select_from(
        staff_actions.outerjoin(users, users.c.id == staff_actions.c.staff_id)
    )
    order = (staff_actions.c.id.desc(),)  # the log's order, newest first
    return counted_page(conn, staff_actions, rows, true(), order, offset, limit)
