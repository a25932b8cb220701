from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(container)) as c:
        yield c


def register(client: TestClient[Any], email: str = "ann@example.uz", **extra: Any) -> Any:
    response = client.post(
        "/api/v1/auth/register/", json={"email": email, "password": PASSWORD, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return dict(body["error"])


@pytest.fixture
def market(client: TestClient[Any], container: Container) -> dict[str, Any]:
    """The catalogue, a seller, a buyer and a staff member (their auth headers)."""
    with container.read_your_writes():
        seed_games(container.catalogue)
        container.accounts.create_user("staff@example.uz", PASSWORD, staff=True)
    staff = client.post(
        "/api/v1/auth/login/", json={"email": "staff@example.uz", "password": PASSWORD}
    )
    return {
        "seller": bearer(
            register(client, "seller@example.uz", full_name="Sam Seller")["tokens"]["access"]
        ),
        "buyer": bearer(register(client, "buyer@example.uz")["tokens"]["access"]),
        "staff": bearer(staff.json()["data"]["tokens"]["access"]),
    }
