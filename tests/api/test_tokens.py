"""CONTRACT §1.2, A3, A4: access and refresh tokens, rotation, reuse, logout."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import bearer, error, register
from tests.conftest import FixedClock


def refresh(client: TestClient[Any], token: str) -> Any:
    return client.post("/api/v1/auth/refresh/", json={"refresh": token})


def test_refresh_rotates_and_answers_a_flat_pair(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    response = refresh(client, tokens["refresh"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens["refresh"]
    assert client.get("/api/v1/auth/me/", headers=bearer(body["access"])).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    client: TestClient[Any],
) -> None:
    first = register(client)["tokens"]["refresh"]
    second = refresh(client, first).json()["refresh"]
    reused = refresh(client, first)
    assert reused.status_code == 401
    assert error(reused) == {
        "code": "TOKEN_NOT_VALID",
        "message": "Token is blacklisted",
        "details": {},
    }
    assert refresh(client, second).status_code == 401  # the family is gone


def test_other_sessions_survive_a_reuse_in_one_family(client: TestClient[Any]) -> None:
    register(client)
    login = client.post(
        "/api/v1/auth/login/", json={"email": "ann@example.uz", "password": "Sup3r-Secret!"}
    )
    other = login.json()["data"]["tokens"]["refresh"]
    first = client.post(
        "/api/v1/auth/login/", json={"email": "ann@example.uz", "password": "Sup3r-Secret!"}
    ).json()["data"]["tokens"]["refresh"]
    refresh(client, first)
    refresh(client, first)
    assert refresh(client, other).status_code == 200


def test_an_access_token_is_not_a_refresh_token_and_vice_versa(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    assert refresh(client, tokens["access"]).status_code == 401
    me = client.get("/api/v1/auth/me/", headers=bearer(tokens["refresh"]))
    assert me.status_code == 401
    assert error(me)["code"] == "TOKEN_NOT_VALID"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],
        lambda t: "not-a-jwt",
    ],
)
def test_tampered_tokens_are_401(client: TestClient[Any], mangle: Any) -> None:
    tokens = register(client)["tokens"]
    assert (
        client.get("/api/v1/auth/me/", headers=bearer(mangle(tokens["access"]))).status_code == 401
    )
    assert refresh(client, mangle(tokens["refresh"])).status_code == 401


def test_an_unsigned_token_is_refused(client: TestClient[Any]) -> None:
    import jwt

    data = register(client)
    claims = jwt.decode(data["tokens"]["access"], options={"verify_signature": False})
    forged = jwt.encode(claims, key="", algorithm="none")
    assert client.get("/api/v1/auth/me/", headers=bearer(forged)).status_code == 401


def test_expired_tokens_are_401(client: TestClient[Any], clock: FixedClock) -> None:
    clock.advance(days=-8)
    tokens = register(client)["tokens"]
    clock.advance(days=8)
    me = client.get("/api/v1/auth/me/", headers=bearer(tokens["access"]))
    assert me.status_code == 401
    assert error(me)["message"] == "Token is expired"
    assert refresh(client, tokens["refresh"]).status_code == 401


def test_missing_or_malformed_authorization_is_401(client: TestClient[Any]) -> None:
    missing = client.get("/api/v1/auth/me/")
    assert missing.status_code == 401
    assert error(missing)["code"] == "NOT_AUTHENTICATED"
    basic = client.get("/api/v1/auth/me/", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401


def test_logout_blacklists_the_refresh_token(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    response = client.post(
        "/api/v1/auth/logout/",
        json={"refresh": tokens["refresh"]},
        headers=bearer(tokens["access"]),
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Logged out successfully."}
    assert refresh(client, tokens["refresh"]).status_code == 401


def test_logout_without_a_body_succeeds(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    response = client.post("/api/v1/auth/logout/", headers=bearer(tokens["access"]))
    assert response.status_code == 200


def test_logout_with_a_bad_or_foreign_token_is_400(client: TestClient[Any]) -> None:
    mine = register(client)["tokens"]
    theirs = register(client, "bob@example.uz")["tokens"]
    for token in ("garbage", theirs["refresh"]):
        response = client.post(
            "/api/v1/auth/logout/", json={"refresh": token}, headers=bearer(mine["access"])
        )
        assert response.status_code == 400
        assert error(response)["message"] == "Invalid token."
    assert refresh(client, theirs["refresh"]).status_code == 200


def test_logout_needs_authentication(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    response = client.post("/api/v1/auth/logout/", json={"refresh": tokens["refresh"]})
    assert response.status_code == 401
