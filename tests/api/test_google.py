"""CONTRACT A5: Google sign-in, with an ID token or an OAuth access token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.testing import TestClient

from api.app import create_app
from tests.api.conftest import error, register
from tests.conftest import FixedClock, PgSchemas, make_settings
from tests.fake_google import CLIENT_ID, FakeGoogle
from wibestore.container import Container, build


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture
def container(
    backend: str,
    tmp_path: Path,
    pg_schemas: PgSchemas | None,
    clock: FixedClock,
    google: FakeGoogle,
) -> Iterator[Container]:
    settings = make_settings(
        backend,
        tmp_path,
        pg_schemas,
        google_client_ids=(CLIENT_ID,),
        google_certs_url=google.certs_url,
        google_userinfo_url=google.userinfo_url,
    )
    container = build(settings, clock=clock, fast_passwords=True)
    container.start()
    yield container
    container.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(container)) as c:
        yield c


def google_login(client: TestClient[Any], **body: str) -> Any:
    return client.post("/api/v1/auth/google/", json=body)


def test_an_id_token_signs_up_a_verified_user(client: TestClient[Any], google: FakeGoogle) -> None:
    response = google_login(client, credential=google.id_token("Gia@Gmail.com", "Gia Gamer"))
    assert response.status_code == 200
    user = response.json()["data"]["user"]
    assert (user["email"], user["full_name"], user["is_verified"]) == (
        "gia@gmail.com",
        "Gia Gamer",
        True,
    )
    again = google_login(client, id_token=google.id_token("gia@gmail.com"))
    assert again.json()["data"]["user"]["id"] == user["id"]


def test_an_access_token_is_checked_at_userinfo(
    client: TestClient[Any], google: FakeGoogle
) -> None:
    google.grant_access_token("ya29.good", "gia@gmail.com", "Gia")
    response = google_login(client, access_token="ya29.good")
    assert response.status_code == 200
    assert response.json()["data"]["user"]["email"] == "gia@gmail.com"
    assert set(response.json()["data"]["tokens"]) == {"access", "refresh"}


def test_google_sign_in_verifies_an_existing_email_account(
    client: TestClient[Any], google: FakeGoogle
) -> None:
    existing = register(client, "ann@gmail.com")["user"]
    response = google_login(client, credential=google.id_token("ann@gmail.com"))
    user = response.json()["data"]["user"]
    assert user["id"] == existing["id"]
    assert user["is_verified"] is True


def test_an_unknown_access_token_is_refused(client: TestClient[Any]) -> None:
    response = google_login(client, access_token="ya29.stolen")
    assert response.status_code == 400
    err = error(response)
    assert (err["code"], err["message"]) == ("BUSINESS_LOGIC_ERROR", "Invalid Google access token.")


@pytest.mark.parametrize(
    "forge",
    [
        lambda g: g.id_token("x@gmail.com", audience="someone-else"),
        lambda g: g.id_token("x@gmail.com", issuer="https://evil.example"),
        lambda g: g.id_token("x@gmail.com", expires_in=-600),
        lambda g: g.id_token("x@gmail.com", verified=False),
        lambda g: g.id_token("x@gmail.com", key=rsa.generate_private_key(65537, 2048)),
        lambda g: "not.a.token",
    ],
)
def test_forged_id_tokens_are_refused_and_create_no_user(
    client: TestClient[Any], container: Container, google: FakeGoogle, forge: Any
) -> None:
    head = container.app.recorder.max_notification_id()
    response = google_login(client, credential=forge(google))
    assert response.status_code == 400
    assert error(response)["code"] == "BUSINESS_LOGIC_ERROR"
    assert container.app.recorder.max_notification_id() == head  # nothing saved at all
    assert container.accounts.find_user_by_email("x@gmail.com") is None


def test_a_genuine_id_token_of_the_same_address_does_create_the_user(
    client: TestClient[Any], container: Container, google: FakeGoogle
) -> None:
    """The checks above can fail: the one difference between this token and the forged
    ones is what makes Google sign-in create the user."""
    assert google_login(client, credential=google.id_token("x@gmail.com")).status_code == 200
    assert container.accounts.find_user_by_email("x@gmail.com") is not None


def test_a_body_without_any_google_token_is_400(client: TestClient[Any]) -> None:
    response = google_login(client)
    assert response.status_code == 400
    assert "access_token" in error(response)["details"]
