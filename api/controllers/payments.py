"""CONTRACT §2.6: wallet balance, deposits through a provider, withdrawals, purchases through
escrow and the escrow's life, transactions, provider webhooks and the sandbox checkout.

Who may do what is the application's to decide (application/payments.py, escrows.py); who
may see an escrow or a transaction is the domain's rule (``check_visible_to``,
``check_record_owner``), applied here to the read model's row."""

from __future__ import annotations

import html
from typing import Any
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.dependencies import Caller, Inject, ReadYourWrites, SendWebhook, signed_in
from api.errors import ApiError
from api.idempotency import once
from api.money_schemas import (
    METHODS,
    Balance,
    CheckoutBody,
    DeliverBody,
    DeliveredAccount,
    DepositBody,
    DisputeBody,
    Envelope,
    Escrow,
    PaymentMethod,
    PurchaseBody,
    Transaction,
    WebhookAnswer,
    WithdrawBody,
    escrow_from_row,
    transaction_from_deposit,
    transaction_from_row,
)
from api.pagination import Page, page_of, window
from api.schemas import Message
from application.actor import Actor
from application.escrows import Escrows, EscrowState
from application.payments import Payments
from application.ports import IdempotencyRecords as IdempotencyStore
from application.ports import ProviderWebhooks, SandboxCheckout
from domain.escrow import check_visible_to
from domain.money import format_amount, parse_amount
from domain.wallet import NotYourTransaction, check_record_owner
from projections import escrows as escrow_views
from projections import transactions as transaction_views
from projections import wallets as wallet_views

Req = Request[Any, Any, Any]
SIGNED_IN = [signed_in]


def transaction_location(row_id: UUID) -> str:
    return f"/api/v1/payments/transactions/{row_id}/"


def escrow_location(escrow_id: UUID) -> str:
    return f"/api/v1/payments/escrow/{escrow_id}/"


def escrow_state(escrow: EscrowState) -> dict[str, Any]:
    """What a 202 Accepted tells of an escrow: what its command saved, nothing read."""
    return {"id": escrow.id, "status": escrow.status, "listing": escrow.listing_id}


def caller_transaction(reader: Engine, caller_id: UUID, row_id: UUID) -> Transaction:
    """One of the caller's transactions; anyone else's is not found."""
    with reader.connect() as conn:
        row = transaction_views.transaction(conn, row_id)
    if row is None:
        raise NotYourTransaction
    check_record_owner(caller_id, row.user_id)
    return transaction_from_row(row)


