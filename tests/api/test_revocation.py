"""Revoked access tokens answer 401 from the very next request, not when they expire: after a
logout, a reused (so revoked) refresh-token family, a password reset and a ban."""

from __future__ import annotations

from typing import Any

import jwt
from litestar.testing import TestClient

from api.app import create_app
from application.actor import Actor
from tests.api.conftest import PASSWORD, bearer, error, register
from tests.api.test_account import reset_token
from tests.conftest import FixedClock
from wibestore.container import Container, build
from wibestore.settings import Settings

ME = "/api/v1/auth/me/"


def log_in(client: TestClient[Any], email: str = "ann@example.uz") -> dict[str, str]:
    response = client.post("/api/v1/auth/login/", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json()["data"]["tokens"])


def me(client: TestClient[Any], access: str) -> int:
    return client.get(ME, headers=bearer(access)).status_code


def refresh(client: TestClient[Any], token: str) -> Any:
    return client.post("/api/v1/auth/refresh/", json={"refresh": token})


def test_access_tokens_name_their_session(client: TestClient[Any]) -> None:
    tokens = register(client)["tokens"]
    access = jwt.decode(tokens["access"], options={"verify_signature": False})
    family = jwt.decode(tokens["refresh"], options={"verify_signature": False})
    assert access["sid"] == family["sid"]
    rotated = refresh(client, tokens["refresh"]).json()["access"]
    assert jwt.decode(rotated, options={"verify_signature": False})["sid"] == family["sid"]


def test_after_logout_the_old_access_token_answers_401_on_the_next_request(
    client: TestClient[Any],
) -> None:
    tokens = register(client)["tokens"]
    assert me(client, tokens["access"]) == 200
    out = client.post(
        "/api/v1/auth/logout/",
        json={"refresh": tokens["refresh"]},
        headers=bearer(tokens["access"]),
    )
    assert out.status_code == 200
    assert out.json() == {"success": True, "message": "Logged out successfully."}
    answer = client.get(ME, headers=bearer(tokens["access"]))
    assert answer.status_code == 401
    assert error(answer)["code"] == "TOKEN_NOT_VALID"
    assert refresh(client, tokens["refresh"]).status_code == 401


def test_a_logout_without_the_refresh_token_ends_the_access_tokens_session(
    client: TestClient[Any],
) -> None:
    tokens = register(client)["tokens"]
    out = client.post("/api/v1/auth/logout/", headers=bearer(tokens["access"]))
    assert out.status_code == 200
    assert me(client, tokens["access"]) == 401
    assert refresh(client, tokens["refresh"]).status_code == 401


def test_another_session_of_the_same_user_still_works_after_one_sessions_logout(
    client: TestClient[Any],
) -> None:
    phone = register(client)["tokens"]
    laptop = log_in(client)
    out = client.post(
        "/api/v1/auth/logout/", json={"refresh": phone["refresh"]}, headers=bearer(phone["access"])
    )
    assert out.status_code == 200
    assert me(client, phone["access"]) == 401
    assert me(client, laptop["access"]) == 200
    assert refresh(client, laptop["refresh"]).status_code == 200


def test_after_a_rotated_refresh_token_is_reused_the_familys_access_tokens_answer_401(
    client: TestClient[Any],
) -> None:
    first = register(client)["tokens"]
    other = log_in(client)
    second = refresh(client, first["refresh"]).json()
    assert me(client, second["access"]) == 200
    reused = refresh(client, first["refresh"])  # the thief, or the owner, replays it
    assert reused.status_code == 401
    assert error(reused)["message"] == "Token is blacklisted"
    assert me(client, first["access"]) == 401
    assert me(client, second["access"]) == 401
    assert me(client, other["access"]) == 200  # another sign-in is another family


def test_after_a_password_reset_old_access_and_refresh_tokens_answer_401(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    before = register(client)["tokens"]
    clock.advance(seconds=1)
    client.post("/api/v1/auth/password/reset/", json={"email": "ann@example.uz"})
    confirm = client.post(
        "/api/v1/auth/password/reset/confirm/",
        json={"token": reset_token(container.settings.mail_dir), "password": "N3w-Secret!"},
    )
    assert confirm.status_code == 200
    assert me(client, before["access"]) == 401
    # nor can the old sign-in mint fresh access tokens after the reset
    minted = refresh(client, before["refresh"])
    assert minted.status_code == 401
    assert error(minted)["code"] == "TOKEN_NOT_VALID"


def test_after_a_ban_old_access_and_refresh_tokens_answer_401(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    tokens = register(client)["tokens"]
    user = container.accounts.find_user_by_email("ann@example.uz")
    assert user is not None
    clock.advance(seconds=1)
    with container.read_your_writes():
        container.accounts.ban(Actor.platform("operator"), user.id, "fraud")
    assert me(client, tokens["access"]) == 401
    assert refresh(client, tokens["refresh"]).status_code == 401


def test_a_family_revoked_for_reuse_stays_revoked_after_a_restart_and_a_rebuild(
    settings: Settings, clock: FixedClock
) -> None:
    """The revocation is an event, not a row or a cache: a new process (and a read model
    rebuilt from the log) still refuses the family, while a fresh sign-in works."""
    before = build(settings, clock=clock, fast_passwords=True)
    before.start()
    with TestClient(create_app(before)) as client:
        first = register(client)["tokens"]
        second = refresh(client, first["refresh"]).json()
        assert refresh(client, first["refresh"]).status_code == 401  # reused: family revoked
        assert refresh(client, second["refresh"]).status_code == 401
    before.close()

    after = build(settings, clock=clock, fast_passwords=True)
    after.start()
    try:
        with TestClient(create_app(after)) as client:
            for rebuilt in (False, True):
                if rebuilt:
                    after.runners[0].rebuild_schema(["sessions"])
                    after.runners[0].catch_up()
                assert refresh(client, second["refresh"]).status_code == 401, rebuilt
                assert me(client, second["access"]) == 401, rebuilt
                assert me(client, first["access"]) == 401, rebuilt
            fresh = log_in(client)
            assert me(client, fresh["access"]) == 200
            assert refresh(client, fresh["refresh"]).status_code == 200
    finally:
        after.close()
