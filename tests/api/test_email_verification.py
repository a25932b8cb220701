"""CONTRACT A1/A9/A10: registration mails a verification link; the link verifies the e-mail
once within 24 hours; a signed-in user asks for a new one at most once a minute."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import bearer, error, register
from tests.conftest import FixedClock, read_mail
from wibestore.container import Container

INVALID = "Invalid or expired verification token."


def last_token(container: Container) -> str:
    match = re.search(r"/verify-email\?token=(\S+)", read_mail(container.settings.mail_dir)[-1])
    assert match is not None
    return match.group(1)


def verify(client: TestClient[Any], token: str) -> Any:
    return client.post("/api/v1/auth/email/verify/", json={"token": token})


def resend(client: TestClient[Any], access: str) -> Any:
    return client.post("/api/v1/auth/email/resend/", headers=bearer(access))


def test_registration_mails_a_link_that_verifies_once(
    client: TestClient[Any], container: Container
) -> None:
    data = register(client, "ann@example.uz")
    assert data["user"]["is_verified"] is False
    mail = read_mail(container.settings.mail_dir)[-1]
    assert "https://wibestore.test/verify-email?token=" in mail
    token = last_token(container)
    ok = verify(client, token)
    assert ok.json() == {"success": True, "message": "Email verified successfully."}
    me = client.get("/api/v1/auth/me/", headers=bearer(data["tokens"]["access"])).json()
    assert me["is_verified"] is True
    reused = verify(client, token)
    assert reused.status_code == 400
    assert error(reused)["message"] == INVALID


def test_a_link_expires_after_24_hours(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    register(client)
    clock.advance(hours=24)
    assert error(verify(client, last_token(container)))["message"] == INVALID


def test_a_new_link_replaces_the_old_and_comes_at_most_once_a_minute(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    access = register(client)["tokens"]["access"]
    first = last_token(container)
    throttled = resend(client, access)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "60"
    clock.advance(minutes=1)
    sent = resend(client, access)
    assert sent.json() == {"success": True, "message": "Verification email sent."}
    second = last_token(container)
    assert second != first
    assert error(verify(client, first))["message"] == INVALID
    assert verify(client, second).status_code == 200
    clock.advance(minutes=1)
    done = resend(client, access)
    assert done.status_code == 400
    assert error(done)["message"] == "Your email is already verified."


def test_bad_tokens_and_anonymous_resends_are_refused(client: TestClient[Any]) -> None:
    register(client)
    for token in ("nonsense", "0" * 32 + ".x", "zz.zz", "."):
        response = verify(client, token)
        assert response.status_code == 400
        assert error(response)["message"] == INVALID
    assert verify(client, "").status_code == 400
    assert client.post("/api/v1/auth/email/resend/").status_code == 401
