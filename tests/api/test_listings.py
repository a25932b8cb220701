"""CONTRACT §2.4 listings: create, read, search, edit, delete, moderate, favourite, view."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from application.actor import Actor
from tests.api.conftest import error
from tests.conftest import FixedClock
from wibestore.container import Container

NEW = {
    "game": "pubg-mobile",
    "title": "Conqueror account, level 80",
    "description": "Glacier M416, all seasons",
    "price": "1500000",
}


def create(client: TestClient[Any], who: dict[str, str], **overrides: Any) -> dict[str, Any]:
    client.app.state.container.clock.advance(seconds=1)  # listings are ordered by creation
    body = {k: v for k, v in {**NEW, **overrides}.items() if v is not None}
    response = client.post("/api/v1/listings/", headers=who, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def approved(client: TestClient[Any], market: dict[str, Any], **overrides: Any) -> str:
    listing_id = str(create(client, market["seller"], **overrides)["id"])
    r = client.post(f"/api/v1/admin-panel/listings/{listing_id}/approve/", headers=market["staff"])
    assert r.status_code == 200, r.text
    return listing_id


def test_creating_a_listing_returns_it_pending_without_credentials(
    client: TestClient[Any], market: dict[str, Any], container: Container
) -> None:
    listing = create(
        client,
        market["seller"],
        account_email="acc@mail.uz",
        account_password="hunter2-secret",
        weapon_type="AKM",
        features=["Glacier", "X-Suit"],
        level="80",
        rank="Conqueror",
        original_price=2_000_000,
        warranty_days=7,
        login_method="social",
    )
    assert listing["status"] == "pending"
    assert listing["price"] == "1500000.00"
    assert listing["original_price"] == "2000000.00"
    assert listing["discount_percentage"] == 25
    assert listing["game"]["slug"] == "pubg-mobile"
    assert listing["gameId"] == listing["game_id"] == listing["game"]["id"]  # the profile page's
    assert listing["seller"]["display_name"] == "Sam Seller"
    assert "account_password" not in listing
    assert "account_email" not in listing
    stored = container.app.recorder.select_notifications(start=1, limit=10_000)
    assert not any(b"hunter2-secret" in n.state for n in stored)  # encrypted at rest
    seller = Actor.user(UUID(listing["seller"]["id"]))
    assert container.listings.listing_credentials(seller, UUID(listing["id"])) == {
        "account_email": "acc@mail.uz",
        "account_password": "hunter2-secret",
    }
    for path in (f"/api/v1/listings/{listing['id']}/", "/api/v1/profile/listings/"):
        assert "hunter2" not in client.get(path, headers=market["seller"]).text


def test_a_game_can_be_named_by_uuid_as_game_id(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    game_id = client.get("/api/v1/games/dota2/").json()["id"]
    listing = create(client, market["seller"], game=None, game_id=game_id)
    assert listing["game"]["slug"] == "dota2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"game": "no-such-game"}, "game"),
        ({"game": None}, "game_id"),
        ({"price": "-5"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "50_000"}, "price"),
        ({"original_price": "1e9"}, "original_price"),
        ({"price": "1.005"}, "price"),
        ({"price": "1" * 16}, "price"),
        ({"price": True}, "price"),
        ({"title": "x" * 201}, "title"),
        ({"title": "  "}, "title"),
        ({"description": ""}, "description"),
        ({"login_method": "fax"}, "login_method"),
        ({"warranty_days": -1}, "warranty_days"),
        ({"status": "active"}, "status"),
        ({"seller": "someone"}, "seller"),
    ],
)
def test_bad_listings_are_400_and_write_nothing(
    client: TestClient[Any],
    market: dict[str, Any],
    container: Container,
    body: dict[str, Any],
    field: str,
) -> None:
    before = container.app.recorder.max_notification_id()
    payload = {k: v for k, v in {**NEW, **body}.items() if v is not None}
    response = client.post("/api/v1/listings/", headers=market["seller"], json=payload)
    assert response.status_code == 400, response.text
    assert field in error(response)["details"]
    assert container.app.recorder.max_notification_id() == before


def test_creating_needs_a_signed_in_user(client: TestClient[Any], market: dict[str, Any]) -> None:
    assert client.post("/api/v1/listings/", json=NEW).status_code == 401


def test_a_pending_listing_is_not_public_until_approved(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing_id = create(client, market["seller"])["id"]
    assert client.get("/api/v1/listings/").json()["count"] == 0
    assert client.get(f"/api/v1/listings/{listing_id}/").json()["status"] == "pending"
    client.post(f"/api/v1/admin-panel/listings/{listing_id}/approve/", headers=market["staff"])
    page = client.get("/api/v1/listings/").json()
    assert [item["id"] for item in page["results"]] == [listing_id]
    assert client.get("/api/v1/games/pubg-mobile/").json()["listings_count"] == 1


def test_staff_moderation_rules(client: TestClient[Any], market: dict[str, Any]) -> None:
    first = create(client, market["seller"])["id"]
    second = create(client, market["seller"], title="Another")["id"]
    queue = client.get("/api/v1/admin-panel/listings/pending/", headers=market["staff"]).json()
    assert [i["id"] for i in queue["results"]] == [first, second]  # oldest first
    ok = client.post(f"/api/v1/admin-panel/listings/{first}/approve/", headers=market["staff"])
    assert ok.json() == {"success": True, "message": "Listing approved."}
    again = client.post(f"/api/v1/admin-panel/listings/{first}/approve/", headers=market["staff"])
    assert again.status_code == 400
    assert error(again)["message"] == "Only pending listings can be approved."
    rejected = client.post(
        f"/api/v1/admin-panel/listings/{second}/reject/",
        headers=market["staff"],
        json={"reason": "Fake screenshots"},
    )
    assert rejected.json() == {"success": True, "message": "Listing rejected."}
    mine = client.get("/api/v1/profile/listings/?status=rejected", headers=market["seller"])
    assert mine.json()["results"][0]["rejection_reason"] == "Fake screenshots"
    for who, status in ((market["buyer"], 403), ({}, 401)):
        r = client.post(f"/api/v1/admin-panel/listings/{second}/approve/", headers=who)
        assert r.status_code == status
    unknown = client.post(
        "/api/v1/admin-panel/listings/00000000-0000-0000-0000-000000000000/approve/",
        headers=market["staff"],
    )
    assert unknown.status_code == 404


def test_the_admin_patch_approves_and_boosts(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing_id = create(client, market["seller"])["id"]
    patched = client.patch(
        f"/api/v1/admin-panel/listings/{listing_id}/",
        headers=market["staff"],
        json={"status": "active", "is_premium": True},
    )
    assert (patched.json()["status"], patched.json()["is_premium"]) == ("active", True)
    listed = client.get("/api/v1/admin-panel/listings/?status=active", headers=market["staff"])
    assert listed.json()["count"] == 1


def test_search_filters(client: TestClient[Any], market: dict[str, Any]) -> None:
    cheap = approved(
        client, market, title="Cheap starter", price="50000", level="12", rank="Bronze"
    )
    mid = approved(
        client,
        market,
        game="dota2",
        title="Immortal rank",
        price="800000",
        warranty_days=7,
        rank="Immortal",
    )
    dear = approved(
        client,
        market,
        title="Whale account",
        price="9000000",
        description="Every mythic skin",
        level="95",
    )

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/listings/?{query}")
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["results"]]

    assert ids("") == [dear, mid, cheap]  # newest first
    assert ids("search=mythic SKIN") == [dear]  # every term, any case
    assert ids("search=dota") == [mid]  # the game's name
    assert ids("search=sam seller") == [dear, mid, cheap]  # the seller's name
    assert ids("search=mythic dota") == []
    assert ids("search=100%25") == []  # wildcards are literal
    assert ids("min_price=60000&max_price=800000") == [mid]
    # both bounds include a price equal to them, and not one tiyin beyond
    assert ids("min_price=800000") == [dear, mid]
    assert ids("min_price=800000.01") == [dear]
    assert ids("max_price=50000") == [cheap]
    assert ids("max_price=49999.99") == []
    assert ids("game=dota2") == [mid]
    game_id = client.get("/api/v1/games/dota2/").json()["id"]
    assert ids(f"game={game_id}") == ids(f"game_id={game_id}") == [mid]
    assert ids("has_warranty=true") == [mid]
    assert ids("has_warranty=False") == [dear, cheap]
    assert ids("level=9") == [dear]
    assert ids("rank=immortal") == [mid]
    assert ids("ordering=price") == [cheap, mid, dear]
    assert ids("ordering=-price") == [dear, mid, cheap]
    assert ids("page=2&limit=2") == [cheap]
    seller_id = client.get("/api/v1/auth/me/", headers=market["seller"]).json()["id"]
    assert ids(f"seller_id={seller_id}") == ids(f"seller={seller_id}") == [dear, mid, cheap]
    assert ids("is_premium=true") == []
    client.patch(
        f"/api/v1/admin-panel/listings/{cheap}/", headers=market["staff"], json={"is_premium": True}
    )
    assert ids("") == [cheap, dear, mid]  # premium first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ordering=-password", "ordering"),
        ("min_price=cheap", "min_price"),
        ("seller=42", "seller"),
        ("has_warranty=maybe", "has_warranty"),
        ("page=x", "page"),
    ],
)
def test_bad_search_parameters_are_400(
    client: TestClient[Any], market: dict[str, Any], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/listings/?{query}")
    assert response.status_code == 400
    assert field in error(response)["details"]


def test_a_page_beyond_the_last_is_404(client: TestClient[Any], market: dict[str, Any]) -> None:
    approved(client, market)
    assert client.get("/api/v1/listings/?page=2&limit=24").status_code == 404


def test_pagination_links_carry_the_page(client: TestClient[Any], market: dict[str, Any]) -> None:
    for i in range(3):
        approved(client, market, title=f"Account {i}")
    page = client.get("/api/v1/listings/?page=1&limit=2&game=pubg-mobile").json()
    assert "page=2" in page["next"]
    assert "game=pubg-mobile" in page["next"]


def test_only_the_owner_edits_or_deletes(client: TestClient[Any], market: dict[str, Any]) -> None:
    listing_id = approved(client, market)
    path = f"/api/v1/listings/{listing_id}/"
    assert client.patch(path, json={"price": "1"}).status_code == 401
    other = client.patch(path, headers=market["buyer"], json={"price": "1"})
    assert other.status_code == 403
    assert error(other)["code"] == "PERMISSION_DENIED"
    assert client.delete(path, headers=market["buyer"]).status_code == 403
    edited = client.patch(path, headers=market["seller"], json={"price": 1200000.5})
    assert edited.status_code == 200
    assert (edited.json()["price"], edited.json()["status"]) == ("1200000.50", "active")
    put_missing = client.put(path, headers=market["seller"], json={"title": "Only a title"})
    assert put_missing.status_code == 400
    assert client.delete(path, headers=market["seller"]).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get("/api/v1/listings/").json()["count"] == 0
    assert client.patch(path, headers=market["seller"], json={"price": "2"}).status_code == 404


def test_a_rejected_listing_that_is_fixed_goes_back_to_moderation(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing_id = create(client, market["seller"])["id"]
    client.post(
        f"/api/v1/admin-panel/listings/{listing_id}/reject/",
        headers=market["staff"],
        json={"reason": ""},
    )
    fixed = client.patch(
        f"/api/v1/listings/{listing_id}/",
        headers=market["seller"],
        json={"description": "Real screenshots now"},
    )
    assert fixed.json()["status"] == "pending"


def test_racing_edits_by_the_owner_are_never_lost_silently(
    client: TestClient[Any], market: dict[str, Any], container: Container
) -> None:
    listing_id = approved(client, market)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def edit(i: int) -> None:
        barrier.wait()
        r = client.patch(
            f"/api/v1/listings/{listing_id}/", headers=market["seller"], json={"title": f"Edit {i}"}
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    title = client.get(f"/api/v1/listings/{listing_id}/").json()["title"]
    edits = [
        n
        for n in container.app.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("Listing.Edited")
    ]
    assert len(edits) == statuses.count(200)  # every 200 is an event, every 409 wrote nothing
    assert title.startswith("Edit ")


def test_favorites_count_and_list_with_card_fields(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing_id = approved(client, market)
    path = f"/api/v1/listings/{listing_id}/favorite/"
    first = client.post(path, headers=market["buyer"])
    assert (first.status_code, first.json()["message"]) == (201, "Added to favorites.")
    second = client.post(path, headers=market["buyer"])
    assert (second.status_code, second.json()["message"]) == (200, "Already in favorites.")
    detail = client.get(f"/api/v1/listings/{listing_id}/", headers=market["buyer"]).json()
    assert (detail["favorites_count"], detail["is_favorited"]) == (1, True)
    assert client.get(f"/api/v1/listings/{listing_id}/").json()["is_favorited"] is False
    favorites = client.get("/api/v1/profile/favorites/", headers=market["buyer"]).json()
    assert "results" in favorites, favorites
    item = favorites["results"][0]
    assert isinstance(item["id"], int)
    assert item["listing"]["id"] == item["listing_id"] == listing_id
    assert item["gameId"] == item["game_id"] == item["game"]["id"]
    assert item["title"] == NEW["title"]
    assert item["price"] == "1500000.00"
    removed = client.delete(path, headers=market["buyer"])
    assert removed.json() == {"success": True, "message": "Removed from favorites."}
    not_there = client.delete(path, headers=market["buyer"])
    assert not_there.status_code == 404
    assert error(not_there)["message"] == "Not in favorites."
    assert client.get(f"/api/v1/listings/{listing_id}/").json()["favorites_count"] == 0
    assert client.post(path, headers=market["buyer"]).status_code == 201


def test_only_active_listings_can_be_favourited_or_viewed(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    pending = create(client, market["seller"])["id"]
    assert (
        client.post(f"/api/v1/listings/{pending}/favorite/", headers=market["buyer"]).status_code
        == 404
    )
    assert client.post(f"/api/v1/listings/{pending}/view/").status_code == 404


def test_a_view_counts_once_per_day_per_viewer(
    client: TestClient[Any], clock: FixedClock, market: dict[str, Any]
) -> None:
    listing_id = approved(client, market)
    path = f"/api/v1/listings/{listing_id}/view/"
    assert client.post(path).json() == {"success": True, "views_count": 1}
    assert client.post(path).json()["views_count"] == 1  # same address, same day
    assert client.post(path, headers=market["buyer"]).json()["views_count"] == 2
    assert client.post(path, headers=market["buyer"]).json()["views_count"] == 2
    clock.advance(days=1)
    assert client.post(path, headers=market["buyer"]).json()["views_count"] == 3


def test_profile_listings_show_every_status_of_mine_only(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    approved(client, market, title="Live one")
    create(client, market["seller"], title="Waiting one")
    create(client, market["buyer"], title="Someone else's")
    mine = client.get("/api/v1/profile/listings/", headers=market["seller"]).json()
    assert sorted(i["title"] for i in mine["results"]) == ["Live one", "Waiting one"]
    pending = client.get(
        "/api/v1/profile/listings/?status=pending", headers=market["seller"]
    ).json()
    assert [i["title"] for i in pending["results"]] == ["Waiting one"]
    bad = client.get("/api/v1/profile/listings/?status=lost", headers=market["seller"])
    assert bad.status_code == 400


def test_game_listings_are_the_games_active_listings(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    approved(client, market, title="PUBG one")
    approved(client, market, title="Dota one", game="dota2")
    page = client.get("/api/v1/games/dota2/listings/?page=1").json()
    assert [i["title"] for i in page["results"]] == ["Dota one"]


def test_the_daily_task_archives_listings_unsold_after_180_days(
    client: TestClient[Any], market: dict[str, Any], clock: FixedClock, container: Container
) -> None:
    from workers.tasks import archive_stale_listings, use_container

    use_container(container)

    old = approved(client, market, title="Old")
    clock.advance(days=100)
    young = approved(client, market, title="Young")
    clock.advance(days=81)
    with container.read_your_writes():  # the task runs eagerly, in this thread
        assert archive_stale_listings() == 1
    assert client.get(f"/api/v1/listings/{old}/").json()["status"] == "archived"
    assert client.get(f"/api/v1/listings/{young}/").json()["status"] == "active"
    assert archive_stale_listings() == 0
