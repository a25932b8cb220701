"""CONTRACT §2.6: wallet balance, deposits through a provider, withdrawals, purchases through
escrow and the escrow's life, transactions, provider webhooks and the sandbox checkout."""

from __future__ import annotations

import html
from typing import Any
from uuid import UUID

from anyio import to_thread
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api import idempotency
from api.accepted import ACCEPTED, unless_caught_up
from api.auth import authenticate, container_of
from api.errors import ApiError
from api.money_schemas import (
    METHODS,
    Balance,
    CheckoutBody,
    DeliverBody,
    DepositBody,
    DisputeBody,
    Envelope,
    Escrow,
    PaymentMethod,
    PurchaseBody,
    Transaction,
    WithdrawBody,
    escrow_from_row,
    transaction_from_deposit,
    transaction_from_row,
)
from api.pagination import Page, page_of, window
from api.schemas import Message, money
from application.actor import Actor
from application.payments import DepositSummary
from application.sandbox import SIGNATURE_HEADER, SandboxProvider
from domain.escrow import check_visible_to
from domain.money import parse_amount
from projections import money_queries as q

Req = Request[Any, Any, Any]


def transaction_out(request: Req, row_id: UUID, user_id: UUID) -> Transaction:
    with container_of(request).store.reader.connect() as conn:
        row = q.transaction(conn, row_id)
    if row is None or row.user_id != user_id:
        raise ApiError(404, "NOT_FOUND", "Transaction not found.")
    return transaction_from_row(row)


