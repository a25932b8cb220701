"""Provider webhooks (CONTRACT §2.6 P10), verified, then turned into deposit commands.

The HTTP endpoint and the sandbox's own delivery both come through ``handle``, so a webhook is
checked the same way whoever sends it. Answers are (status, body) in the contract's shapes.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from adapters.sandbox import SIGNATURE_HEADER, Signer, WebhookRejected
from application.actor import Actor
from application.payments import Payments
from domain.deposit import DepositClosed
from domain.errors import DomainError, NotFound
from domain.money import parse_amount

log = structlog.get_logger(__name__)
PROVIDER = Actor.platform("payment-webhook")  # who acts on a verified webhook


class Webhooks:
    def __init__(self, payments: Payments, signer: Signer, providers: tuple[str, ...]) -> None:
        self.payments = payments
        self.signer = signer
        self.providers = providers  # the webhook paths this deployment answers
        self.signature_header = SIGNATURE_HEADER

    def handle(
        self, provider: str, body: bytes, signature: str | None
    ) -> tuple[int, dict[str, Any]]:
        if provider not in self.providers:
            return 400, {"error": f"Unknown payment provider: {provider}"}
        try:
            payload = self.signer.verify(body, signature)
            return self._apply(provider, payload)
        except WebhookRejected as e:
            log.warning("webhook.rejected", provider=provider, reason=e.message)
            return 400, {"error": e.message}
        except NotFound:
            return 404, {"status": "error", "message": "Transaction not found"}
        except DomainError as e:
            return 400, {"error": e.message}

    def _apply(self, provider: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw_id = payload.get("transaction_id") or payload.get("order_id") or payload.get("id")
        if not raw_id:
            return 200, {"status": "ok"}
        try:
            deposit_id = uuid.UUID(str(raw_id))
        except ValueError:
            raise NotFound("Transaction not found") from None
        deposit = self.payments.deposit(deposit_id)
        if deposit.provider != provider:
            raise WebhookRejected("This transaction belongs to another provider.")
        if "user_id" in payload and str(payload["user_id"]) != str(deposit.user_id):
            raise WebhookRejected("This transaction belongs to another user.")
        if "amount" in payload and parse_amount(payload["amount"], "amount") != deposit.amount:
            raise WebhookRejected("The amount does not match the transaction.")
        event = payload.get("event", "payment.completed")
        if event == "payment.cancelled":
            try:
                self.payments.cancel_deposit(PROVIDER, deposit_id, "Cancelled at the provider.")
            except DepositClosed as e:
                raise WebhookRejected(e.message) from None
            return 200, {"status": "ok", "message": "Payment cancelled"}
        if event != "payment.completed":
            raise WebhookRejected(f"Unknown event: {event}")
        reference = str(payload.get("provider_transaction_id") or "").strip()[:200]
        if not reference:  # the audit traces every credited deposit to the provider's payment
            raise WebhookRejected("Missing provider_transaction_id.")
        try:
            credited = self.payments.confirm_deposit(PROVIDER, deposit_id, reference)
        except DepositClosed as e:
            raise WebhookRejected(e.message) from None
        log.info("webhook.completed", provider=provider, deposit=str(deposit_id), credited=credited)
        return 200, {"status": "ok", "message": "Payment completed"}
