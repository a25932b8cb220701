"""The sandbox payment provider we ship (the PaymentProvider port, application/ports.py).

A provider takes the payer to a checkout page and later reports the outcome with a webhook.
Our webhooks are signed like Stripe's: header ``X-Signature: t=<unix time>,v1=<hex>``, where
the hex is HMAC-SHA256(secret, "<t>.<raw body>"). A webhook with a missing or wrong signature,
or one older than the tolerance (a replay), is refused before its body is even read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from uuid import UUID

from application.ports import PayableDeposit
from domain.errors import DomainError
from domain.money import format_amount

SIGNATURE_HEADER = "X-Signature"
TOLERANCE_SECONDS = 300
CARD_PROVIDERS = ("google_pay", "visa", "mastercard", "apple_pay")
PROVIDERS = ("sandbox", *CARD_PROVIDERS)


class WebhookRejected(DomainError):
    """A webhook we will not act on; answered 400 ``{"error": message}``."""


class Signer:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self._key = secret.encode()

    def sign(self, body: bytes, at: int | None = None) -> str:
        t = int(time.time()) if at is None else at
        digest = hmac.new(self._key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    def verify(self, body: bytes, header: str | None, now: float | None = None) -> dict[str, Any]:
        """The webhook's JSON payload, once its signature and age check out."""
        if not header:
            raise WebhookRejected("Missing signature.")
        if not header.isascii():  # a signature is "t=<digits>,v1=<hex>": nothing else is one
            raise WebhookRejected("Malformed signature.")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            t = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise WebhookRejected("Malformed signature.") from None
        expected = hmac.new(self._key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookRejected("Invalid signature.")
        if abs((time.time() if now is None else now) - t) > TOLERANCE_SECONDS:
            raise WebhookRejected("Webhook timestamp outside the tolerance (replayed?).")
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookRejected("The body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookRejected("The body is not a JSON object.")
        return payload

    def token(self, purpose: str, subject: UUID) -> str:
        """A short capability token (the sandbox checkout link carries one)."""
        return hmac.new(self._key, f"{purpose}:{subject}".encode(), hashlib.sha256).hexdigest()[:32]

    def check_token(self, purpose: str, subject: UUID, token: str) -> bool:
        """Bytes are compared: ``compare_digest`` refuses a str with non-ASCII in it."""
        if not token.isascii():
            return False
        return hmac.compare_digest(self.token(purpose, subject).encode(), token.encode())


class SandboxProvider:
    """A provider for development, demos and tests: its checkout page is served by our API
    (GET shows it, POST ``{"action": "confirm"|"cancel"}`` answers it) and it reports the
    outcome with a webhook signed exactly as a real provider's would be."""

    name = "sandbox"

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def checkout_url(self, deposit: PayableDeposit, base_url: str) -> str:
        token = self.signer.token("checkout", deposit.id)
        return (
            f"{base_url.rstrip('/')}/api/v1/payments/sandbox/checkout/{deposit.id}/?token={token}"
        )

    def opens_checkout(self, deposit_id: UUID, token: str) -> bool:
        return self.signer.check_token("checkout", deposit_id, token)

    def webhook(self, deposit: PayableDeposit, confirmed: bool) -> tuple[bytes, str]:
        """The provider's report of the payer's choice: (raw body, signature header)."""
        body = json.dumps(
            {
                "event": "payment.completed" if confirmed else "payment.cancelled",
                "transaction_id": str(deposit.id),
                "provider_transaction_id": f"sbx_{uuid.uuid4().hex[:20]}",
                "amount": format_amount(deposit.amount),
                "currency": "UZS",
                "user_id": str(deposit.user_id),
            }
        ).encode()
        return body, self.signer.sign(body)
