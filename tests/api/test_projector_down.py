"""With the projectors stopped, a committed command still answers success: from what it saved,
or 202 Accepted with the id and a Location to poll (api/accepted.py), never an error."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from projections.sessions import revoked_sessions
from tests.api.conftest import PASSWORD, bearer
from tests.api.test_listings import NEW, approved
from tests.api.test_payments import pay
from tests.conftest import BOT_SECRET
from tests.rebuild import assert_read_models_equal_a_rebuild
from wibestore.container import Container

Client = TestClient[Any]
SHORT_WAIT = 0.2


@pytest.fixture
def stop_projectors(container: Container) -> Any:
    """Stop the projector threads and shorten the read-your-writes wait; call it when the
    market is set up."""

    def stop() -> None:
        container.stop_projectors()
        container.read_your_writes.timeout = SHORT_WAIT

    return stop


def caught_up(container: Container) -> None:
    for runner in container.runners:
        runner.catch_up()


def accepted(r: Any, location_prefix: str) -> dict[str, Any]:
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["success"] is True and body["message"]
    assert r.headers["location"] == f"{location_prefix}{body['data'].get('id', '')}/"
    return dict(body["data"])


def test_a_deposit_while_the_projector_is_down_answers_its_transaction_and_checkout_link(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    r = client.post(
        "/api/v1/payments/deposit/",
        headers=market["buyer"],
        json={"amount": "500000", "payment_method": "visa"},
    )
    assert r.status_code == 201, r.text
    tx = r.json()["data"]
    assert (tx["type"], tx["status"], tx["amount"], tx["description"]) == (
        "deposit",
        "pending",
        "500000.00",
        "Deposit via visa",
    )
    assert tx["payment_method"]["code"] == "visa" and tx["created_at"]
    url = urlsplit(tx["checkout_url"])
    assert client.post(f"{url.path}?{url.query}", json={"action": "confirm"}).status_code == 200
    caught_up(container)
    projected = client.get(f"/api/v1/payments/transactions/{tx['id']}/", headers=market["buyer"])
    assert projected.json()["created_at"] == tx["created_at"]
    assert projected.json()["status"] == "completed"


def test_purchase_deliver_and_confirm_while_the_projector_is_down_are_accepted(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    pay(client, market["buyer"], "2000000")
    listing_id = approved(client, market)
    stop_projectors()
    purchase = client.post(
        "/api/v1/payments/purchase/",
        headers={**market["buyer"], "Idempotency-Key": "buy-1"},
        json={"listing_id": listing_id},
    )
    escrow = accepted(purchase, "/api/v1/payments/escrow/")
    assert (escrow["status"], escrow["listing"]) == ("paid", listing_id)
    again = client.post(
        "/api/v1/payments/purchase/",
        headers={**market["buyer"], "Idempotency-Key": "buy-1"},
        json={"listing_id": listing_id},
    )
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == purchase.headers["location"]
    base = purchase.headers["location"]
    delivered = client.post(
        f"{base}deliver/",
        headers=market["seller"],
        json={"account_email": "acc@mail.uz", "account_password": "pw-123456"},
    )
    assert accepted(delivered, "/api/v1/payments/escrow/")["status"] == "delivered"
    confirmed = client.post(f"{base}confirm/", headers=market["buyer"])
    assert accepted(confirmed, "/api/v1/payments/escrow/")["status"] == "confirmed"
    caught_up(container)
    assert client.get(base, headers=market["buyer"]).json()["status"] == "confirmed"


def test_withdraw_and_subscribe_while_the_projector_is_down_are_accepted(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    pay(client, market["seller"], "2000000")
    stop_projectors()
    withdrawal = client.post(
        "/api/v1/payments/withdraw/",
        headers=market["seller"],
        json={"amount": "100000", "payment_method": "visa"},
    )
    data = accepted(withdrawal, "/api/v1/payments/transactions/")
    assert data["status"] == "pending"
    subscribed = client.post(
        "/api/v1/subscriptions/purchase/", headers=market["seller"], json={"plan_slug": "pro"}
    )
    assert subscribed.status_code == 202, subscribed.text
    assert subscribed.headers["location"] == "/api/v1/subscriptions/my/"
    assert subscribed.json()["data"]["status"] == "active"
    caught_up(container)
    assert client.get(withdrawal.headers["location"], headers=market["seller"]).status_code == 200
    my = client.get("/api/v1/subscriptions/my/", headers=market["seller"]).json()
    assert my["data"]["id"] == subscribed.json()["data"]["id"]


def test_a_listing_created_while_the_projector_is_down_is_accepted(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    r = client.post("/api/v1/listings/", headers=market["seller"], json=NEW)
    created = accepted(r, "/api/v1/listings/")
    caught_up(container)
    shown = client.get(r.headers["location"], headers=market["seller"])
    assert shown.status_code == 200 and shown.json()["id"] == created["id"]


def test_register_and_login_while_the_projector_is_down_answer_the_saved_user_and_tokens(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    r = client.post(
        "/api/v1/auth/register/",
        json={"email": "new@example.uz", "password": PASSWORD, "full_name": "New Comer"},
    )
    assert r.status_code == 201, r.text
    user = r.json()["data"]["user"]
    assert (user["email"], user["full_name"], user["balance"], user["plan"]) == (
        "new@example.uz",
        "New Comer",
        "0.00",
        "free",
    )
    assert r.json()["data"]["tokens"]["access"]
    login = client.post(
        "/api/v1/auth/login/", json={"email": "seller@example.uz", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    seller = login.json()["data"]["user"]
    assert seller["full_name"] == "Sam Seller" and seller["last_login"] is not None
    caught_up(container)
    me = client.get("/api/v1/auth/me/", headers=bearer(r.json()["data"]["tokens"]["access"]))
    assert me.json()["id"] == user["id"] and me.json()["created_at"] == user["created_at"]


def test_a_logout_while_the_projector_is_down_refuses_the_token_at_once_everywhere(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    buyer = market["buyer"]
    assert client.post("/api/v1/auth/logout/", headers=buyer).status_code == 200
    with container.store.reader.connect() as conn:  # the row every API process reads
        assert conn.execute(select(func.count()).select_from(revoked_sessions)).scalar() == 1
    assert client.get("/api/v1/auth/me/", headers=buyer).status_code == 401
    caught_up(container)  # the projector's own insert of that row changes nothing
    assert client.get("/api/v1/auth/me/", headers=buyer).status_code == 401
    assert_read_models_equal_a_rebuild(container)


def test_once_a_wait_runs_out_commands_do_not_wait_again_until_a_projector_moves(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    container.read_your_writes.timeout = 2
    body = {"amount": "500000", "payment_method": "visa"}

    def deposit_seconds() -> float:
        started = time.monotonic()
        r = client.post("/api/v1/payments/deposit/", headers=market["buyer"], json=body)
        assert r.status_code == 201, r.text
        return time.monotonic() - started

    assert deposit_seconds() >= 2
    assert deposit_seconds() < 1
    caught_up(container)  # the projector moves: the next command waits for it again
    assert deposit_seconds() >= 2


def test_every_other_command_that_answers_from_a_read_model_is_accepted_while_it_is_down(
    client: Client, market: dict[str, Any], container: Container, stop_projectors: Any
) -> None:
    pay(client, market["buyer"], "2000000")
    pay(client, market["seller"], "2000000")
    listing_id = approved(client, market)
    other_id = approved(client, market)
    r = client.post(
        "/api/v1/payments/withdraw/",
        headers=market["seller"],
        json={"amount": "100000", "payment_method": "visa"},
    )
    withdrawal_id = r.json()["data"]["id"]
    subscribed = client.post(
        "/api/v1/subscriptions/purchase/", headers=market["seller"], json={"plan_slug": "pro"}
    )
    assert subscribed.status_code == 201
    bought = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing_id}
    )
    escrow = bought.json()["data"]["id"]
    stop_projectors()
    staff, seller, buyer = market["staff"], market["seller"], market["buyer"]
    listing = f"/api/v1/listings/{other_id}/"
    answers = {
        "edit": client.patch(listing, headers=seller, json={"title": "Renamed"}),
        "view": client.post(f"{listing}view/", headers=buyer),
        "moderate": client.patch(
            f"/api/v1/admin-panel/listings/{other_id}/", headers=staff, json={"is_premium": True}
        ),
        "dispute": client.post(
            f"/api/v1/payments/escrow/{escrow}/dispute/", headers=buyer, json={"reason": "wrong"}
        ),
        "approve": client.post(
            f"/api/v1/admin-panel/withdrawals/{withdrawal_id}/approve/", headers=staff
        ),
        "cancel": client.post("/api/v1/subscriptions/cancel/", headers=seller, json={}),
        "game": client.post(
            "/api/v1/admin-panel/games/", headers=staff, json={"name": "Tetris 99"}
        ),
    }
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 202)
    assert all(r.json()["success"] and r.headers["location"] for r in answers.values())
    assert answers["dispute"].json()["data"]["status"] == "disputed"
    assert answers["approve"].json()["data"]["status"] == "completed"
    assert answers["cancel"].json()["data"]["status"] == "cancelled"
    profile = client.patch("/api/v1/profile/", headers=seller, json={"bio": "Fast delivery"})
    assert profile.status_code == 200, profile.text
    assert (profile.json()["bio"], profile.json()["full_name"]) == ("Fast delivery", "Sam Seller")
    assert profile.json()["plan"] == "pro"  # the read model's, as it last had it


def test_a_telegram_sign_up_while_the_projector_is_down_answers_the_saved_user(
    client: Client, container: Container, stop_projectors: Any
) -> None:
    stop_projectors()
    issued = container.phone_codes.issue_telegram_code(BOT_SECRET, 42, "+998901234567", "Tg Ann")
    r = client.post(
        "/api/v1/auth/register/telegram/", json={"phone": "+998901234567", "code": issued.code}
    )
    assert r.status_code == 201, r.text
    user = r.json()["data"]["user"]
    assert (user["telegram_id"], user["full_name"], user["is_verified"]) == (42, "Tg Ann", True)
