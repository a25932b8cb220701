"""A revoked session's access tokens are refused by every API process from the next request:
uvicorn with 2 workers and a separate projector process (tests/test_http_server.py), and a
third process (this one) answering the logout."""

from __future__ import annotations

from uuid import UUID

import httpx
import pytest

from application.actor import Actor
from tests.test_http_server import PASSWORD, Deployment
from tests.test_http_server import production as production  # the fixture
from wibestore.container import build
from wibestore.settings import Settings

ME = "/api/v1/auth/me/"


def fresh_connection_me(base: str, access: str) -> int:
    """One request on a new connection, so the kernel may hand it to either worker."""
    return httpx.get(f"{base}{ME}", headers={"Authorization": f"Bearer {access}"}).status_code


@pytest.mark.slow
def test_a_logout_answered_by_one_process_is_401_at_once_in_every_other(
    production: Deployment,
) -> None:
    container = build(Settings.from_env(production.env), fast_passwords=True)
    container.start(projectors=False)  # follows the projector process's NOTIFY, as a worker does
    try:
        with httpx.Client(base_url=production.base, timeout=10) as http:
            body = {"email": "two@example.uz", "password": PASSWORD}
            registered = http.post("/api/v1/auth/register/", json=body)
            assert registered.status_code == 201, registered.text
            user_id = UUID(registered.json()["data"]["user"]["id"])
            phone = registered.json()["data"]["tokens"]
            laptop = http.post("/api/v1/auth/login/", json=body).json()["data"]["tokens"]
        for _ in range(6):
            assert fresh_connection_me(production.base, phone["access"]) == 200

        with container.read_your_writes():  # answered here, in neither worker
            container.accounts.log_out(Actor.user(user_id), phone["refresh"])
        for _ in range(8):
            assert fresh_connection_me(production.base, phone["access"]) == 401
            assert fresh_connection_me(production.base, laptop["access"]) == 200

        with httpx.Client(base_url=production.base, timeout=10) as http:  # answered by a worker
            out = http.post(
                "/api/v1/auth/logout/",
                json={"refresh": laptop["refresh"]},
                headers={"Authorization": f"Bearer {laptop['access']}"},
            )
            assert out.status_code == 200, out.text
        for _ in range(8):
            assert fresh_connection_me(production.base, laptop["access"]) == 401
    finally:
        container.close()


@pytest.mark.slow
def test_a_ban_answered_by_one_process_is_401_at_once_in_every_other(
    production: Deployment,
) -> None:
    """A staff ban over HTTP (one worker) refuses the user's tokens in both workers from the
    next request, and a ban made by a third process (the operator's) likewise."""
    operator = Actor.platform("operator")
    container = build(Settings.from_env(production.env), fast_passwords=True)
    container.start(projectors=False)
    try:
        with container.read_your_writes():
            container.accounts.create_user(operator, "boss@example.uz", PASSWORD, staff=True)
        with httpx.Client(base_url=production.base, timeout=10) as http:
            staff = http.post(
                "/api/v1/auth/login/", json={"email": "boss@example.uz", "password": PASSWORD}
            ).json()["data"]["tokens"]["access"]
            tokens = {}
            for email in ("fraud@example.uz", "other@example.uz"):
                made = http.post(
                    "/api/v1/auth/register/", json={"email": email, "password": PASSWORD}
                )
                assert made.status_code == 201, made.text
                tokens[email] = made.json()["data"]
            fraud = tokens["fraud@example.uz"]
            banned = http.post(
                f"/api/v1/admin-panel/users/{fraud['user']['id']}/ban/",
                json={"action": "ban", "reason": "fraud"},
                headers={"Authorization": f"Bearer {staff}"},
            )
            assert banned.status_code == 200, banned.text
        for _ in range(8):
            assert fresh_connection_me(production.base, fraud["tokens"]["access"]) == 401
        other = tokens["other@example.uz"]
        assert fresh_connection_me(production.base, other["tokens"]["access"]) == 200
        with container.read_your_writes():  # answered here, in neither worker
            container.accounts.ban(operator, UUID(other["user"]["id"]), "spam")
        for _ in range(8):
            assert fresh_connection_me(production.base, other["tokens"]["access"]) == 401
    finally:
        container.close()
