"""CONTRACT §2.1 A1, A2, A17 over HTTP, including bad input."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from application.actor import Actor
from projections.users import users
from tests.api.conftest import PASSWORD, bearer, error, register
from wibestore.container import Container

USER_FIELDS = {
    "id",
    "email",
    "username",
    "full_name",
    "display_name",
    "phone_number",
    "telegram_id",
    "telegram_username",
    "avatar",
    "avatar_url",
    "bio",
    "is_verified",
    "rating",
    "reviews_count",
    "total_sales",
    "total_purchases",
    "balance",
    "language",
    "timezone",
    "created_at",
    "last_login",
    "is_staff",
    "is_premium",
    "is_pro",
    "plan",
}


def user_count(container: Container) -> int:
    with container.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def event_count(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def test_register_answers_201_with_the_user_and_both_tokens(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/register/",
        json={
            "email": "Ann@Example.uz",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "username": "ann",
            "full_name": "Ann Lee",
            "phone_number": "90 123 45 67",
            "language": "en",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Registration successful. Please verify your email."
    user = body["data"]["user"]
    assert set(user) == USER_FIELDS
    assert user["email"] == "ann@example.uz"
    assert user["phone_number"] == "+998901234567"
    assert user["display_name"] == "Ann Lee"
    assert (user["rating"], user["balance"], user["plan"]) == ("5.00", "0.00", "free")
    assert user["is_verified"] is False
    assert user["created_at"].endswith("+05:00")
    assert set(body["data"]["tokens"]) == {"access", "refresh"}


def test_register_accepts_the_frontend_form_aliases(client: TestClient[Any]) -> None:
    data = register(client, "bob@example.uz", name="Bob", phone="+998 93 111 22 33")
    assert data["user"]["full_name"] == "Bob"
    assert data["user"]["phone_number"] == "+998931112233"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"email": "a@b.uz", "password": PASSWORD, "password_confirm": "other-Secret1"},
            "password_confirm",
        ),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@b.uz"}, "password"),
        ({"email": "a@b.uz", "password": "short"}, "password"),
        ({"email": "a@b.uz", "password": "12345678901"}, "password"),
        ({"email": 7, "password": PASSWORD}, "email"),
        ({"email": "a@b.uz", "password": PASSWORD, "is_staff": True}, "is_staff"),
        ({"email": "a@b.uz", "password": PASSWORD, "full_name": "x" * 151}, "full_name"),
        ({"email": "a@b.uz", "password": PASSWORD, "phone_number": "12345"}, "phone_number"),
        ({"email": "a@b.uz", "password": PASSWORD, "language": "de"}, "language"),
        ({"email": "a@b.uz", "password": PASSWORD, "username": "no spaces"}, "username"),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(
    client: TestClient[Any], container: Container, body: dict[str, Any], field: str
) -> None:
    before = event_count(container)
    response = client.post("/api/v1/auth/register/", json=body)
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "INVALID"
    assert field in err["details"]
    assert event_count(container) == before
    assert user_count(container) == 0


def test_register_refuses_a_taken_email_whatever_its_case(
    client: TestClient[Any], container: Container
) -> None:
    register(client, "ann@example.uz")
    before = event_count(container)
    response = client.post(
        "/api/v1/auth/register/", json={"email": "ANN@example.uz", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert error(response)["details"] == {"email": ["A user with this email already exists."]}
    assert event_count(container) == before


def test_two_racing_registrations_of_one_email_make_one_user(
    client: TestClient[Any], container: Container
) -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def attempt(i: int) -> None:
        barrier.wait()
        r = client.post(
            "/api/v1/auth/register/",
            json={"email": "race@example.uz", "password": PASSWORD, "full_name": f"Racer {i}"},
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [400] * 5
    assert user_count(container) == 1


def test_malformed_json_is_a_parse_error(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/register/",
        content=b'{"email": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert error(response)["code"] == "PARSE_ERROR"


def test_a_command_without_a_body_says_that_a_body_is_required(client: TestClient[Any]) -> None:
    for path in ("/api/v1/auth/login/", "/api/v1/auth/register/", "/api/v1/auth/refresh/"):
        response = client.post(path, headers={"content-type": "application/json"})
        assert response.status_code == 400, path
        assert error(response)["message"] == "A request body is required."
        assert error(response)["details"] == {"body": ["A request body is required."]}


def test_a_form_encoded_body_is_unsupported(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/auth/login/",
        content=b"email=a",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert error(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_paths_work_with_and_without_the_trailing_slash(client: TestClient[Any]) -> None:
    register(client)
    for path in ("/api/v1/auth/login/", "/api/v1/auth/login"):
        response = client.post(path, json={"email": "ann@example.uz", "password": PASSWORD})
        assert response.status_code == 200, path


def test_login_answers_the_token_shape_with_profile_claims(
    client: TestClient[Any], container: Container
) -> None:
    register(client, username="ann")
    response = client.post(
        "/api/v1/auth/login/", json={"email": "ANN@example.uz", "password": PASSWORD}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["last_login"] is not None
    import jwt

    claims = jwt.decode(data["tokens"]["access"], options={"verify_signature": False})
    assert claims["token_type"] == "access"
    assert claims["email"] == "ann@example.uz"
    assert claims["username"] == "ann"
    assert claims["is_staff"] is False


@pytest.mark.parametrize(
    ("email", "password"), [("ann@example.uz", "Wrong-Secret1"), ("nobody@example.uz", PASSWORD)]
)
def test_login_with_wrong_credentials_is_401(
    client: TestClient[Any], email: str, password: str
) -> None:
    register(client)
    response = client.post("/api/v1/auth/login/", json={"email": email, "password": password})
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "AUTHENTICATION_FAILED"
    assert err["message"] == "No active account found with the given credentials"


def test_five_failed_logins_lock_the_email_and_address_pair(client: TestClient[Any]) -> None:
    register(client)
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/login/", json={"email": "ann@example.uz", "password": "Wrong-Secret1"}
        )
        assert r.status_code == 401
    locked = client.post(
        "/api/v1/auth/login/", json={"email": "ann@example.uz", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert error(locked)["code"] == "THROTTLED"
    assert 0 < int(locked.headers["retry-after"]) <= 900
    other = client.post(
        "/api/v1/auth/login/", json={"email": "someone@example.uz", "password": PASSWORD}
    )
    assert other.status_code == 401  # another e-mail from the same address is not locked


def test_a_banned_users_tokens_are_rejected(client: TestClient[Any], container: Container) -> None:
    data = register(client)
    ann = container.accounts.find_user_by_email("ann@example.uz")
    assert ann is not None
    with container.read_your_writes():
        container.accounts.ban(Actor.platform("operator"), ann.id, "fraud")
    me = client.get("/api/v1/auth/me/", headers=bearer(data["tokens"]["access"]))
    assert me.status_code == 401
    refreshed = client.post("/api/v1/auth/refresh/", json={"refresh": data["tokens"]["refresh"]})
    assert refreshed.status_code == 401
    login = client.post(
        "/api/v1/auth/login/", json={"email": "ann@example.uz", "password": PASSWORD}
    )
    assert login.status_code == 401


def test_public_profile_shows_public_fields_only(client: TestClient[Any]) -> None:
    data = register(client, username="ann", full_name="Ann")
    response = client.get(f"/api/v1/auth/users/{data['user']['id']}/")
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Ann"
    assert "email" not in body
    assert "phone_number" not in body


@pytest.mark.parametrize("user_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_public_profile_of_no_one_is_404(client: TestClient[Any], user_id: str) -> None:
    response = client.get(f"/api/v1/auth/users/{user_id}/")
    assert response.status_code == 404
    assert error(response)["code"] == "NOT_FOUND"


def test_an_unsupported_method_is_405(client: TestClient[Any]) -> None:
    response = client.delete("/api/v1/auth/login/")
    assert response.status_code == 405
    assert error(response)["code"] == "METHOD_NOT_ALLOWED"
