"""Staff money endpoints: disputes (CONTRACT §2.12 AD6-AD7), withdrawals (approve, reject) and
the transactions ledger (AD12). The guard turns non-staff away (403); each command checks staff
again in the application, against the event store."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.dependencies import Inject, ReadYourWrites, staff_only
from api.errors import ApiError
from api.money_schemas import (
    AdminTransaction,
    Envelope,
    Escrow,
    ResolveBody,
    WithdrawalRejectBody,
    admin_transaction_from_row,
    escrow_from_row,
)
from api.pagination import Page, page_of, window
from api.schemas import Message
from application.actor import Actor
from application.escrows import Escrows
from application.payments import Payments
from projections import escrows as escrow_views
from projections import transactions as transaction_views

Req = Request[Any, Any, Any]
WITHDRAWALS = "/api/v1/admin-panel/withdrawals/?status=all"
# Which withdrawals to list: a transaction status, or all of them ("" as if not given: pending).
WithdrawalStatus = Literal["pending", "processing", "completed", "failed", "cancelled", "all", ""]


def withdrawal_owner(reader: Engine, withdrawal_id: UUID) -> UUID:
    """Whose wallet holds the withdrawal (the read model says; that wallet then decides)."""
    with reader.connect() as conn:
        row = transaction_views.transaction(conn, withdrawal_id)
    if row is None or row.type != "withdrawal":
        raise ApiError(404, "NOT_FOUND", "Withdrawal not found.")
    owner: UUID = row.user_id
    return owner


def admin_transaction(reader: Engine, row_id: UUID) -> AdminTransaction:
    with reader.connect() as conn:
        _, rows = transaction_views.admin_transactions(conn, 0, 1, None, None, row_id=row_id)
    return admin_transaction_from_row(rows[0])


class MoneyAdminController(Controller):
    path = "/api/v1/admin-panel"
    tags = ["admin"]
    guards = [staff_only]

    @get("/disputes/", operation_id="admin_disputes", sync_to_thread=True)
    def disputes(self, request: Req, reader: Inject[Engine]) -> Page[Escrow]:
        w = window(request)
        with reader.connect() as conn:
            total, rows = escrow_views.disputes(conn, w.offset, w.limit)
        return page_of(request, w, total, [escrow_from_row(r) for r in rows])

    @post(
        "/disputes/{escrow_id:uuid}/resolve/",
        status_code=200,
        operation_id="resolve_dispute",
        sync_to_thread=True,
    )
    def resolve(
        self,
        actor: Inject[Actor],
        escrows: Inject[Escrows],
        read_your_writes: Inject[ReadYourWrites],
        escrow_id: FromPath[UUID],
        data: JSONBody[ResolveBody],
    ) -> Message:
        with read_your_writes():
            escrows.resolve_dispute(actor, escrow_id, data.action, data.resolution)
        return Message(
            success=True,
            message="Dispute refunded." if data.action == "refund" else "Dispute released.",
        )

    @get("/withdrawals/", operation_id="admin_withdrawals", sync_to_thread=True)
    def withdrawals(
        self,
        request: Req,
        reader: Inject[Engine],
        status: FromQuery[WithdrawalStatus] = "pending",
    ) -> Page[AdminTransaction]:
        """Pending withdrawals, newest first; ``?status=`` for the others."""
        wanted = status or "pending"
        w = window(request)
        with reader.connect() as conn:
            total, rows = transaction_views.admin_transactions(
                conn, w.offset, w.limit, "withdrawal", None if wanted == "all" else wanted
            )
        return page_of(request, w, total, [admin_transaction_from_row(r) for r in rows])

    @post(
        "/withdrawals/{withdrawal_id:uuid}/approve/",
        status_code=200,
        operation_id="approve_withdrawal",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def approve(
        self,
        actor: Inject[Actor],
        payments: Inject[Payments],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        withdrawal_id: FromPath[UUID],
    ) -> Envelope[AdminTransaction]:
        owner = withdrawal_owner(reader, withdrawal_id)
        with read_your_writes() as written:
            payments.approve_withdrawal(actor, owner, withdrawal_id)
        message = "Withdrawal approved."
        unless_caught_up(written, WITHDRAWALS, message, id=withdrawal_id, status="completed")
        return Envelope(
            success=True, message=message, data=admin_transaction(reader, withdrawal_id)
        )

    @post(
        "/withdrawals/{withdrawal_id:uuid}/reject/",
        status_code=200,
        operation_id="reject_withdrawal",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def reject(
        self,
        actor: Inject[Actor],
        payments: Inject[Payments],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        withdrawal_id: FromPath[UUID],
        data: JSONBody[WithdrawalRejectBody | None] = None,
    ) -> Envelope[AdminTransaction]:
        owner = withdrawal_owner(reader, withdrawal_id)
        with read_your_writes() as written:
            payments.reject_withdrawal(actor, owner, withdrawal_id, data.reason if data else "")
        message = "Withdrawal rejected."
        unless_caught_up(written, WITHDRAWALS, message, id=withdrawal_id, status="failed")
        return Envelope(
            success=True, message=message, data=admin_transaction(reader, withdrawal_id)
        )

    @get("/transactions/", operation_id="admin_transactions", sync_to_thread=True)
    def transactions(
        self,
        request: Req,
        reader: Inject[Engine],
        kind: Annotated[str | None, QueryParameter(name="type")] = None,
        status: FromQuery[str | None] = None,
    ) -> Page[AdminTransaction]:
        w = window(request)
        with reader.connect() as conn:
            total, rows = transaction_views.admin_transactions(
                conn, w.offset, w.limit, kind or None, status or None
            )
        return page_of(request, w, total, [admin_transaction_from_row(r) for r in rows])
