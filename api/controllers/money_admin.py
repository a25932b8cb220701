"""Staff money endpoints: disputes (CONTRACT §2.12 AD6-AD7), withdrawals (approve, reject) and
the transactions ledger (AD12)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from api.accepted import ACCEPTED, unless_caught_up
from api.auth import container_of, require_staff
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
from projections import money_queries as q

Req = Request[Any, Any, Any]
WITHDRAWALS = "/api/v1/admin-panel/withdrawals/?status=all"
STATUSES = ("pending", "processing", "completed", "failed", "cancelled")


def _pending_withdrawal(request: Req, withdrawal_id: UUID) -> Any:
    with container_of(request).store.reader.connect() as conn:
        row = q.transaction(conn, withdrawal_id)
    if row is None or row.type != "withdrawal":
        raise ApiError(404, "NOT_FOUND", "Withdrawal not found.")
    return row


class MoneyAdminController(Controller):
    path = "/api/v1/admin-panel"
    tags = ["admin"]

    @get("/disputes/", operation_id="admin_disputes", sync_to_thread=True)
    def disputes(self, request: Req) -> Page[Escrow]:
        require_staff(request)
        w = window(request)
        with container_of(request).store.reader.connect() as conn:
            total, rows = q.disputes(conn, w.offset, w.limit)
        return page_of(request, w, total, [escrow_from_row(r) for r in rows])

    @post(
        "/disputes/{escrow_id:uuid}/resolve/",
        status_code=200,
        operation_id="resolve_dispute",
        sync_to_thread=True,
    )
    def resolve(
        self, request: Req, escrow_id: FromPath[UUID], data: JSONBody[ResolveBody]
    ) -> Message:
        staff = require_staff(request)
        container = container_of(request)
        with container.read_your_writes():
            container.escrows.resolve_dispute(
                Actor.user(staff.id), escrow_id, data.action, data.resolution
            )
        return Message(
            success=True,
            message="Dispute refunded." if data.action == "refund" else "Dispute released.",
        )

    @get("/withdrawals/", operation_id="admin_withdrawals", sync_to_thread=True)
    def withdrawals(self, request: Req) -> Page[AdminTransaction]:
        """Pending withdrawals, newest first; ``?status=`` for the others."""
        require_staff(request)
        status = request.query_params.get("status") or "pending"
        if status not in (*STATUSES, "all"):
            raise ApiError(400, "INVALID", "status: Unknown status.", {"status": ["Unknown."]})
        w = window(request)
        with container_of(request).store.reader.connect() as conn:
            total, rows = q.admin_transactions(
                conn, w.offset, w.limit, "withdrawal", None if status == "all" else status
            )
        return page_of(request, w, total, [admin_transaction_from_row(r) for r in rows])

    @post(
        "/withdrawals/{withdrawal_id:uuid}/approve/",
        status_code=200,
        operation_id="approve_withdrawal",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def approve(self, request: Req, withdrawal_id: FromPath[UUID]) -> Envelope:
        staff = require_staff(request)
        container = container_of(request)
        row = _pending_withdrawal(request, withdrawal_id)
        with container.read_your_writes() as written:
            container.payments.approve_withdrawal(Actor.user(staff.id), row.user_id, withdrawal_id)
        message = "Withdrawal approved."
        unless_caught_up(written, WITHDRAWALS, message, id=withdrawal_id, status="completed")
        return Envelope(
            success=True,
            message=message,
            data=admin_transaction_from_row(self._row(request, withdrawal_id)),
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
        request: Req,
        withdrawal_id: FromPath[UUID],
        data: JSONBody[WithdrawalRejectBody | None] = None,
    ) -> Envelope:
        staff = require_staff(request)
        container = container_of(request)
        row = _pending_withdrawal(request, withdrawal_id)
        with container.read_your_writes() as written:
            container.payments.reject_withdrawal(
                Actor.user(staff.id), row.user_id, withdrawal_id, data.reason if data else ""
            )
        message = "Withdrawal rejected."
        unless_caught_up(written, WITHDRAWALS, message, id=withdrawal_id, status="failed")
        return Envelope(
            success=True,
            message=message,
            data=admin_transaction_from_row(self._row(request, withdrawal_id)),
        )

    @get("/transactions/", operation_id="admin_transactions", sync_to_thread=True)
    def transactions(self, request: Req) -> Page[AdminTransaction]:
        require_staff(request)
        w = window(request)
        kind = request.query_params.get("type") or None
        status = request.query_params.get("status") or None
        with container_of(request).store.reader.connect() as conn:
            total, rows = q.admin_transactions(conn, w.offset, w.limit, kind, status)
        return page_of(request, w, total, [admin_transaction_from_row(r) for r in rows])

    @staticmethod
    def _row(request: Req, row_id: UUID) -> Any:
        with container_of(request).store.reader.connect() as conn:
            _, rows = q.admin_transactions(conn, 0, 1, None, None, row_id=row_id)
        return rows[0]
