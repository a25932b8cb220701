"""CONTRACT §1.6: page-number pagination with limit/page_size, offset kept working."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar, Request, get
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS
from api.pagination import Page, page_of, window

ITEMS = list(range(45))


@get("/things/", sync_to_thread=False)
def things(request: Request[Any, Any, Any]) -> Page[int]:
    w = window(request)
    return page_of(request, w, len(ITEMS), ITEMS[w.offset : w.offset + w.limit])


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    with TestClient(Litestar([things], exception_handlers=EXCEPTION_HANDLERS)) as c:
        yield c


def query(url: str | None) -> dict[str, list[str]]:
    assert url is not None
    return parse_qs(urlsplit(url).query)


def test_the_first_page_links_to_page_two(client: TestClient[Any]) -> None:
    body = client.get("/things/?page=1&limit=20&search=x").json()
    assert body["count"] == 45
    assert body["results"] == list(range(20))
    assert query(body["next"]) == {"page": ["2"], "limit": ["20"], "search": ["x"]}
    assert body["previous"] is None


def test_the_last_page_has_no_next(client: TestClient[Any]) -> None:
    body = client.get("/things/?page=3&limit=20").json()
    assert body["results"] == list(range(40, 45))
    assert body["next"] is None
    assert query(body["previous"])["page"] == ["2"]


def test_page_size_is_an_alias_and_limit_is_capped(client: TestClient[Any]) -> None:
    assert len(client.get("/things/?page_size=7").json()["results"]) == 7
    assert len(client.get("/things/?limit=1000").json()["results"]) == 45


def test_offset_still_works(client: TestClient[Any]) -> None:
    assert client.get("/things/?offset=40&limit=20").json()["results"] == list(range(40, 45))


@pytest.mark.parametrize("q", ["page=4&limit=20", "page=0", "page=-1"])
def test_a_page_beyond_the_last_is_404(client: TestClient[Any], q: str) -> None:
    response = client.get(f"/things/?{q}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_non_numeric_page_is_400(client: TestClient[Any]) -> None:
    response = client.get("/things/?page=two")
    assert response.status_code == 400
    assert "page" in response.json()["error"]["details"]
