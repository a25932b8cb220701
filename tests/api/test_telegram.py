"""CONTRACT A13/A14 (§3.12): the bot creates a code, the website exchanges phone + code for
tokens, signing the user up on first use. The newest frontend signs in only this way."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from application.actor import Actor
from domain.phone_code import MAX_FAILED_ATTEMPTS, PhoneCode, Purpose
from tests.api.conftest import bearer, error, register
from tests.conftest import BOT_SECRET, FixedClock
from wibestore.container import Container

PHONE = "+998901234567"
USED = "Kod noto'g'ri yoki allaqachon ishlatilgan."


def bot_code(
    client: TestClient[Any],
    telegram_id: int = 42,
    phone: str = PHONE,
    full_name: str = "Ann Gamer",
    **extra: Any,
) -> Any:
    body = {
        "secret_key": BOT_SECRET,
        "telegram_id": telegram_id,
        "phone_number": phone,
        "full_name": full_name,
        **extra,
    }
    return client.post("/api/v1/auth/telegram/otp/create/", json=body)


def code_for(client: TestClient[Any], **kwargs: Any) -> str:
    response = bot_code(client, **kwargs)
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


def sign_in(client: TestClient[Any], code: str, phone: str = PHONE, **extra: Any) -> Any:
    return client.post(
        "/api/v1/auth/register/telegram/", json={"phone": phone, "code": code, **extra}
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_bot_gets_a_six_digit_code_valid_ten_minutes(client: TestClient[Any]) -> None:
    response = bot_code(client)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "success",
        "code",
        "expires_at",
        "remaining_seconds",
        "code_length",
        "expire_minutes",
    }
    assert body["success"] is True
    assert re.fullmatch(r"\d{6}", body["code"])
    assert (body["code_length"], body["expire_minutes"], body["remaining_seconds"]) == (6, 10, 600)
    assert body["expires_at"].endswith("+00:00")
    datetime.fromisoformat(body["expires_at"])


@pytest.mark.parametrize("secret", ["", "wrong-secret", BOT_SECRET + "x", None])
def test_a_wrong_or_missing_bot_secret_is_403_and_creates_no_code(
    client: TestClient[Any], container: Container, secret: str | None
) -> None:
    body: dict[str, Any] = {"telegram_id": 42, "phone_number": PHONE}
    if secret is not None:
        body["secret_key"] = secret
    response = client.post("/api/v1/auth/telegram/otp/create/", json=body)
    assert response.status_code == 403
    assert error(response)["code"] == "PERMISSION_DENIED"
    assert container.app.find(PhoneCode.create_id(Purpose.TELEGRAM, PHONE), PhoneCode) is None


@pytest.mark.parametrize(
    "change",
    [
        {"phone_number": "12345678"},  # fewer than 9 digits
        {"phone_number": "x" * 21},
        {"telegram_id": 0},
        {"full_name": "n" * 151},
    ],
)
def test_the_bots_bad_input_is_400(client: TestClient[Any], change: dict[str, Any]) -> None:
    response = bot_code(client, **change)
    assert response.status_code == 400
    assert error(response)["code"] == "INVALID"


def test_the_first_sign_in_creates_a_verified_user_with_the_placeholder_email(
    client: TestClient[Any],
) -> None:
    response = sign_in(client, code_for(client), mode="login")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["message"]
    user = body["data"]["user"]
    assert user["email"] == "tg_42@telegram.wibestore.local"
    assert (user["full_name"], user["phone_number"], user["telegram_id"]) == (
        "Ann Gamer",
        PHONE,
        42,
    )
    assert user["is_verified"] is True
    tokens = body["data"]["tokens"]
    me = client.get("/api/v1/auth/me/", headers=bearer(tokens["access"]))
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("access_token=") and "HttpOnly" in c for c in cookies)
    assert any(
        c.startswith("refresh_token=") and "Path=/api/v1/auth/refresh/" in c for c in cookies
    )
    # No usable password: the e-mail login refuses it whatever is tried.
    login = client.post(
        "/api/v1/auth/login/", json={"email": user["email"], "password": "Qz7!mountain-Ledger"}
    )
    assert login.status_code == 401


def test_a_returning_user_signs_in_as_themselves_with_201(client: TestClient[Any]) -> None:
    first = sign_in(client, code_for(client)).json()["data"]["user"]
    again = sign_in(client, code_for(client, phone="998901234567"), phone="901234567")
    assert again.status_code == 201
    assert again.json()["data"]["user"]["id"] == first["id"]


def test_a_code_works_once(client: TestClient[Any]) -> None:
    code = code_for(client)
    assert sign_in(client, code).status_code == 201
    reused = sign_in(client, code)
    assert reused.status_code == 400
    assert error(reused) == {"code": "BUSINESS_LOGIC_ERROR", "message": USED, "details": {}}


def test_an_expired_code_says_so(client: TestClient[Any], clock: FixedClock) -> None:
    code = code_for(client)
    clock.advance(minutes=10)
    response = sign_in(client, code)
    assert response.status_code == 400
    assert error(response)["message"].startswith("Kod muddati tugagan")


def test_a_new_code_voids_the_old_one(client: TestClient[Any]) -> None:
    old = code_for(client)
    new = code_for(client)
    if old != new:  # one time in a million the bot draws the same six digits again
        assert error(sign_in(client, old))["message"] == USED
    assert sign_in(client, new).status_code == 201


def test_a_code_for_another_phone_voids_the_code_of_the_first(client: TestClient[Any]) -> None:
    first = code_for(client, phone=PHONE)
    code_for(client, phone="+998907654321")
    assert sign_in(client, first).status_code == 400


def test_guessing_spends_the_code_after_five_wrong_tries(client: TestClient[Any]) -> None:
    code = code_for(client)
    for _ in range(MAX_FAILED_ATTEMPTS):
        response = sign_in(client, wrong(code))
        assert response.status_code == 400
        assert error(response)["message"] == USED
    assert sign_in(client, code).status_code == 400


def test_the_user_with_that_phone_is_linked_not_duplicated(
    client: TestClient[Any],
) -> None:
    own_id = register(client, "ann@example.uz", phone_number="+998 90 123 45 67")["user"]["id"]
    response = sign_in(client, code_for(client))
    assert response.status_code == 201
    user = response.json()["data"]["user"]
    assert (user["id"], user["email"], user["telegram_id"]) == (own_id, "ann@example.uz", 42)


def test_a_banned_user_cannot_sign_in_and_keeps_the_code_unused(
    client: TestClient[Any], container: Container
) -> None:
    user_id = sign_in(client, code_for(client)).json()["data"]["user"]["id"]
    container.accounts.ban(Actor.platform("operator"), UUID(user_id), "fraud")
    response = sign_in(client, code_for(client))
    assert response.status_code == 400
    assert error(response)["message"] == "This account is inactive."


@pytest.mark.parametrize(
    "body",
    [
        {"phone": PHONE},
        {"code": "123456"},
        {"phone": PHONE, "code": "123"},
        {"phone": PHONE, "code": "1234567"},
        {"phone": PHONE, "code": 123456},
        {"phone": "p" * 21, "code": "123456"},
    ],
)
def test_malformed_sign_ins_are_400(client: TestClient[Any], body: dict[str, Any]) -> None:
    response = client.post("/api/v1/auth/register/telegram/", json=body)
    assert response.status_code == 400
    assert error(response)["code"] == "INVALID"


def test_a_phone_no_code_was_issued_for_is_the_used_code_message(client: TestClient[Any]) -> None:
    for phone in ("+998935550000", "not a phone"):
        response = sign_in(client, "123456", phone=phone)
        assert response.status_code == 400
        assert error(response)["message"] == USED


def test_nobody_registers_the_placeholder_domain(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/register/",
        json={"email": "tg_42@telegram.wibestore.local", "password": "Qz7!mountain-Ledger"},
    )
    assert response.status_code == 400
    assert "email" in error(response)["details"]
