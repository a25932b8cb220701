"""CONTRACT §2.10 reviews and L10, end to end: the buyer of a released purchase reviews its
seller once, the author edits or deletes, the seller replies once, others mark it helpful;
the seller's rating is the average to two places (§3.1, §3.7). Bad input is a clear 4xx in
the error envelope and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from application.actor import Actor
from tests.api.conftest import bearer, error, register
from tests.conftest import FixedClock
from tests.rebuild import assert_read_models_equal_a_rebuild
from wibestore.container import Container

Client = TestClient[Any]
UZS = 100
PRICE = 100_000 * UZS
REVIEW_FIELDS = {
    "id",
    "reviewer",
    "reviewee",
    "listing",
    "escrow",
    "rating",
    "comment",
    "is_moderated",
    "reply",
    "reply_at",
    "created_at",
    "helpful_count",  # beyond the contract: votes are counted
}
USER_PUBLIC_FIELDS = {
    "id",
    "username",
    "display_name",
    "avatar",
    "rating",
    "reviews_count",
    "total_sales",
    "created_at",
    "plan",
    "is_premium",
    "is_pro",
}
REVIEWS = "/api/v1/reviews"


def user_id(client: Client, who: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(client.get("/api/v1/auth/me/", headers=who).json()["id"])


class Shop:
    """A seller's listings bought by buyers, settled through the application (the reviews are
    what these tests drive through HTTP)."""

    def __init__(self, client: Client, container: Container, market: dict[str, Any]) -> None:
        self.client, self.container, self.market = client, container, market
        self.seller = user_id(client, market["seller"])
        self.staff = user_id(client, market["staff"])

    def purchase(self, buyer: dict[str, str], *, release: bool = True) -> tuple[str, str]:
        """(escrow id, listing id) of a purchase by ``buyer``, released unless told."""
        c = self.container
        buyer_id = user_id(self.client, buyer)
        with c.read_your_writes():
            c.payments.credit_deposit(Actor.platform("seed"), buyer_id, uuid.uuid4(), PRICE)
            listing = c.listings.create_listing(
                Actor.user(self.seller),
                "pubg-mobile",
                {"title": "Level 80 account", "description": "D", "price": PRICE},
            )
            c.listings.approve_listing(Actor.user(self.staff), listing)
            escrow = c.escrows.purchase(Actor.user(buyer_id), listing).id
            if release:
                c.escrows.confirm_purchase(Actor.user(buyer_id), escrow)
        return str(escrow), str(listing)


@pytest.fixture
def shop(client: Client, container: Container, market: dict[str, Any]) -> Shop:
    return Shop(client, container, market)


@pytest.fixture
def stranger(client: Client) -> dict[str, str]:
    return bearer(register(client, "eve@example.uz")["tokens"]["access"])


def review(client: Client, who: dict[str, str], escrow: str, rating: Any = 5, **more: Any) -> Any:
    return client.post(
        f"{REVIEWS}/", json={"escrow_id": escrow, "rating": rating, **more}, headers=who
    )


def written(client: Client, who: dict[str, str], escrow: str, rating: int = 5) -> dict[str, Any]:
    r = review(client, who, escrow, rating)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def public(client: Client, user: uuid.UUID) -> dict[str, Any]:
    r = client.get(f"/api/v1/auth/users/{user}/")
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- the happy paths --------------------------------------------------------------------------
def test_the_buyer_of_a_released_purchase_reviews_its_seller(
    client: Client, shop: Shop, market: dict[str, Any]
) -> None:
    escrow, listing = shop.purchase(market["buyer"])
    assert public(client, shop.seller)["rating"] == "5.00"  # nobody has reviewed them yet
    r = review(client, market["buyer"], escrow, 4, comment="  Fast and honest  ")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"success", "message", "data"}
    assert (body["success"], body["message"]) == (True, "Review submitted successfully.")
    data = body["data"]
    assert set(data) == REVIEW_FIELDS
    assert set(data["reviewer"]) == set(data["reviewee"]) == USER_PUBLIC_FIELDS
    assert data["reviewee"]["id"] == str(shop.seller)
    assert data["reviewer"]["id"] == str(user_id(client, market["buyer"]))
    assert data["reviewee"]["display_name"] == "Sam Seller"
    assert (data["rating"], data["comment"], data["is_moderated"]) == (4, "Fast and honest", True)
    assert (data["reply"], data["reply_at"], data["helpful_count"]) == ("", None, 0)
    assert (data["listing"], data["escrow"]) == (listing, escrow)
    assert data["created_at"].endswith("+05:00")
    assert data["reviewee"]["rating"] == "4.00"
    assert data["reviewee"]["reviews_count"] == 1

    assert client.get(f"{REVIEWS}/{data['id']}/").json() == data  # anyone reads it
    for path in (f"{REVIEWS}/user/{shop.seller}/", f"/api/v1/listings/{listing}/reviews/"):
        page = client.get(path)
        assert page.status_code == 200, page.text
        assert page.json() == {"count": 1, "next": None, "previous": None, "results": [data]}
    seller = client.get("/api/v1/auth/me/", headers=market["seller"]).json()
    assert (seller["rating"], seller["reviews_count"]) == ("4.00", 1)
    card = client.get(f"/api/v1/listings/{listing}/").json()["seller"]  # sold, still shown
    assert (card["rating"], card["reviews_count"]) == ("4.00", 1)
    buyer = client.get(f"{REVIEWS}/user/{data['reviewer']['id']}/").json()
    assert buyer["count"] == 0  # a user's reviews are those they received


def test_the_sellers_rating_is_the_average_to_two_places_and_kept_when_none_remain(
    client: Client, shop: Shop, market: dict[str, Any], stranger: dict[str, str]
) -> None:
    ids = [
        written(client, market["buyer"], shop.purchase(market["buyer"])[0], 5)["id"],
        written(client, market["buyer"], shop.purchase(market["buyer"])[0], 4)["id"],
        written(client, stranger, shop.purchase(stranger)[0], 4)["id"],
    ]
    seller = public(client, shop.seller)
    assert (seller["rating"], seller["reviews_count"]) == ("4.33", 3)
    edited = client.put(f"{REVIEWS}/{ids[2]}/", json={"rating": 5}, headers=stranger)
    assert edited.status_code == 200, edited.text
    assert edited.json()["data"]["reviewee"]["rating"] == "4.67"  # 5, 4, 5
    for review_id, who, left in [
        (ids[2], stranger, ("4.50", 1 + 1)),  # 5, 4
        (ids[0], market["buyer"], ("4.00", 1)),  # 4
        (ids[1], market["buyer"], ("4.00", 0)),  # none: the last rating stays
    ]:
        assert client.delete(f"{REVIEWS}/{review_id}/", headers=who).status_code == 200
        seller = public(client, shop.seller)
        assert (seller["rating"], seller["reviews_count"]) == left


def test_the_author_edits_and_deletes_their_review(
    client: Client, shop: Shop, market: dict[str, Any], stranger: dict[str, str]
) -> None:
    escrow, listing = shop.purchase(market["buyer"])
    data = written(client, market["buyer"], escrow, 2)
    path = f"{REVIEWS}/{data['id']}/"
    r = client.put(path, json={"rating": 3, "comment": "Better after all"}, headers=market["buyer"])
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"success", "data"}
    assert (r.json()["data"]["rating"], r.json()["data"]["comment"]) == (3, "Better after all")
    r = client.put(path, json={"comment": None}, headers=market["buyer"])
    assert (r.json()["data"]["rating"], r.json()["data"]["comment"]) == (3, "")
    for who in (market["seller"], stranger, market["staff"]):
        assert error(client.put(path, json={"rating": 1}, headers=who))["code"] == "NOT_FOUND"
        assert client.delete(path, headers=who).status_code == 404
    r = client.delete(path, headers=market["buyer"])
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "message": "Review deleted."}
    assert error(client.get(path))["message"] == "Review not found."
    assert client.get(f"/api/v1/listings/{listing}/reviews/").json()["count"] == 0
    assert client.get(f"{REVIEWS}/user/{shop.seller}/").json()["count"] == 0


def test_the_reviewed_seller_replies_once_by_either_name(
    client: Client, shop: Shop, market: dict[str, Any], stranger: dict[str, str]
) -> None:
    first = written(client, market["buyer"], shop.purchase(market["buyer"])[0])
    second = written(client, stranger, shop.purchase(stranger)[0])
    r = client.post(
        f"{REVIEWS}/{first['id']}/reply/", json={"reply": "Thank you!"}, headers=market["seller"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["success"], r.json()["message"]) == (True, "Reply added.")
    assert r.json()["data"]["reply"] == "Thank you!"
    assert r.json()["data"]["reply_at"] is not None
    again = client.post(
        f"{REVIEWS}/{first['id']}/response/", json={"response": "Again"}, headers=market["seller"]
    )
    assert again.status_code == 400
    assert error(again)["message"] == "Reply already exists for this review."
    r = client.post(
        f"{REVIEWS}/{second['id']}/response/",
        json={"response": "Come again"},
        headers=market["seller"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["reply"] == "Come again"


def test_helpful_votes_are_counted_once_per_user(
    client: Client, shop: Shop, market: dict[str, Any], stranger: dict[str, str]
) -> None:
    data = written(client, market["buyer"], shop.purchase(market["buyer"])[0])
    path = f"{REVIEWS}/{data['id']}/helpful/"
    for _ in range(2):
        r = client.post(path, headers=stranger)
        assert r.status_code == 200, r.text
        assert r.json() == {"success": True, "message": "Marked as helpful."}
    assert client.post(path, headers=market["seller"]).status_code == 200
    assert client.get(f"{REVIEWS}/{data['id']}/").json()["helpful_count"] == 2
    own = client.post(path, headers=market["buyer"])
    assert own.status_code == 400
    assert error(own)["message"] == "You cannot mark your own review as helpful."


def test_a_sellers_reviews_are_paged_newest_first(
    client: Client, shop: Shop, market: dict[str, Any], clock: FixedClock
) -> None:
    ids = []
    for _ in range(3):
        ids.append(written(client, market["buyer"], shop.purchase(market["buyer"])[0])["id"])
        clock.advance(minutes=1)
    path = f"{REVIEWS}/user/{shop.seller}/"
    first = client.get(f"{path}?page=1&page_size=2").json()
    assert first["count"] == 3
    assert [r["id"] for r in first["results"]] == ids[::-1][:2]
    assert "page=2" in first["next"]
    second = client.get(f"{path}?page=2&page_size=2").json()
    assert [r["id"] for r in second["results"]] == [ids[0]]
    assert second["next"] is None
    assert client.get(f"{path}?page=3&page_size=2").status_code == 404
    assert client.get(f"{path}?limit=1&offset=1").json()["results"][0]["id"] == ids[1]


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"rating": 0}, 400, "Rating must be between 1 and 5."),
        ({"rating": 6}, 400, "Rating must be between 1 and 5."),
        ({"rating": "5"}, 400, "rating: A valid integer is required."),
        ({"rating": None}, 400, "rating: This field may not be null."),
        ({"rating": 4.5}, 400, None),
        ({"rating": True}, 400, None),
        ({"rating": [5]}, 400, None),
        ({"rating": 5, "comment": "x" * 2001}, 400, None),
        ({"rating": 5, "stars": 5}, 400, "stars: Unknown field."),
    ],
)
def test_a_bad_rating_or_body_is_refused_and_writes_nothing(
    client: Client,
    shop: Shop,
    market: dict[str, Any],
    container: Container,
    body: dict[str, Any],
    status: int,
    message: str | None,
) -> None:
    escrow, _ = shop.purchase(market["buyer"])
    before = head(container)
    r = client.post(f"{REVIEWS}/", json={"escrow_id": escrow, **body}, headers=market["buyer"])
    assert r.status_code == status, r.text
    err = error(r)
    assert err["code"] == "INVALID"
    if message is not None:
        assert err["message"] == message
    assert head(container) == before


def test_a_missing_rating_is_refused(
    client: Client, shop: Shop, market: dict[str, Any], container: Container
) -> None:
    escrow, _ = shop.purchase(market["buyer"])
    before = head(container)
    r = client.post(f"{REVIEWS}/", json={"escrow_id": escrow}, headers=market["buyer"])
    assert r.status_code == 400
    assert error(r)["details"] == {"rating": ["This field is required."]}
    assert head(container) == before


def test_only_the_buyer_of_a_released_purchase_may_review_and_only_once(
    client: Client,
    shop: Shop,
    market: dict[str, Any],
    container: Container,
    stranger: dict[str, str],
) -> None:
    released, _ = shop.purchase(market["buyer"])
    unreleased, _ = shop.purchase(market["buyer"], release=False)
    written(client, market["buyer"], released)
    before = head(container)
    for who, escrow in [
        (market["seller"], released),  # the seller's own sale
        (stranger, released),  # someone else's purchase
        (market["staff"], released),
        (market["buyer"], unreleased),  # not released yet
        (market["buyer"], str(uuid.uuid4())),  # no such purchase
    ]:
        r = review(client, who, escrow)
        assert r.status_code == 404, r.text
        assert error(r) == {
            "code": "NOT_FOUND",
            "message": "Transaction not found or not completed.",
            "details": {},
        }
    twice = review(client, market["buyer"], released, 1)
    assert twice.status_code == 400
    assert error(twice)["message"] == "Review already exists for this transaction."
    assert error(twice)["code"] == "BUSINESS_LOGIC_ERROR"
    assert head(container) == before


def test_only_the_reviewed_seller_replies(
    client: Client,
    shop: Shop,
    market: dict[str, Any],
    container: Container,
    stranger: dict[str, str],
) -> None:
    data = written(client, market["buyer"], shop.purchase(market["buyer"])[0])
    before = head(container)
    for who in (market["buyer"], stranger, market["staff"]):
        for name in ("reply", "response"):
            r = client.post(f"{REVIEWS}/{data['id']}/{name}/", json={"reply": "Hi"}, headers=who)
            assert r.status_code == 400, r.text
            assert error(r)["message"] == "Only the reviewed seller can reply."
    for body in ({}, {"reply": "   "}, {"reply": "x" * 2001}, {"reply": None}):
        r = client.post(f"{REVIEWS}/{data['id']}/reply/", json=body, headers=market["seller"])
        assert r.status_code == 400, (body, r.text)
        error(r)
    assert head(container) == before


def test_unknown_reviews_are_not_found_and_anonymous_callers_are_refused(
    client: Client, shop: Shop, market: dict[str, Any], container: Container
) -> None:
    data = written(client, market["buyer"], shop.purchase(market["buyer"])[0])
    before = head(container)
    nobody = uuid.uuid4()
    for method, path, body in [
        ("GET", f"{REVIEWS}/{nobody}/", None),
        ("PUT", f"{REVIEWS}/{nobody}/", {"rating": 3}),
        ("DELETE", f"{REVIEWS}/{nobody}/", None),
        ("POST", f"{REVIEWS}/{nobody}/reply/", {"reply": "Hi"}),
        ("POST", f"{REVIEWS}/{nobody}/response/", {"reply": "Hi"}),
        ("POST", f"{REVIEWS}/{nobody}/helpful/", None),
        ("GET", f"{REVIEWS}/user/{nobody}/", None),
        ("GET", f"/api/v1/listings/{nobody}/reviews/", None),
    ]:
        who = market["seller"] if "reply" in path or "response" in path else market["buyer"]
        r = client.request(method, path, json=body, headers=who)
        assert r.status_code == 404, (path, r.text)
        assert error(r)["code"] == "NOT_FOUND"
    assert client.get(f"{REVIEWS}/not-a-uuid/").status_code == 404
    for method, path, body in [
        ("POST", f"{REVIEWS}/", {"escrow_id": data["escrow"], "rating": 5}),
        ("PUT", f"{REVIEWS}/{data['id']}/", {"rating": 3}),
        ("DELETE", f"{REVIEWS}/{data['id']}/", None),
        ("POST", f"{REVIEWS}/{data['id']}/reply/", {"reply": "Hi"}),
        ("POST", f"{REVIEWS}/{data['id']}/response/", {"reply": "Hi"}),
        ("POST", f"{REVIEWS}/{data['id']}/helpful/", None),
    ]:
        r = client.request(method, path, json=body)
        assert r.status_code == 401, (path, r.text)
        assert error(r)["code"] == "NOT_AUTHENTICATED"
    assert head(container) == before
    assert client.get(f"{REVIEWS}/{data['id']}/", headers=bearer("not-a-token")).status_code == 401


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (0, "Rating must be between 1 and 5."),
        (6, "Rating must be between 1 and 5."),
        ("5", "rating: A valid integer is required."),
        (None, "rating: This field may not be null."),
    ],
)
def test_an_edit_with_a_bad_rating_is_refused_and_writes_nothing(
    client: Client,
    shop: Shop,
    market: dict[str, Any],
    container: Container,
    rating: Any,
    message: str,
) -> None:
    data = written(client, market["buyer"], shop.purchase(market["buyer"])[0], 3)
    before = head(container)
    r = client.put(f"{REVIEWS}/{data['id']}/", json={"rating": rating}, headers=market["buyer"])
    assert r.status_code == 400, r.text
    assert error(r)["message"] == message
    assert head(container) == before
    assert client.get(f"{REVIEWS}/{data['id']}/").json()["rating"] == 3


def test_review_commands_while_the_projector_is_down_are_accepted(
    client: Client, shop: Shop, market: dict[str, Any], container: Container
) -> None:
    """Committed all the same: 202 with the review's id and a Location to poll, or the usual
    message where that is all a command answers; the read models then catch up exactly."""
    escrow, _ = shop.purchase(market["buyer"])
    container.stop_projectors()
    container.read_your_writes.timeout = 0.2
    r = review(client, market["buyer"], escrow, 4)
    assert r.status_code == 202, r.text
    review_id = r.json()["data"]["id"]
    assert r.headers["location"] == f"{REVIEWS}/{review_id}/"
    assert r.json()["message"] == "Review submitted successfully."
    path = f"{REVIEWS}/{review_id}/"
    assert client.put(path, json={"rating": 2}, headers=market["buyer"]).status_code == 202
    reply = client.post(f"{path}reply/", json={"reply": "Sorry"}, headers=market["seller"])
    assert reply.status_code == 202
    assert client.post(f"{path}helpful/", headers=market["staff"]).status_code == 200
    for runner in container.runners:  # the projector is back
        runner.catch_up()
    assert_read_models_equal_a_rebuild(container)
    shown = client.get(path).json()
    assert (shown["rating"], shown["reply"], shown["helpful_count"]) == (2, "Sorry", 1)
    assert shown["reviewee"]["rating"] == "2.00"
