"""Anonymous listing pages and details come from a per-process cache (api/listing_cache.py):
byte for byte what the handler computes, and never older than a command the caller saw answered."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from api.listing_cache import ListingResponses, responses_for
from projections.runtime import PositionBoard
from tests.api.test_listings import approved
from wibestore.container import Container

PUBLIC = ("/api/v1/listings/?page=1&limit=24", "/api/v1/games/pubg-mobile/listings/")


def cache_of(container: Container) -> ListingResponses:
    return responses_for(container.board)


def test_a_second_anonymous_read_is_the_same_bytes_and_headers_from_the_cache(
    client: TestClient[Any], market: dict[str, Any], container: Container
) -> None:
    listing_id = approved(client, market)
    for path in (*PUBLIC, f"/api/v1/listings/{listing_id}/"):
        first = client.get(path)
        kept = len(cache_of(container))
        again = client.get(path)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.headers == first.headers
        assert len(cache_of(container)) == kept > 0


def test_a_cached_body_equals_the_one_computed_for_a_caller_with_a_token(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    """The buyer favourites nothing, so their answer (never cached) must be the same bytes."""
    listing_id = approved(client, market, title="Same for all")
    for path in (*PUBLIC, f"/api/v1/listings/{listing_id}/"):
        client.get(path)
        cached = client.get(path)
        computed = client.get(path, headers=market["buyer"])
        assert cached.content == computed.content
        assert cached.headers["content-type"] == computed.headers["content-type"]


def test_a_callers_own_fields_are_never_shared(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing_id = approved(client, market)
    path = f"/api/v1/listings/{listing_id}/"
    client.post(f"{path}favorite/", headers=market["buyer"])
    assert client.get(path, headers=market["buyer"]).json()["is_favorited"] is True
    assert client.get(path).json()["is_favorited"] is False
    assert client.get(path, headers=market["buyer"]).json()["is_favorited"] is True
    assert client.get(path).json()["is_favorited"] is False


def test_an_anonymous_reader_sees_every_command_as_soon_as_it_is_answered(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    first = approved(client, market, title="First")
    detail = f"/api/v1/listings/{first}/"
    assert [i["title"] for i in client.get(PUBLIC[0]).json()["results"]] == ["First"]
    assert client.get(detail).json()["price"] == "1500000.00"

    second = approved(client, market, title="Second")
    assert [i["title"] for i in client.get(PUBLIC[0]).json()["results"]] == ["Second", "First"]
    assert client.get(PUBLIC[1]).json()["count"] == 2

    client.patch(detail, headers=market["seller"], json={"price": "990000"})
    assert client.get(detail).json()["price"] == "990000.00"
    assert client.get(PUBLIC[0]).json()["results"][1]["price"] == "990000.00"

    client.post(f"{detail}favorite/", headers=market["buyer"])
    assert client.get(detail).json()["favorites_count"] == 1

    client.post(f"{detail}view/")
    assert client.get(detail).json()["views_count"] == 1

    assert client.delete(f"/api/v1/listings/{second}/", headers=market["seller"]).status_code == 204
    assert [i["title"] for i in client.get(PUBLIC[0]).json()["results"]] == ["First"]
    assert client.get(f"/api/v1/listings/{second}/").status_code == 404


def test_a_sellers_new_name_shows_on_cached_cards_at_once(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    """Cards join the users read model: its events must start a new generation too."""
    listing_id = approved(client, market)
    detail = f"/api/v1/listings/{listing_id}/"
    assert client.get(detail).json()["seller"]["display_name"] == "Sam Seller"
    renamed = client.patch("/api/v1/profile/", headers=market["seller"], json={"full_name": "Al"})
    assert renamed.status_code == 200, renamed.text
    assert client.get(detail).json()["seller"]["display_name"] == "Al"
    assert client.get(PUBLIC[0]).json()["results"][0]["seller"]["display_name"] == "Al"


def test_errors_are_not_kept(client: TestClient[Any], market: dict[str, Any]) -> None:
    approved(client, market)
    assert client.get("/api/v1/listings/?min_price=lots").status_code == 400
    assert client.get("/api/v1/listings/?page=9").status_code == 404
    assert client.get("/api/v1/listings/?min_price=lots").status_code == 400
    assert client.get("/api/v1/listings/?page=9").status_code == 404


def test_a_body_read_before_the_board_moved_is_not_kept() -> None:
    board = PositionBoard()
    board.register("listings", 5)
    cache = ListingResponses(board)
    before = cache.generation()
    assert cache.find("u", before) is None
    board.advance(["listings"], 6)  # an event lands while the body is being read
    cache.keep("u", before, b"old")
    now = cache.generation()
    assert cache.find("u", now) is None
    cache.keep("u", now, b"new")
    assert cache.find("u", now) == b"new"
    assert cache.find("u", before) is None  # an older generation starts over, empty


def test_nothing_is_kept_without_a_registered_read_model() -> None:
    cache = ListingResponses(PositionBoard())
    generation = cache.generation()
    cache.find("u", generation)
    cache.keep("u", generation, b"body")
    assert cache.find("u", generation) is None


def test_the_cache_stays_bounded_and_entries_expire() -> None:
    board = PositionBoard()
    board.register("listings", 1)
    now = [0.0]
    cache = ListingResponses(board, max_entries=2, max_age=10.0, clock=lambda: now[0])
    g = cache.generation()
    cache.find("a", g)
    for url in ("a", "b", "c"):
        cache.keep(url, g, url.encode())
    assert (cache.find("a", g), cache.find("b", g), cache.find("c", g)) == (None, b"b", b"c")
    now[0] = 10.5
    assert cache.find("c", g) is None
