"""CONTRACT A6-A8, A15, A16 and /profile/: the caller's own account."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import PASSWORD, bearer, error, register
from tests.conftest import FixedClock, read_mail
from wibestore.container import Container


def login(client: TestClient[Any], password: str, email: str = "ann@example.uz") -> Any:
    return client.post("/api/v1/auth/login/", json={"email": email, "password": password})


def test_me_returns_the_full_user(client: TestClient[Any]) -> None:
    data = register(client, full_name="Ann")
    me = client.get("/api/v1/auth/me/", headers=bearer(data["tokens"]["access"]))
    assert me.status_code == 200
    assert me.json() == data["user"]
    profile = client.get("/api/v1/profile/", headers=bearer(data["tokens"]["access"]))
    assert profile.json() == data["user"]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_updating_me_returns_the_full_user(client: TestClient[Any], method: str) -> None:
    access = register(client)["tokens"]["access"]
    response = getattr(client, method)(
        "/api/v1/auth/me/",
        headers=bearer(access),
        json={
            "full_name": "Ann Lee",
            "phone_number": "+998 90 000 11 22",
            "username": "annlee",
            "language": "uz",
            "avatar": "ignored-when-not-a-file",
        },
    )
    assert response.status_code == 200
    user = response.json()
    assert (user["full_name"], user["phone_number"], user["username"], user["language"]) == (
        "Ann Lee",
        "+998900001122",
        "annlee",
        "uz",
    )
    assert user["email"] == "ann@example.uz"
    assert user["avatar"] is None


def test_phone_number_can_be_cleared(client: TestClient[Any]) -> None:
    access = register(client, phone_number="901234567")["tokens"]["access"]
    user = client.patch(
        "/api/v1/profile/", headers=bearer(access), json={"phone_number": None}
    ).json()
    assert user["phone_number"] is None


def test_a_username_taken_by_another_user_is_400_until_released(
    client: TestClient[Any],
) -> None:
    ann = register(client, username="gamer")["tokens"]["access"]
    bob = register(client, "bob@example.uz")["tokens"]["access"]
    taken = client.patch("/api/v1/auth/me/", headers=bearer(bob), json={"username": "GAMER"})
    assert taken.status_code == 400
    assert "username" in error(taken)["details"]
    assert (
        client.patch("/api/v1/auth/me/", headers=bearer(ann), json={"username": "ann"}).status_code
        == 200
    )
    assert (
        client.patch(
            "/api/v1/auth/me/", headers=bearer(bob), json={"username": "gamer"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_number": "12"}, "phone_number"),
        ({"language": "fr"}, "language"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"email": "new@example.uz"}, "email"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_bad_profile_updates_are_400(
    client: TestClient[Any], body: dict[str, Any], field: str
) -> None:
    access = register(client)["tokens"]["access"]
    response = client.patch("/api/v1/auth/me/", headers=bearer(access), json=body)
    assert response.status_code == 400
    assert field in error(response)["details"]
    assert client.get("/api/v1/auth/me/", headers=bearer(access)).json()["is_staff"] is False


def test_password_change_with_the_frontends_field_names(client: TestClient[Any]) -> None:
    access = register(client)["tokens"]["access"]
    response = client.post(
        "/api/v1/auth/password/change/",
        headers=bearer(access),
        json={"current_password": PASSWORD, "new_password": "N3w-Secret!"},
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Password changed successfully."
    assert login(client, PASSWORD).status_code == 401
    assert login(client, "N3w-Secret!").status_code == 200


def test_password_change_with_a_wrong_current_password_is_a_business_error(
    client: TestClient[Any],
) -> None:
    access = register(client)["tokens"]["access"]
    response = client.post(
        "/api/v1/auth/password/change/",
        headers=bearer(access),
        json={"old_password": "Wrong-123!", "new_password": "N3w-Secret!"},
    )
    assert response.status_code == 400
    err = error(response)
    assert (err["code"], err["message"]) == (
        "BUSINESS_LOGIC_ERROR",
        "Current password is incorrect.",
    )


def test_password_change_refuses_a_recent_password(client: TestClient[Any]) -> None:
    access = register(client)["tokens"]["access"]
    response = client.post(
        "/api/v1/auth/password/change/",
        headers=bearer(access),
        json={"old_password": PASSWORD, "new_password": PASSWORD},
    )
    assert response.status_code == 400
    assert "last 5" in error(response)["message"]


def test_password_change_without_a_token_is_401(client: TestClient[Any]) -> None:
    register(client)
    response = client.post(
        "/api/v1/auth/password/change/",
        json={"old_password": PASSWORD, "new_password": "N3w-Secret!"},
    )
    assert response.status_code == 401


def reset_token(settings_mail_dir: Any) -> str:
    mails = read_mail(settings_mail_dir)
    assert mails, "no e-mail was sent"
    match = re.search(r"reset-password\?token=([\w.-]+)", mails[-1])
    assert match
    return match.group(1)


def test_password_reset_by_mailed_link(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    old_access = register(client)["tokens"]["access"]
    clock.advance(seconds=1)
    response = client.post("/api/v1/auth/password/reset/", json={"email": "ann@example.uz"})
    assert response.status_code == 200
    token = reset_token(container.settings.mail_dir)
    confirm = client.post(
        "/api/v1/auth/password/reset/confirm/",
        json={"uid": "ignored", "token": token, "new_password": "N3w-Secret!"},
    )
    assert confirm.status_code == 200
    assert confirm.json()["message"] == "Password reset successfully."
    assert login(client, "N3w-Secret!").status_code == 200
    assert client.get("/api/v1/auth/me/", headers=bearer(old_access)).status_code == 401
    again = client.post(
        "/api/v1/auth/password/reset/confirm/",
        json={"token": token, "password": "0ther-Secret!", "password_confirm": "0ther-Secret!"},
    )
    assert again.status_code == 400
    assert error(again)["message"] == "Invalid or expired reset token."


def test_a_reset_link_expires_after_an_hour(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    register(client)
    client.post("/api/v1/auth/password/reset/", json={"email": "ann@example.uz"})
    token = reset_token(container.settings.mail_dir)
    clock.advance(minutes=61)
    response = client.post(
        "/api/v1/auth/password/reset/confirm/", json={"token": token, "password": "N3w-Secret!"}
    )
    assert response.status_code == 400


def test_reset_for_an_unknown_email_says_the_same_and_sends_nothing(
    client: TestClient[Any], container: Container
) -> None:
    response = client.post("/api/v1/auth/password/reset/", json={"email": "who@example.uz"})
    assert response.status_code == 200
    assert response.json()["message"] == (
        "If an account with this email exists, a reset link has been sent."
    )
    assert read_mail(container.settings.mail_dir) == []


@pytest.mark.parametrize("token", ["", "garbage", "0" * 32 + ".x", "zz.zz"])
def test_reset_with_a_forged_token_is_400(client: TestClient[Any], token: str) -> None:
    response = client.post(
        "/api/v1/auth/password/reset/confirm/", json={"token": token, "password": "N3w-Secret!"}
    )
    assert response.status_code == 400


def test_delete_account_needs_the_password_then_locks_everything(
    client: TestClient[Any],
) -> None:
    data = register(client)
    access = data["tokens"]["access"]
    wrong = client.post(
        "/api/v1/auth/account/delete/", headers=bearer(access), json={"password": "Wrong-123!"}
    )
    assert wrong.status_code == 400
    assert error(wrong)["message"] == "Invalid password."
    ok = client.post(
        "/api/v1/auth/account/delete/", headers=bearer(access), json={"password": PASSWORD}
    )
    assert ok.json() == {"success": True, "message": "Account deleted successfully."}
    assert client.get("/api/v1/auth/me/", headers=bearer(access)).status_code == 401
    assert client.get(f"/api/v1/auth/users/{data['user']['id']}/").status_code == 404
    assert login(client, PASSWORD).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/refresh/", json={"refresh": data["tokens"]["refresh"]}
        ).status_code
        == 401
    )
    register(client)  # the e-mail is free again


def test_an_avatar_arrives_as_multipart_with_other_fields(client: TestClient[Any]) -> None:
    from tests.images import encoded, jpeg_with_exif

    access = register(client)["tokens"]["access"]
    response = client.patch(
        "/api/v1/auth/me/",
        headers=bearer(access),
        files={"avatar": ("me.jpg", jpeg_with_exif(), "image/jpeg")},
        data={"full_name": "Ann Avatar"},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["full_name"] == "Ann Avatar"
    assert user["avatar"].startswith("http") and "/media/uploads/" in user["avatar"]
    assert user["avatar_url"] == user["avatar"]
    image = client.get(user["avatar"].split("testserver.local", 1)[-1])
    assert image.status_code == 200
    assert b"Secret Photographer" not in image.content
    bomb = client.patch(
        "/api/v1/profile/",
        headers=bearer(access),
        files={"avatar": ("x.png", encoded("PNG", size=(4000, 10)), "image/png")},
    )
    assert bomb.status_code == 400
    assert "avatar" in error(bomb)["details"]
    unknown = client.patch(
        "/api/v1/profile/",
        headers=bearer(access),
        data={"is_staff": "1"},
        files={"avatar": ("me.jpg", jpeg_with_exif(), "image/jpeg")},
    )
    assert unknown.status_code == 400


def test_an_empty_phone_number_clears_it(client: TestClient[Any]) -> None:
    access = register(client, phone_number="901234567")["tokens"]["access"]
    user = client.patch(
        "/api/v1/auth/me/", headers=bearer(access), json={"phone_number": ""}
    ).json()
    assert user["phone_number"] is None


def test_an_avatar_sent_with_a_refused_change_keeps_neither(
    client: TestClient[Any], container: Container
) -> None:
    from tests.images import jpeg_with_exif

    register(client, "ann@example.uz", username="gamer")
    bob = register(client, "bob@example.uz")["tokens"]["access"]
    media = container.settings.media_dir
    files_before = sorted(p for p in media.rglob("*") if p.is_file())
    refused = client.patch(
        "/api/v1/auth/me/",
        headers=bearer(bob),
        files={"avatar": ("me.jpg", jpeg_with_exif(), "image/jpeg")},
        data={"username": "gamer"},
    )
    assert refused.status_code == 400, refused.text
    me = client.get("/api/v1/auth/me/", headers=bearer(bob)).json()
    assert me["avatar"] is None
    assert sorted(p for p in media.rglob("*") if p.is_file()) == files_before
