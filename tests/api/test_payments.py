"""CONTRACT §2.6, §2.7, §2.2 and §2.12 money endpoints, in the contract's shapes."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.sandbox import SIGNATURE_HEADER
from tests.api.conftest import error
from tests.api.test_listings import approved
from tests.conftest import FixedClock
from wibestore.container import Container

Client = TestClient[Any]


def deposit(client: Client, who: dict[str, str], amount: str = "500000", **headers: str) -> Any:
    return client.post(
        "/api/v1/payments/deposit/",
        headers={**who, **headers},
        json={"amount": amount, "payment_method": "visa"},
    )


def pay(client: Client, who: dict[str, str], amount: str = "500000") -> dict[str, Any]:
    """Deposit through the sandbox checkout: confirmed, the signed webhook credits it."""
    r = deposit(client, who, amount)
    assert r.status_code == 201, r.text
    url = urlsplit(r.json()["data"]["checkout_url"])
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and "Sandbox payment" in page.text
    answered = client.post(f"{url.path}?{url.query}", json={"action": "confirm"})
    assert answered.status_code == 200, answered.text
    return dict(r.json()["data"])


def balance(client: Client, who: dict[str, str]) -> str:
    r = client.get("/api/v1/payments/balance/", headers=who)
    assert r.status_code == 200
    return str(r.json()["data"]["balance"])


def signed(container: Container, payload: dict[str, Any], at: int | None = None) -> Any:
    body = json.dumps(payload).encode()
    return body, container.webhooks.signer.sign(body, at)


def test_a_sandbox_deposit_is_credited_by_its_signed_webhook_once(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    r = deposit(client, market["buyer"])
    assert r.status_code == 201
    body = r.json()
    assert body["success"] is True and body["message"] == "Deposit created. Awaiting payment."
    tx = body["data"]
    assert (tx["type"], tx["status"], tx["amount"], tx["currency"]) == (
        "deposit",
        "pending",
        "500000.00",
        "UZS",
    )
    assert tx["payment_method"]["code"] == "visa"
    assert balance(client, market["buyer"]) == "0.00"
    url = urlsplit(tx["checkout_url"])
    assert client.get(url.path).status_code == 404  # the link's token is required
    assert client.get(f"{url.path}?token=forged").status_code == 404
    assert client.post(f"{url.path}?{url.query}", json={"action": "confirm"}).status_code == 200
    assert balance(client, market["buyer"]) == "500000.00"
    again = client.post(f"{url.path}?{url.query}", json={"action": "confirm"})
    assert again.status_code == 409
    detail = client.get(f"/api/v1/payments/transactions/{tx['id']}/", headers=market["buyer"])
    assert detail.json()["status"] == "completed"
    assert detail.json()["provider_transaction_id"].startswith("sbx_")
    assert detail.json()["processed_at"] is not None

    # The same webhook delivered twice (a provider retry) credits once.
    payload = {
        "event": "payment.completed",
        "transaction_id": tx["id"],
        "amount": "500000",
        "provider_transaction_id": "sbx_retry",
    }
    raw, signature = signed(container, payload)
    for _ in range(2):
        r = client.post(
            "/api/v1/payments/webhooks/sandbox/",
            content=raw,
            headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
        )
        assert r.status_code == 200 and r.json() == {"status": "ok", "message": "Payment completed"}
    assert balance(client, market["buyer"]) == "500000.00"


def test_bad_webhooks_change_nothing(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    tx = deposit(client, market["buyer"]).json()["data"]
    good = {
        "event": "payment.completed",
        "transaction_id": tx["id"],
        "amount": "500000",
        "provider_transaction_id": "sbx_1",
    }
    raw, signature = signed(container, good)
    other_user = {**good, "user_id": "00000000-0000-0000-0000-000000000001"}
    stale_raw, stale_signature = signed(container, good, at=int(time.time()) - 3600)
    cases = [
        ("sandbox", raw, None, 400, "Missing signature."),
        ("sandbox", raw, "t=1,v1=00", 400, "Invalid signature."),
        ("sandbox", raw + b" ", signature, 400, "Invalid signature."),
        ("sandbox", stale_raw, stale_signature, 400, None),
        ("sandbox", *signed(container, {**good, "amount": "1"}), 400, None),
        ("sandbox", *signed(container, other_user), 400, None),
        (
            "sandbox",
            *signed(container, {**good, "provider_transaction_id": " "}),
            400,
            "Missing provider_transaction_id.",
        ),
        ("visa", raw, signature, 400, "This transaction belongs to another provider."),
        ("bitcoin", raw, signature, 400, "Unknown payment provider: bitcoin"),
    ]
    for provider, body, sig, status, message in cases:
        headers = {"Content-Type": "application/json"}
        if sig:
            headers[SIGNATURE_HEADER] = sig
        r = client.post(f"/api/v1/payments/webhooks/{provider}/", content=body, headers=headers)
        assert r.status_code == status, (provider, r.text)
        assert "error" in r.json()
        if message:
            assert r.json()["error"] == message
    unknown = {**good, "transaction_id": "9b2c1e0a-0000-4000-8000-000000000000"}
    r = client.post(
        "/api/v1/payments/webhooks/sandbox/",
        content=signed(container, unknown)[0],
        headers={SIGNATURE_HEADER: signed(container, unknown)[1]},
    )
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Transaction not found"}
    no_id = signed(container, {"event": "payment.completed"})
    r = client.post(
        "/api/v1/payments/webhooks/sandbox/", content=no_id[0], headers={SIGNATURE_HEADER: no_id[1]}
    )
    assert r.json() == {"status": "ok"}
    assert balance(client, market["buyer"]) == "0.00"
    status = client.get(f"/api/v1/payments/transactions/{tx['id']}/", headers=market["buyer"])
    assert status.json()["status"] == "pending"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("999.99", "The minimum deposit is 1000 UZS."),
        ("-5000", "The minimum deposit is 1000 UZS."),
        ("0", "The minimum deposit is 1000 UZS."),
        ("1000.001", "Ensure that there are no more than 2 decimal places."),
        ("abc", "A valid number is required."),
        ("1_000_000", "A valid number is required."),
        ("1e6", "A valid number is required."),
        ("10000000000000000", "Ensure that there are no more than 15 digits in total."),
    ],
)
def test_bad_deposit_amounts_are_refused_in_the_contract_shape(
    client: Client, market: dict[str, Any], amount: str, message: str
) -> None:
    r = deposit(client, market["buyer"], amount)
    assert r.status_code == 400
    body = error(r)
    assert body["details"] == {"amount": [message]}
    listed = client.get("/api/v1/payments/transactions/", headers=market["buyer"])
    assert listed.json()["count"] == 0


def test_withdrawals_are_approved_or_rejected_by_staff(
    client: Client, market: dict[str, Any]
) -> None:
    pay(client, market["seller"], "50000")
    too_much = client.post(
        "/api/v1/payments/withdraw/",
        headers=market["seller"],
        json={"amount": "60000", "payment_method": "visa"},
    )
    assert too_much.status_code == 402
    assert error(too_much)["message"] == "Insufficient balance for withdrawal."
    small = client.post(
        "/api/v1/payments/withdraw/", headers=market["seller"], json={"amount": "9999.99"}
    )
    assert small.status_code == 400 and "amount" in error(small)["details"]
    ids = []
    for _ in range(3):
        r = client.post(
            "/api/v1/payments/withdraw/",
            headers=market["seller"],
            json={"amount": "10000", "payment_method": "visa"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["message"] == "Withdrawal request created."
        assert (r.json()["data"]["type"], r.json()["data"]["status"]) == ("withdrawal", "pending")
        ids.append(r.json()["data"]["id"])
    assert balance(client, market["seller"]) == "20000.00"
    pending = client.get("/api/v1/admin-panel/withdrawals/", headers=market["staff"])
    assert pending.json()["count"] == 3
    assert pending.json()["results"][0]["user_email"] == "seller@example.uz"
    assert (
        client.get("/api/v1/admin-panel/withdrawals/", headers=market["buyer"]).status_code == 403
    )
    approve = f"/api/v1/admin-panel/withdrawals/{ids[0]}/approve/"
    assert client.post(approve, headers=market["buyer"]).status_code == 403
    r = client.post(approve, headers=market["staff"])
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"
    twice = client.post(approve, headers=market["staff"])
    assert twice.status_code == 400
    assert error(twice)["message"] == "Withdrawal not found or already processed."
    r = client.post(
        f"/api/v1/admin-panel/withdrawals/{ids[1]}/reject/",
        headers=market["staff"],
        json={"reason": "Card blocked"},
    )
    assert r.json()["data"]["status"] == "failed"
    stranger = client.post(
        f"/api/v1/payments/withdrawals/{ids[2]}/cancel/", headers=market["buyer"]
    )
    assert stranger.status_code == 404
    r = client.post(f"/api/v1/payments/withdrawals/{ids[2]}/cancel/", headers=market["seller"])
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    assert balance(client, market["seller"]) == "40000.00"
    ledger = client.get("/api/v1/admin-panel/transactions/", headers=market["staff"])
    assert ledger.json()["count"] == 4


def test_a_purchase_through_escrow_from_buy_to_release(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    listing = approved(client, market, account_email="acc@game.uz", account_password="hunter2")
    poor = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    )
    assert poor.status_code == 402
    assert error(poor)["code"] == "INSUFFICIENT_FUNDS"
    pay(client, market["buyer"], "2000000")
    own = client.post(
        "/api/v1/payments/purchase/", headers=market["seller"], json={"listing_id": listing}
    )
    assert own.status_code == 400
    assert error(own)["message"] == "You cannot buy your own listing."
    r = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    )
    assert r.status_code == 201, r.text
    assert r.json()["message"] == "Purchase created. Payment held in escrow."
    escrow = r.json()["data"]
    assert escrow["status"] == "paid" and escrow["chat_room_id"]
    assert (escrow["amount"], escrow["commission_amount"], escrow["seller_earnings"]) == (
        "1500000.00",
        "150000.00",
        "1350000.00",
    )
    assert escrow["listing"] == listing and escrow["seller_name"] == "Sam Seller"
    again = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    )
    assert again.status_code == 409
    assert balance(client, market["buyer"]) == "500000.00"
    base = f"/api/v1/payments/escrow/{escrow['id']}"
    assert client.get(f"{base}/credentials/", headers=market["buyer"]).status_code == 400
    assert client.post(f"{base}/deliver/", headers=market["buyer"]).status_code == 404
    r = client.post(f"{base}/deliver/", headers=market["seller"])
    assert r.status_code == 200 and r.json()["data"]["status"] == "delivered"
    assert client.post(f"{base}/deliver/", headers=market["seller"]).status_code == 400
    revealed = client.get(f"{base}/credentials/", headers=market["buyer"])
    assert revealed.json()["data"] == {
        "account_email": "acc@game.uz",
        "account_password": "hunter2",
    }
    assert client.get(f"{base}/credentials/", headers=market["seller"]).status_code == 404
    assert client.get(f"{base}/credentials/", headers=market["staff"]).status_code == 200
    assert client.post(f"{base}/confirm/", headers=market["seller"]).status_code == 404
    r = client.post(f"{base}/confirm/", headers=market["buyer"])
    assert r.status_code == 200
    assert r.json()["message"] == "Delivery confirmed. Payment will be released to seller."
    assert r.json()["data"]["status"] == "confirmed"
    assert r.json()["data"]["seller_paid_at"] is not None
    assert (
        client.post(f"{base}/dispute/", headers=market["buyer"], json={"reason": "x"}).status_code
        == 400
    )
    assert balance(client, market["seller"]) == "1350000.00"
    purchases = client.get("/api/v1/profile/purchases/", headers=market["buyer"]).json()
    row = purchases["results"][0]
    assert (row["title"], row["price"], row["listing"]["id"]) == (
        "Conqueror account, level 80",
        "1500000.00",
        listing,
    )
    assert row["listing"]["status"] == "sold"
    sales = client.get("/api/v1/profile/sales/", headers=market["seller"]).json()
    assert sales["count"] == 1
    dashboard = client.get("/api/v1/profile/dashboard/", headers=market["seller"]).json()
    assert dashboard == {
        "active_listings": 0,
        "sold_listings": 1,
        "total_views": 0,
        "total_sales_count": 1,
        "total_sales_amount": "1350000.00",
        "conversion": 0,
    }
    me = client.get("/api/v1/auth/me/", headers=market["seller"]).json()
    assert (me["balance"], me["total_sales"]) == ("1350000.00", 1)
    kinds = {
        (t["type"], t["status"])
        for t in client.get("/api/v1/payments/transactions/", headers=market["buyer"]).json()[
            "results"
        ]
    }
    assert kinds == {("deposit", "completed"), ("purchase", "completed")}


def test_disputes_are_resolved_by_staff(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    pay(client, market["buyer"], "4000000")
    escrows = []
    for n in range(2):
        listing = approved(client, market, title=f"Account {n}")
        r = client.post(
            "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
        )
        escrows.append(r.json()["data"]["id"])
    missing = client.post(
        f"/api/v1/payments/escrow/{escrows[0]}/dispute/", headers=market["buyer"], json={}
    )
    assert missing.status_code == 400
    assert error(missing)["message"] == "Dispute reason is required."
    for escrow in escrows:
        r = client.post(
            f"/api/v1/payments/escrow/{escrow}/dispute/",
            headers=market["buyer"],
            json={"reason": "Seller went silent"},
        )
        assert r.status_code == 200 and r.json()["data"]["status"] == "disputed"
        assert r.json()["message"] == "Dispute opened. Our team will review it."
    listed = client.get("/api/v1/admin-panel/disputes/", headers=market["staff"]).json()
    assert listed["count"] == 2 and listed["results"][0]["dispute_reason"] == "Seller went silent"
    resolve = "/api/v1/admin-panel/disputes/{}/resolve/"
    bad = client.post(resolve.format(escrows[0]), headers=market["staff"], json={"action": "keep"})
    assert bad.status_code == 400 and error(bad)["message"] == "Invalid action."
    r = client.post(
        resolve.format(escrows[0]),
        headers=market["staff"],
        json={"action": "refund", "resolution": "No delivery"},
    )
    assert r.json() == {"success": True, "message": "Dispute refunded."}
    r = client.post(resolve.format(escrows[1]), headers=market["staff"], json={"action": "release"})
    assert r.json() == {"success": True, "message": "Dispute released."}
    gone = client.post(
        resolve.format(escrows[0]), headers=market["staff"], json={"action": "refund"}
    )
    assert gone.status_code == 404 and error(gone)["message"] == "Dispute not found."
    assert client.get("/api/v1/admin-panel/disputes/", headers=market["buyer"]).status_code == 403
    refunded = client.get(f"/api/v1/payments/escrow/{escrows[0]}/", headers=market["buyer"]).json()
    assert (refunded["status"], refunded["dispute_resolution"]) == ("refunded", "No delivery")
    assert balance(client, market["buyer"]) == "2500000.00"


def test_idempotency_keys_replay_refuse_other_bodies_and_scope_per_user(
    client: Client, market: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "dep-1"}
    first = deposit(client, market["buyer"], "5000", **key)
    second = deposit(client, market["buyer"], "5000", **key)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["Idempotent-Replayed"] == "true"
    other = deposit(client, market["buyer"], "6000", **key)
    assert other.status_code == 422
    assert error(other)["code"] == "IDEMPOTENCY_KEY_REUSED"
    theirs = deposit(client, market["seller"], "5000", **key)  # keys are per user
    assert theirs.status_code == 201 and theirs.json()["data"]["id"] != first.json()["data"]["id"]
    refused = deposit(client, market["buyer"], "1", **{"Idempotency-Key": "dep-2"})
    replayed = deposit(client, market["buyer"], "1", **{"Idempotency-Key": "dep-2"})
    assert refused.status_code == replayed.status_code == 400
    listed = client.get("/api/v1/payments/transactions/", headers=market["buyer"]).json()
    assert listed["count"] == 1


def test_a_purchase_retried_with_its_key_buys_once_and_the_key_buys_nothing_else(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    pay(client, market["buyer"], "4000000")
    first_listing, other_listing = approved(client, market), approved(client, market)
    key = {**market["buyer"], "Idempotency-Key": "buy-1"}

    def buy(listing: str) -> Any:
        return client.post("/api/v1/payments/purchase/", headers=key, json={"listing_id": listing})

    first = buy(first_listing)
    assert first.status_code == 201, first.text
    retried = buy(first_listing)
    assert (retried.status_code, retried.content) == (201, first.content)
    assert retried.headers["Idempotent-Replayed"] == "true"
    reused = buy(other_listing)
    assert reused.status_code == 422
    assert error(reused)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert balance(client, market["buyer"]) == "2500000.00"  # one price held, not two
    opened = [
        n
        for n in container.app.recorder.select_notifications(start=1, limit=10_000)
        if n.topic == "domain.escrow:Escrow.Opened"
    ]
    assert len(opened) == 1
    assert container.listings.listing(UUID(other_listing)).status == "active"


def test_subscriptions_are_bought_from_the_wallet_and_cancelled(
    client: Client, market: dict[str, Any], container: Container, clock: FixedClock
) -> None:
    plans = client.get("/api/v1/subscriptions/plans/").json()
    assert [p["slug"] for p in plans["results"]] == ["free", "premium", "pro"]
    premium = plans["results"][1]
    assert (premium["price_monthly"], premium["price_yearly"], premium["commission_rate"]) == (
        "50000.00",
        "600000.00",
        "0.08",
    )
    mine = client.get("/api/v1/subscriptions/my/", headers=market["seller"]).json()
    assert mine == {"success": True, "data": None, "plan": "free"}
    short = client.post(
        "/api/v1/subscriptions/purchase/", headers=market["seller"], json={"plan_slug": "pro"}
    )
    assert short.status_code == 402
    pay(client, market["seller"], "200000")
    unknown = client.post(
        "/api/v1/subscriptions/purchase/", headers=market["seller"], json={"plan_slug": "gold"}
    )
    assert (
        unknown.status_code == 404 and error(unknown)["message"] == "Subscription plan not found."
    )
    r = client.post(
        "/api/v1/subscriptions/purchase/", headers=market["seller"], json={"plan_id": premium["id"]}
    )
    assert r.status_code == 201, r.text
    sub = r.json()["data"]
    assert r.json()["message"] == "Subscription purchased successfully!"
    assert (sub["status"], sub["plan"]["slug"], sub["auto_renew"], sub["is_expired"]) == (
        "active",
        "premium",
        True,
        False,
    )
    me = client.get("/api/v1/auth/me/", headers=market["seller"]).json()
    assert (me["plan"], me["is_premium"], me["is_pro"], me["balance"]) == (
        "premium",
        True,
        False,
        "150000.00",
    )
    stranger = client.post(f"/api/v1/subscriptions/{sub['id']}/cancel/", headers=market["buyer"])
    assert stranger.status_code == 404
    r = client.post(f"/api/v1/subscriptions/{sub['id']}/cancel/", headers=market["seller"])
    assert r.status_code == 200
    assert r.json()["message"] == "Subscription cancelled. You can still use it until the end date."
    assert (r.json()["data"]["status"], r.json()["data"]["auto_renew"]) == ("cancelled", False)
    again = client.post("/api/v1/subscriptions/cancel/", headers=market["seller"])
    assert again.status_code == 400 and error(again)["message"] == "No active subscription found."
    still = client.get("/api/v1/subscriptions/my/", headers=market["seller"]).json()
    assert still["plan"] == "premium"
    listing = approved(client, market)
    pay(client, market["buyer"], "2000000")
    r = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    )
    assert r.json()["data"]["commission_amount"] == "120000.00"  # 8 %


def test_a_retry_while_the_first_request_runs_answers_409(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    """Another worker holds the key (its request is still running): the retry must wait."""
    from api.idempotency import IN_FLIGHT_SECONDS, fingerprint_of
    from api.money_schemas import DepositBody

    me = client.get("/api/v1/auth/me/", headers=market["buyer"]).json()
    body = DepositBody(amount="5000", payment_method="visa")
    record = {"fp": fingerprint_of("POST", "/api/v1/payments/deposit/", body)}
    container.idempotency.claim(
        f"idempotency:{me['id']}:slow-1", json.dumps(record), IN_FLIGHT_SECONDS
    )
    r = deposit(client, market["buyer"], "5000", **{"Idempotency-Key": "slow-1"})
    assert r.status_code == 409
    assert error(r)["code"] == "IDEMPOTENCY_IN_PROGRESS"
    listed = client.get("/api/v1/payments/transactions/", headers=market["buyer"]).json()
    assert listed["count"] == 0


def test_the_beat_timers_refund_and_release_due_escrows(
    client: Client, market: dict[str, Any], container: Container, clock: FixedClock
) -> None:
    from workers import tasks

    tasks.use_container(container)

    pay(client, market["buyer"], "4000000")
    escrows = []
    for n in range(2):
        listing = approved(
            client, market, title=f"Account {n}", account_email="a@b.uz", account_password="p"
        )
        r = client.post(
            "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
        )
        escrows.append(r.json()["data"]["id"])
    client.post(f"/api/v1/payments/escrow/{escrows[1]}/deliver/", headers=market["seller"])
    assert tasks.run_escrow_timers() == {}
    clock.advance(hours=24, minutes=1)
    assert tasks.run_escrow_timers() == {"refunded": 1, "confirmed": 1}
    assert tasks.run_escrow_timers() == {}
    assert container.board.wait_for(container.app.recorder.max_notification_id() or 0, 10)
    settled = [
        client.get(f"/api/v1/payments/escrow/{e}/", headers=market["buyer"]).json()["status"]
        for e in escrows
    ]
    assert settled == ["refunded", "confirmed"]
