"""The typed query of listing pages (api/listing_query.py): what it accepts, how it refuses,
that the OpenAPI document lists it, and that a cached anonymous page never decodes it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

import api.controllers.listings as listings_api
from api.pagination import MAX_OFFSET
from tests.api.conftest import error


def test_blank_values_count_as_not_given(client: TestClient[Any], market: dict[str, Any]) -> None:
    blanks = "search=&min_price=&max_price=&game=&seller=&is_premium=&has_warranty=&page=&limit="
    for path in ("/api/v1/listings/", "/api/v1/games/dota2/listings/"):
        response = client.get(f"{path}?{blanks}")
        assert response.status_code == 200, response.text
    mine = client.get(f"/api/v1/profile/listings/?{blanks}&status=", headers=market["seller"])
    assert mine.status_code == 200, mine.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=x", "page: A valid integer is required."),
        ("limit=1.5", "limit: A valid integer is required."),
        ("seller_id=42", "seller_id: Must be a valid UUID."),
        ("is_premium=maybe", "is_premium: Must be true or false."),
        ("search=" + "x" * 201, "search: Ensure this field has no more than 200 characters."),
    ],
)
def test_a_value_of_the_wrong_type_is_400_naming_its_parameter(
    client: TestClient[Any], market: dict[str, Any], query: str, message: str
) -> None:
    response = client.get(f"/api/v1/listings/?{query}")
    assert response.status_code == 400
    assert error(response)["message"] == message
    assert message.split(":")[0] in error(response)["details"]


def test_booleans_read_as_the_contract_says(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    for flag in ("true", "True", "false", "False", "1", "0"):
        assert client.get(f"/api/v1/listings/?has_warranty={flag}").status_code == 200


def test_a_page_no_list_reaches_is_404_and_a_far_offset_is_empty(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    assert client.get(f"/api/v1/listings/?page={MAX_OFFSET}").status_code == 404
    assert client.get("/api/v1/listings/?page=100000000000000000000").status_code == 404
    far = client.get("/api/v1/listings/?offset=100000000000000000000")
    assert (far.status_code, far.json()["results"]) == (200, [])
    assert client.get("/api/v1/games/?page=100000000000000000000").status_code == 404


def test_an_unknown_status_is_400(client: TestClient[Any], market: dict[str, Any]) -> None:
    response = client.get("/api/v1/admin-panel/listings/?status=lost", headers=market["staff"])
    assert response.status_code == 400
    assert "status" in error(response)["details"]


def test_the_openapi_document_lists_the_query(client: TestClient[Any]) -> None:
    paths = client.get("/api/v1/schema/openapi.json").json()["paths"]
    search = {p["name"]: p for p in paths["/api/v1/listings"]["get"]["parameters"]}
    assert {"search", "min_price", "game", "seller_id", "has_warranty", "ordering", "page"} <= set(
        search
    )
    assert search["has_warranty"]["schema"]["type"] == "boolean"
    assert "status" not in search
    own = {p["name"] for p in paths["/api/v1/profile/listings"]["get"]["parameters"]}
    assert "status" in own


def test_a_cached_anonymous_page_does_not_decode_its_query(
    client: TestClient[Any], market: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[type] = []
    query_of = listings_api.query_of

    def counted(request: Any, kind: type) -> Any:
        decoded.append(kind)
        return query_of(request, kind)

    monkeypatch.setattr(listings_api, "query_of", counted)
    for _ in range(3):
        assert client.get("/api/v1/listings/?page=1&limit=24&ordering=-price").status_code == 200
    assert len(decoded) == 1  # the first call computed the page; the others were cached