def escrow_row(reader: Engine, escrow_id: UUID) -> Any:
    with reader.connect() as conn:
        row = escrow_views.escrow(conn, escrow_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Escrow not found.")
    return row


class PaymentsController(Controller):
    path = "/api/v1/payments"
    tags = ["payments"]

    @get("/balance/", operation_id="balance", guards=SIGNED_IN, sync_to_thread=True)
    def balance(self, caller: Inject[Caller], reader: Inject[Engine]) -> Envelope[Balance]:
        with reader.connect() as conn:
            available, held, pending = wallet_views.balance(conn, caller.id)
        return Envelope(
            success=True,
            data=Balance(
                balance=format_amount(available),
                currency="UZS",
                held=format_amount(held),
                pending_withdrawal=format_amount(pending),
            ),
        )

    @get("/methods/", operation_id="payment_methods", sync_to_thread=False)
    def methods(self, request: Req) -> Page[PaymentMethod]:
        methods = list(METHODS.values())
        return page_of(request, window(request), len(methods), methods)

    @post("/deposit/", operation_id="deposit", guards=SIGNED_IN, sync_to_thread=True)
    def deposit(
        self,
        request: Req,
        caller: Inject[Caller],
        payments: Inject[Payments],
        payment_provider: Inject[SandboxCheckout | None],
        idempotency: Inject[IdempotencyStore],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[DepositBody],
    ) -> Response[Envelope[Transaction]]:
        provider = payment_provider
        if provider is None:
            raise ApiError(
                503,
                "PAYMENTS_UNAVAILABLE",
                "Deposits are not available: no payment provider is configured.",
            )

        def command() -> tuple[int, Envelope[Transaction]]:
            amount = parse_amount(data.amount, "amount")
            with read_your_writes() as written:
                deposit = payments.request_deposit(
                    caller.actor, amount, data.payment_method, provider.name
                )
            url = provider.checkout_url(deposit, str(request.base_url))
            row = None
            if written.caught_up:
                with reader.connect() as conn:
                    row = transaction_views.transaction(conn, deposit.id)
            return 201, Envelope(
                success=True,
                message="Deposit created. Awaiting payment.",
                data=transaction_from_row(row, checkout_url=url)
                if row is not None
                else transaction_from_deposit(deposit, checkout_url=url),
            )

        return once(idempotency, request, caller.id, data, command)

    @post(
        "/withdraw/",
        operation_id="withdraw",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def withdraw(
        self,
        request: Req,
        caller: Inject[Caller],
        payments: Inject[Payments],
        idempotency: Inject[IdempotencyStore],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[WithdrawBody],
    ) -> Response[Envelope[Transaction]]:
        def command() -> tuple[int, Envelope[Transaction]]:
            amount = parse_amount(data.amount, "amount")
            with read_your_writes() as written:
                withdrawal = payments.request_withdrawal(caller.actor, amount, data.payment_method)
            unless_caught_up(
                written,
                transaction_location(withdrawal),
                "Withdrawal request created.",
                id=withdrawal,
                status="pending",
            )
            return 201, Envelope(
                success=True,
                message="Withdrawal request created.",
                data=caller_transaction(reader, caller.id, withdrawal),
            )

        return once(idempotency, request, caller.id, data, command)

    @post(
        "/withdrawals/{withdrawal_id:uuid}/cancel/",
        status_code=200,
        operation_id="cancel_withdrawal",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel_withdrawal(
        self,
        caller: Inject[Caller],
        payments: Inject[Payments],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        withdrawal_id: FromPath[UUID],
    ) -> Envelope[Transaction]:
        with read_your_writes() as written:
            payments.cancel_withdrawal(caller.actor, withdrawal_id)
        unless_caught_up(
            written,
            transaction_location(withdrawal_id),
            "Withdrawal cancelled.",
            id=withdrawal_id,
            status="cancelled",
        )
        return Envelope(
            success=True,
            message="Withdrawal cancelled.",
            data=caller_transaction(reader, caller.id, withdrawal_id),
        )

    @post(
        "/purchase/",
        operation_id="purchase",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def purchase(
        self,
        request: Req,
        caller: Inject[Caller],
        escrows: Inject[Escrows],
        idempotency: Inject[IdempotencyStore],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[PurchaseBody],
    ) -> Response[Envelope[Escrow]]:
        def command() -> tuple[int, Envelope[Escrow]]:
            with read_your_writes() as written:
                escrow = escrows.purchase(caller.actor, data.listing_id)
            message = "Purchase created. Payment held in escrow."
            unless_caught_up(written, escrow_location(escrow.id), message, **escrow_state(escrow))
            return 201, Envelope(
                success=True,
                message=message,
                data=escrow_from_row(escrow_row(reader, escrow.id)),
            )

        return once(idempotency, request, caller.id, data, command)

    @get("/transactions/", operation_id="transactions", guards=SIGNED_IN, sync_to_thread=True)
    def transactions(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Transaction]:
        w = window(request)
        with reader.connect() as conn:
            total, rows = transaction_views.transactions_of(conn, caller.id, w.offset, w.limit)
        return page_of(request, w, total, [transaction_from_row(r) for r in rows])

    @get(
        "/transactions/{row_id:uuid}/",
        operation_id="transaction",
        guards=SIGNED_IN,
        sync_to_thread=True,
    )
    def transaction(
        self, caller: Inject[Caller], reader: Inject[Engine], row_id: FromPath[UUID]
    ) -> Transaction:
        return caller_transaction(reader, caller.id, row_id)

    # --- escrow -----------------------------------------------------------------------------
    @get("/escrow/{escrow_id:uuid}/", operation_id="escrow", guards=SIGNED_IN, sync_to_thread=True)
    def escrow(
        self, caller: Inject[Caller], reader: Inject[Engine], escrow_id: FromPath[UUID]
    ) -> Escrow:
        row = escrow_row(reader, escrow_id)
        check_visible_to(caller.id, row.buyer_id, row.seller_id, staff=caller.is_staff)
        return escrow_from_row(row)

    @post(
        "/escrow/{escrow_id:uuid}/deliver/",
        status_code=200,
        operation_id="deliver",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def deliver(
        self,
        actor: Inject[Actor],
        escrows: Inject[Escrows],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        escrow_id: FromPath[UUID],
        data: JSONBody[DeliverBody | None] = None,
    ) -> Envelope[Escrow]:
        credentials = data.credentials() if data else None
        with read_your_writes() as written:
            escrow = escrows.deliver(actor, escrow_id, credentials)
        message = "Account details delivered to the buyer."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True, message=message, data=escrow_from_row(escrow_row(reader, escrow_id))
        )

    @get(
        "/escrow/{escrow_id:uuid}/credentials/",
        operation_id="escrow_credentials",
        guards=SIGNED_IN,
        sync_to_thread=True,
    )
    def credentials(
        self, actor: Inject[Actor], escrows: Inject[Escrows], escrow_id: FromPath[UUID]
    ) -> Envelope[DeliveredAccount]:
        revealed = escrows.reveal_credentials(actor, escrow_id)
        return Envelope(success=True, data=msgspec.convert(revealed, DeliveredAccount))

    @post(
        "/escrow/{escrow_id:uuid}/confirm/",
        status_code=200,
        operation_id="confirm_escrow",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def confirm(
        self,
        actor: Inject[Actor],
        escrows: Inject[Escrows],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        escrow_id: FromPath[UUID],
    ) -> Envelope[Escrow]:
        with read_your_writes() as written:
            escrow = escrows.confirm_purchase(actor, escrow_id)
        message = "Delivery confirmed. Payment will be released to seller."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True, message=message, data=escrow_from_row(escrow_row(reader, escrow_id))
        )

    @post(
        "/escrow/{escrow_id:uuid}/dispute/",
        status_code=200,
        operation_id="dispute_escrow",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def dispute(
        self,
        actor: Inject[Actor],
        escrows: Inject[Escrows],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        escrow_id: FromPath[UUID],
        data: JSONBody[DisputeBody | None] = None,
    ) -> Envelope[Escrow]:
        reason = (data.reason or "") if data else ""
        with read_your_writes() as written:
            escrow = escrows.dispute(actor, escrow_id, reason)
        message = "Dispute opened. Our team will review it."
        unless_caught_up(written, escrow_location(escrow_id), message, **escrow_state(escrow))
        return Envelope(
            success=True, message=message, data=escrow_from_row(escrow_row(reader, escrow_id))
        )

    # --- providers --------------------------------------------------------------------------
    @post(
        "/webhooks/{provider:str}/",
        status_code=200,
        operation_id="payment_webhook",
        opt={"raw_body": True},
    )
    async def webhook(
        self, request: Req, webhooks: Inject[ProviderWebhooks], provider: FromPath[str]
    ) -> Response[WebhookAnswer]:
        """The provider's report, in the provider's shapes (CONTRACT §2.6 P10)."""
        body = await request.body()
        signature = request.headers.get(webhooks.signature_header)
        status, answer = await to_thread.run_sync(webhooks.handle, provider, body, signature)
        return Response(WebhookAnswer(**answer), status_code=status, media_type=MediaType.JSON)


def opened_checkout(
    provider: SandboxCheckout | None, deposit_id: UUID, token: str
) -> SandboxCheckout:
    """The sandbox provider, once the link's token opens this deposit's checkout. Its pages do
    not exist where it is not configured."""
    if not token.isascii():  # a checkout token is hex: anything else is a malformed link
        raise ApiError(400, "INVALID", "Malformed checkout token.", {"token": ["Malformed."]})
    if provider is None or not provider.opens_checkout(deposit_id, token):
        raise ApiError(404, "NOT_FOUND", "Payment not found.")
    return provider


class SandboxCheckoutController(Controller):
    """The sandbox provider's checkout page (development and demos; a real provider hosts its
    own). The link carries a token only its deposit's payer received."""

    path = "/api/v1/payments/sandbox/checkout"
    tags = ["payments"]
    include_in_schema = True

    @get("/{deposit_id:uuid}/", operation_id="sandbox_checkout_page", sync_to_thread=True)
    def page(
        self,
        payments: Inject[Payments],
        payment_provider: Inject[SandboxCheckout | None],
        deposit_id: FromPath[UUID],
        token: FromQuery[str] = "",
    ) -> Response[str]:
        opened_checkout(payment_provider, deposit_id, token)
        deposit = payments.deposit_summary(deposit_id)
        amount = html.escape(format_amount(deposit.amount))
        body = CHECKOUT_PAGE.format(
            amount=amount, status=html.escape(deposit.status), deposit=deposit.id
        )
        return Response(body, media_type=MediaType.HTML)

    @post(
        "/{deposit_id:uuid}/", status_code=200, operation_id="sandbox_checkout", sync_to_thread=True
    )
    def answer(
        self,
        payments: Inject[Payments],
        payment_provider: Inject[SandboxCheckout | None],
        send_webhook: Inject[SendWebhook],
        read_your_writes: Inject[ReadYourWrites],
        deposit_id: FromPath[UUID],
        data: JSONBody[CheckoutBody],
        token: FromQuery[str] = "",
    ) -> Message:
        provider = opened_checkout(payment_provider, deposit_id, token)
        deposit = payments.awaiting_payment(deposit_id)
        body, signature = provider.webhook(deposit, data.action == "confirm")
        with read_your_writes():
            send_webhook(provider.name, body, signature)
        done = "confirmed" if data.action == "confirm" else "cancelled"
        return Message(success=True, message=f"Payment {done}.")


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