def escrow_out(request: Req, escrow_id: UUID) -> Escrow:
    with container_of(request).store.reader.connect() as conn:
        row = q.escrow(conn, escrow_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Escrow not found.")
    return escrow_from_row(row)


def escrow_location(escrow_id: UUID) -> str:
    return f"/api/v1/payments/escrow/{escrow_id}/"


def escrow_state(escrow: Any) -> dict[str, Any]:
    """What a 202 Accepted tells of an escrow: what its command saved, nothing read."""
    return {"id": escrow.id, "status": escrow.status, "listing": escrow.listing_id}


def visible_escrow(request: Req, escrow_id: UUID, user: Any) -> Escrow:
    """The escrow when the caller is its buyer, its seller or staff; 404 otherwise."""
    with container_of(request).store.reader.connect() as conn:
        row = q.escrow(conn, escrow_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Escrow not found.")
    check_visible_to(user.id, row.buyer_id, row.seller_id, staff=bool(user.is_staff))
    return escrow_from_row(row)


class PaymentsController(Controller):
    path = "/api/v1/payments"
    tags = ["payments"]

    @get("/balance/", operation_id="balance", sync_to_thread=True)
    def balance(self, request: Req) -> Envelope:
        user = authenticate(request)
        with container_of(request).store.reader.connect() as conn:
            available, held, pending = q.balance(conn, user.id)
        return Envelope(
            success=True,
            data=Balance(
                balance=money(available),
                currency="UZS",
                held=money(held),
                pending_withdrawal=money(pending),
            ),
        )

    @get("/methods/", operation_id="payment_methods", sync_to_thread=False)
    def methods(self, request: Req) -> Page[PaymentMethod]:
        methods = list(METHODS.values())
        return page_of(request, window(request), len(methods), methods)

    @post("/deposit/", operation_id="deposit", sync_to_thread=True)
    def deposit(self, request: Req, data: JSONBody[DepositBody]) -> Response[Any]:
        user = authenticate(request)
        container = container_of(request)
        provider = container.payment_provider
        if provider is None:
            raise ApiError(
                503,
                "PAYMENTS_UNAVAILABLE",
                "Deposits are not available: no payment provider is configured.",
            )

        def command() -> tuple[int, Envelope]:
            amount = parse_amount(data.amount, "amount")
            with container.read_your_writes() as written:
                deposit = container.payments.request_deposit(
                    Actor.user(user.id), amount, data.payment_method, provider.name
                )
            url = provider.checkout_url(deposit, str(request.base_url))
            row = None
            if written.caught_up:
                with container.store.reader.connect() as conn:
                    row = q.transaction(conn, deposit.id)
            return 201, Envelope(
                success=True,
                message="Deposit created. Awaiting payment.",
                data=transaction_from_row(row, checkout_url=url)
                if row is not None
                else transaction_from_deposit(deposit, checkout_url=url),
            )

        return idempotency.once(container.idempotency, request, user.id, data, command)

    @post("/withdraw/", operation_id="withdraw", sync_to_thread=True, responses=ACCEPTED)
    def withdraw(self, request: Req, data: JSONBody[WithdrawBody]) -> Response[Any]:
        user = authenticate(request)
        container = container_of(request)

        def command() -> tuple[int, Envelope]:
            amount = parse_amount(data.amount, "amount")
            with container.read_your_writes() as written:
                withdrawal = container.payments.request_withdrawal(
                    Actor.user(user.id), amount, data.payment_method
                )
            unless_caught_up(
                written,
                f"/api/v1/payments/transactions/{withdrawal}/",
                "Withdrawal request created.",
                id=withdrawal,
                status="pending",
            )
            return 201, Envelope(
                success=True,
                message="Withdrawal request created.",
                data=transaction_out(request, withdrawal, user.id),
            )

        return idempotency.once(container.idempotency, request, user.id, data, command)

    @post(
        "/withdrawals/{withdrawal_id:uuid}/cancel/",
        status_code=200,
        operation_id="cancel_withdrawal",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel_withdrawal(self, request: Req, withdrawal_id: FromPath[UUID]) -> Envelope:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes() as written:
            container.payments.cancel_withdrawal(Actor.user(user.id), withdrawal_id)
        unless_caught_up(
            written,
            f"/api/v1/payments/transactions/{withdrawal_id}/",
            "Withdrawal cancelled.",
            id=withdrawal_id,
            status="cancelled",
        )
        return Envelope(
            success=True,
            message="Withdrawal cancelled.",
            data=transaction_out(request, withdrawal_id, user.id),
        )

    @post("/purchase/", operation_id="purchase", sync_to_thread=True, responses=ACCEPTED)
    def purchase(self, request: Req, data: JSONBody[PurchaseBody]) -> Response[Any]:
        user = authenticate(request)
        container = container_of(request)

        def command() -> tuple[int, Envelope]:
            with container.read_your_writes() as written:
                escrow = container.escrows.purchase(Actor.user(user.id), data.listing_id)
            message = "Purchase created. Payment held in escrow."
            unless_caught_up(written, escrow_location(escrow.id), message, **escrow_state(escrow))
            return 201, Envelope(
                success=True,
                message=message,
                data=escrow_out(request, escrow.id),
            )

        return idempotency.once(container.idempotency, request, user.id, data, command)

    @get("/transactions/", operation_id="transactions", sync_to_thread=True)
    def transactions(self, request: Req) -> Page[Transaction]:
        user = authenticate(request)
        w = window(request)
        with container_of(request).store.reader.connect() as conn:
            total, rows = q.transactions_of(conn, user.id, w.offset, w.limit)
        return page_of(request, w, total, [transaction_from_row(r) for r in rows])

    @get("/transactions/{row_id:uuid}/", operation_id="transaction", sync_to_thread=True)
    def transaction(self, request: Req, row_id: FromPath[UUID]) -> Transaction:
        return transaction_out(request, row_id, authenticate(request).id)

    # --- escrow -----------------------------------------------------------------------------
    @get("/escrow/{escrow_id:uuid}/", operation_id="escrow", sync_to_thread=True)
    def escrow(self, request: Req, escrow_id: FromPath[UUID]) -> Escrow:
        return visible_escrow(request, escrow_id, authenticate(request))

    @post(
        "/escrow/{escrow_id:uuid}/deliver/",
        status_code=200,
        operation_id="deliver",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def deliver(
        self,
        request: Req,
        escrow_id: FromPath[UUID],
        data: JSONBody[DeliverBody | None] = None,
    ) -> Envelope:
        user = authenticate(request)
        container = container_of(request)
        credentials = data.credentials() if data else None
        with container.read_your_writes() as written:
            escrow = container.escrows.deliver(Actor.user(user.id), escrow_id, credentials)
        message = "Account details delivered to the buyer."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True,
            message=message,
            data=escrow_out(request, escrow_id),
        )

    @get(
        "/escrow/{escrow_id:uuid}/credentials/",
        operation_id="escrow_credentials",
        sync_to_thread=True,
    )
    def credentials(self, request: Req, escrow_id: FromPath[UUID]) -> Envelope:
        user = authenticate(request)
        container = container_of(request)
        revealed = container.escrows.reveal_credentials(Actor.user(user.id), escrow_id)
        return Envelope(success=True, data=revealed)

    @post(
        "/escrow/{escrow_id:uuid}/confirm/",
        status_code=200,
        operation_id="confirm_escrow",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def confirm(self, request: Req, escrow_id: FromPath[UUID]) -> Envelope:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes() as written:
            escrow = container.escrows.confirm_purchase(Actor.user(user.id), escrow_id)
        message = "Delivery confirmed. Payment will be released to seller."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True,
            message=message,
            data=escrow_out(request, escrow_id),
        )

    @post(
        "/escrow/{escrow_id:uuid}/dispute/",
        status_code=200,
        operation_id="dispute_escrow",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def dispute(
        self, request: Req, escrow_id: FromPath[UUID], data: JSONBody[DisputeBody | None] = None
    ) -> Envelope:
        user = authenticate(request)
        container = container_of(request)
        reason = (data.reason or "") if data else ""
        with container.read_your_writes() as written:
            escrow = container.escrows.dispute(Actor.user(user.id), escrow_id, reason)
        message = "Dispute opened. Our team will review it."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True,
            message=message,
            data=escrow_out(request, escrow_id),
        )

    # --- providers --------------------------------------------------------------------------
    @post("/webhooks/{provider:str}/", operation_id="payment_webhook", opt={"raw_body": True})
    async def webhook(self, request: Req, provider: FromPath[str]) -> Response[Any]:
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER)
        webhooks = container_of(request).webhooks
        status, payload = await to_thread.run_sync(webhooks.handle, provider, body, signature)
        return Response(payload, status_code=status, media_type=MediaType.JSON)


class SandboxCheckoutController(Controller):
    """The sandbox provider's checkout page (development and demos; a real provider hosts its
    own). The link carries a token only its deposit's payer received."""

    path = "/api/v1/payments/sandbox/checkout"
    tags = ["payments"]
    include_in_schema = True

    @get("/{deposit_id:uuid}/", operation_id="sandbox_checkout_page", sync_to_thread=True)
    def page(
        self, request: Req, deposit_id: FromPath[UUID], token: FromQuery[str] = ""
    ) -> Response[str]:
        deposit = self._deposit(request, deposit_id, token)
        amount = html.escape(money(deposit.amount))
        body = CHECKOUT_PAGE.format(
            amount=amount, status=html.escape(deposit.status), deposit=deposit.id
        )
        return Response(body, media_type=MediaType.HTML)

    @post(
        "/{deposit_id:uuid}/", status_code=200, operation_id="sandbox_checkout", sync_to_thread=True
    )
    def answer(
        self,
        request: Req,
        deposit_id: FromPath[UUID],
        data: JSONBody[CheckoutBody],
        token: FromQuery[str] = "",
    ) -> Message:
        container = container_of(request)
        self._check_token(request, deposit_id, token)
        deposit = container.payments.awaiting_payment(deposit_id)
        provider = _sandbox(request)
        body, signature = provider.webhook(deposit, data.action == "confirm")
        with container.read_your_writes():
            container.send_webhook(provider.name, body, signature)
        done = "confirmed" if data.action == "confirm" else "cancelled"
        return Message(success=True, message=f"Payment {done}.")

    @staticmethod
    def _check_token(request: Req, deposit_id: UUID, token: str) -> None:
        if not token.isascii():  # a checkout token is hex: anything else is a malformed link
            raise ApiError(400, "INVALID", "Malformed checkout token.", {"token": ["Malformed."]})
        if not _sandbox(request).signer.check_token("checkout", deposit_id, token):
            raise ApiError(404, "NOT_FOUND", "Payment not found.")

    def _deposit(self, request: Req, deposit_id: UUID, token: str) -> DepositSummary:
        self._check_token(request, deposit_id, token)
        return container_of(request).payments.deposit_summary(deposit_id)


def _sandbox(request: Req) -> SandboxProvider:
    """The sandbox provider; its checkout pages do not exist where it is not configured."""
    provider = container_of(request).payment_provider
    if provider is None:
        raise ApiError(404, "NOT_FOUND", "Payment not found.")
    return provider


CHECKOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WibeStore sandbox checkout</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 3rem auto">
<h1>Sandbox payment</h1>
<p>Amount: <strong>{amount} UZS</strong> &middot; status: {status}</p>
<p>No money moves here: confirming sends the signed webhook a real provider would.</p>
<button onclick="answer('confirm')">Pay</button> <button onclick="answer('cancel')">Cancel</button>
<p id="result"></p>
<script>
async function answer(action) {{
  const r = await fetch(location.href, {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{action}})}});
  document.getElementById("result").textContent = (await r.json()).message
    || "Something went wrong";
}}
</script>
</body></html>
"""
