"""Secrets compared in constant time are compared as bytes: non-ASCII in a checkout token or
a webhook signature is a bad request, never a 500 (``hmac.compare_digest`` raises TypeError
on a str with non-ASCII characters)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from litestar.testing import TestClient

from adapters.sandbox import SIGNATURE_HEADER
from tests.api.conftest import error
from tests.api.test_payments import deposit
from wibestore.container import Container

Client = TestClient[Any]
NON_ASCII = ["é", "ПАРОЛЬ", "a" * 31 + "ß", "\u00ff" * 32, "\U0001f600"]


def test_a_checkout_token_with_non_ascii_characters_is_a_bad_request(
    client: Client, market: dict[str, Any]
) -> None:
    tx = deposit(client, market["buyer"]).json()["data"]
    path = urlsplit(tx["checkout_url"]).path
    for token in NON_ASCII:
        page = client.get(f"{path}?token={quote(token)}")
        assert page.status_code == 400, (token, page.text)
        assert error(page)["code"] == "INVALID"
        answer = client.post(f"{path}?token={quote(token)}", json={"action": "confirm"})
        assert answer.status_code == 400, (token, answer.text)
        assert error(answer)["code"] == "INVALID"
    status = client.get(f"/api/v1/payments/transactions/{tx['id']}/", headers=market["buyer"])
    assert status.json()["status"] == "pending"


def test_a_webhook_signature_with_non_ascii_characters_is_rejected(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    tx = deposit(client, market["buyer"]).json()["data"]
    body = json.dumps(
        {"event": "payment.completed", "transaction_id": tx["id"], "amount": "500000"}
    ).encode()
    good = container.webhooks.signer.sign(body)
    t = good.split(",")[0]
    for junk in NON_ASCII:
        for signature in (f"{t},v1={junk}", f"{good}{junk}", f"t=1{junk},v1=00"):
            r = client.post(
                "/api/v1/payments/webhooks/sandbox/",
                content=body,
                headers={
                    SIGNATURE_HEADER.encode(): signature.encode(),
                    b"Content-Type": b"application/json",
                },
            )
            assert r.status_code == 400, (signature, r.text)
            assert r.json() == {"error": "Malformed signature."}
    status = client.get(f"/api/v1/payments/transactions/{tx['id']}/", headers=market["buyer"])
    assert status.json()["status"] == "pending"
