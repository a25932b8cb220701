"""CONTRACT §2.2: saved searches, the caller's own only (another's number is 404)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import bearer, error, register

SEARCHES = "/api/v1/profile/saved-searches/"


@pytest.fixture
def two(client: TestClient[Any]) -> tuple[dict[str, str], dict[str, str]]:
    ann = bearer(register(client, "ann@example.uz")["tokens"]["access"])
    bob = bearer(register(client, "bob@example.uz")["tokens"]["access"])
    return ann, bob


def test_create_list_change_and_delete_ones_own(
    client: TestClient[Any], two: tuple[dict[str, str], dict[str, str]]
) -> None:
    ann, _ = two
    made = client.post(
        SEARCHES, json={"name": "PUBG cheap", "query_params": {"game": "pubg-mobile"}}, headers=ann
    )
    assert made.status_code == 201
    body = made.json()
    assert body["id"] == 1
    assert (body["name"], body["query_params"], body["notify_email"], body["is_active"]) == (
        "PUBG cheap",
        {"game": "pubg-mobile"},
        True,
        True,
    )
    assert body["last_notified_at"] is None and body["created_at"]
    client.post(SEARCHES, json={"name": "Second"}, headers=ann)
    page = client.get(SEARCHES, headers=ann).json()
    assert page["count"] == 2 and [s["id"] for s in page["results"]] == [2, 1]
    assert client.get(f"{SEARCHES}1/", headers=ann).json() == body
    patched = client.patch(f"{SEARCHES}1/", json={"is_active": False}, headers=ann).json()
    assert (patched["is_active"], patched["name"]) == (False, "PUBG cheap")
    replaced = client.put(f"{SEARCHES}1/", json={"name": "Renamed"}, headers=ann).json()
    assert (replaced["name"], replaced["query_params"], replaced["is_active"]) == (
        "Renamed",
        {},
        True,
    )
    assert client.delete(f"{SEARCHES}1/", headers=ann).status_code == 204
    assert client.get(f"{SEARCHES}1/", headers=ann).status_code == 404
    assert [s["id"] for s in client.get(SEARCHES, headers=ann).json()["results"]] == [2]


def test_anothers_searches_are_not_found(
    client: TestClient[Any], two: tuple[dict[str, str], dict[str, str]]
) -> None:
    ann, bob = two
    client.post(SEARCHES, json={"name": "Ann's"}, headers=ann)
    assert client.get(SEARCHES, headers=bob).json()["count"] == 0
    assert client.get(f"{SEARCHES}1/", headers=bob).status_code == 404
    refused = client.patch(f"{SEARCHES}1/", json={"name": "Mine now"}, headers=bob)
    assert refused.status_code == 404
    assert error(refused)["message"] == "Saved search not found."
    assert client.delete(f"{SEARCHES}1/", headers=bob).status_code == 404
    assert client.get(f"{SEARCHES}1/", headers=ann).json()["name"] == "Ann's"
    assert client.get(SEARCHES).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "n" * 101},
        {"name": "x", "query_params": {"_type_": "uuid_hex", "_data_": "0" * 32}},
        {"name": "x", "query_params": "game=pubg"},
        {"name": "x", "owner": "someone"},
    ],
)
def test_bad_searches_are_400_and_save_nothing(
    client: TestClient[Any], two: tuple[dict[str, str], dict[str, str]], body: dict[str, Any]
) -> None:
    ann, _ = two
    response = client.post(SEARCHES, json=body, headers=ann)
    assert response.status_code == 400
    assert client.get(SEARCHES, headers=ann).json()["count"] == 0


def test_a_non_number_id_is_404(
    client: TestClient[Any], two: tuple[dict[str, str], dict[str, str]]
) -> None:
    ann, _ = two
    assert client.get(f"{SEARCHES}abc/", headers=ann).status_code == 404
