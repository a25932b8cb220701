"""CONTRACT §2.11 reports and §2.12 AD8-AD9: users report listings and users; staff list them
and resolve or dismiss each once. Exact shapes and messages; bad input is a clear 4xx in the
error envelope and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any, get_args

import msgspec
import pytest
from litestar.testing import TestClient

from api.report_schemas import Outcome
from api.schemas import UserPublic
from application.actor import Actor
from domain.report import HIDE_AFTER_REPORTERS, OUTCOMES
from tests.api.conftest import bearer, error, register
from wibestore.container import Container

Client = TestClient[Any]
REPORTS = "/api/v1/reports/"
MINE = "/api/v1/reports/my/"
QUEUE = "/api/v1/admin-panel/reports/"
FILED = "Report submitted. Our team will review it shortly."
# The contract's UserPublic, as our UserPublic serves it (a superset: plan, is_premium...).
USER_PUBLIC = {field.name for field in msgspec.structs.fields(UserPublic)}
CONTRACT_USER_PUBLIC = {"id", "display_name", "avatar", "rating", "total_sales", "created_at"}
REPORT = {
    "id",
    "reporter",
    "reported_user",
    "reported_listing",
    "reason",
    "description",
    "evidence",
    "status",
    "resolution_note",
    "resolved_at",
    "created_at",
}


def user_id(client: Client, who: dict[str, str]) -> str:
    return str(client.get("/api/v1/auth/me/", headers=who).json()["id"])


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


@pytest.fixture
def listing(client: Client, container: Container, market: dict[str, Any]) -> str:
    """The seller's active listing."""
    seller = uuid.UUID(user_id(client, market["seller"]))
    staff = uuid.UUID(user_id(client, market["staff"]))
    with container.read_your_writes():
        made = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": "Conqueror account", "description": "D", "price": 100_000},
        )
        container.listings.approve_listing(Actor.user(staff), made)
    return str(made)


def file(client: Client, who: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(REPORTS, json={"reason": "scam", **body}, headers=who)
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_a_user_reports_a_listing_and_is_answered_with_the_report(
    client: Client, market: dict[str, Any], listing: str
) -> None:
    response = client.post(
        REPORTS,
        json={"reported_listing_id": listing, "reason": "scam", "description": "Fake rank"},
        headers=market["buyer"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["success"], body["message"]) == (True, FILED)
    report = body["data"]
    assert set(report) == REPORT
    assert set(report["reporter"]) == USER_PUBLIC >= CONTRACT_USER_PUBLIC
    assert report["reporter"]["id"] == user_id(client, market["buyer"])
    assert "email" not in report["reporter"]  # the reporter's view is the contract's Report
    assert (report["reported_listing"], report["reported_user"]) == (listing, None)
    assert (report["reason"], report["description"], report["status"]) == (
        "scam",
        "Fake rank",
        "pending",
    )
    assert (report["evidence"], report["resolution_note"], report["resolved_at"]) == ([], "", None)
    assert report["created_at"].endswith("+05:00")


def test_a_user_reports_a_user_or_a_listing_and_its_seller(
    client: Client, market: dict[str, Any], listing: str
) -> None:
    seller = user_id(client, market["seller"])
    alone = file(client, market["buyer"], reported_user_id=seller, reason="inappropriate")
    assert (alone["reported_user"], alone["reported_listing"]) == (seller, None)
    both = file(client, market["buyer"], reported_user_id=seller, reported_listing_id=listing)
    assert (both["reported_user"], both["reported_listing"]) == (seller, listing)
    # a reason outside the frontend's choices is taken, as the previous backend took it
    assert file(client, market["buyer"], reported_user_id=seller, reason="spam")["reason"] == "spam"
    unexplained = file(client, market["buyer"], reported_user_id=seller, description=None)
    assert unexplained["description"] == ""


def test_my_reports_lists_the_callers_reports_newest_first_a_page_at_a_time(
    client: Client, container: Container, market: dict[str, Any], listing: str, clock: Any
) -> None:
    seller = user_id(client, market["seller"])
    first = file(client, market["buyer"], reported_listing_id=listing)
    clock.advance(minutes=1)
    second = file(client, market["buyer"], reported_user_id=seller, description="second")
    file(client, market["staff"], reported_user_id=seller)  # someone else's
    page = client.get(MINE, params={"page": 1, "limit": 1}, headers=market["buyer"]).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert (page["count"], [r["id"] for r in page["results"]]) == (2, [second["id"]])
    assert "page=2" in page["next"] and page["previous"] is None
    rest = client.get(page["next"], headers=market["buyer"]).json()
    assert ([r["id"] for r in rest["results"]], rest["next"]) == ([first["id"]], None)
    assert client.get(MINE, headers=market["seller"]).json()["count"] == 0


BAD_BODIES = [
    ({}, "reason"),
    ({"reason": "scam"}, "reported_listing_id"),  # a report of nothing
    (
        {"reason": "scam", "reported_listing_id": None, "reported_user_id": None},
        "reported_listing_id",
    ),
    ({"reason": "scam", "reported_listing_id": "UNKNOWN"}, "reported_listing_id"),
    ({"reason": "scam", "reported_user_id": "UNKNOWN"}, "reported_user_id"),
    ({"reason": "scam", "reported_listing_id": "1"}, "reported_listing_id"),  # the mock ids
    ({"reason": "scam", "reported_user_id": 7}, "reported_user_id"),
    ({"reason": "", "reported_user_id": "SELLER"}, "reason"),
    ({"reason": "   ", "reported_user_id": "SELLER"}, "reason"),
    ({"reason": None, "reported_user_id": "SELLER"}, "reason"),
    ({"reason": 5, "reported_user_id": "SELLER"}, "reason"),
    ({"reason": ["scam"], "reported_user_id": "SELLER"}, "reason"),
    ({"reason": "x" * 51, "reported_user_id": "SELLER"}, "reason"),
    ({"reason": "scam", "description": "d" * 2001, "reported_user_id": "SELLER"}, "description"),
    ({"reason": "scam", "reported_user_id": "SELLER", "evidence": ["x"]}, "evidence"),
    ({"reason": "scam", "reported_user_id": "BUYER"}, "reported_user_id"),  # oneself
    ({"reason": "scam", "reported_listing_id": "OWN"}, "reported_listing_id"),  # one's own
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_a_bad_report_is_a_400_naming_its_field_and_writes_nothing(
    client: Client,
    container: Container,
    market: dict[str, Any],
    listing: str,
    body: dict[str, Any],
    field: str,
) -> None:
    """The buyer files each; "OWN" stands for the buyer's own listing."""
    buyer = market["buyer"]
    with container.read_your_writes():
        own = container.listings.create_listing(
            Actor.user(uuid.UUID(user_id(client, buyer))),
            "pubg-mobile",
            {"title": "Mine", "description": "D", "price": 100},
        )
    names = {
        "UNKNOWN": str(uuid.uuid4()),
        "SELLER": user_id(client, market["seller"]),
        "BUYER": user_id(client, buyer),
        "OWN": str(own),
    }
    sent = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = head(container)
    response = client.post(REPORTS, json=sent, headers=buyer)
    assert response.status_code == 400, response.text
    problem = error(response)
    assert problem["code"] == "INVALID"
    assert field in problem["details"], problem
    assert head(container) == before
    assert client.get(MINE, headers=buyer).json()["count"] == 0


def test_an_unknown_target_is_named_in_the_answer(client: Client, market: dict[str, Any]) -> None:
    unknown = str(uuid.uuid4())
    listing = error(
        client.post(
            REPORTS,
            json={"reason": "scam", "reported_listing_id": unknown},
            headers=market["buyer"],
        )
    )
    assert (listing["message"], listing["details"]) == (
        "Listing not found.",
        {"reported_listing_id": ["Listing not found."]},
    )
    user = error(
        client.post(
            REPORTS, json={"reason": "scam", "reported_user_id": unknown}, headers=market["buyer"]
        )
    )
    assert user["details"] == {"reported_user_id": ["User not found."]}


def test_the_anonymous_get_401_and_users_403_on_staff_routes(
    client: Client, container: Container, market: dict[str, Any], listing: str
) -> None:
    report = file(client, market["buyer"], reported_listing_id=listing)["id"]
    before = head(container)
    calls = [
        ("GET", REPORTS, None),
        ("PATCH", f"{REPORTS}{report}/", {"status": "resolved", "resolution": "x"}),
        ("GET", QUEUE, None),
        ("POST", f"{QUEUE}{report}/resolve/", {"action": "resolve"}),
    ]
    for method, path, body in calls:
        anonymous = client.request(method, path, json=body)
        assert (anonymous.status_code, error(anonymous)["code"]) == (401, "NOT_AUTHENTICATED")
        user = client.request(method, path, json=body, headers=market["buyer"])
        assert (user.status_code, error(user)["code"]) == (403, "PERMISSION_DENIED"), path
    for method, path in (("POST", REPORTS), ("GET", MINE)):
        body = {"reason": "scam", "reported_listing_id": listing} if method == "POST" else None
        anonymous = client.request(method, path, json=body)
        assert (anonymous.status_code, error(anonymous)["code"]) == (401, "NOT_AUTHENTICATED")
    assert head(container) == before
    assert client.get(REPORTS, headers=market["staff"]).json()["results"][0]["status"] == "pending"


def test_staff_list_every_report_with_the_listing_and_the_reporters_email(
    client: Client, market: dict[str, Any], listing: str, clock: Any
) -> None:
    seller = user_id(client, market["seller"])
    on_listing = file(client, market["buyer"], reported_listing_id=listing)
    clock.advance(minutes=1)
    on_user = file(client, market["buyer"], reported_user_id=seller)
    page = client.get(REPORTS, headers=market["staff"]).json()
    assert [r["id"] for r in page["results"]] == [on_user["id"], on_listing["id"]]  # newest first
    row = page["results"][1]
    assert set(row) == REPORT | {"resolved_by"}
    assert set(row["reporter"]) == USER_PUBLIC | {"email"}
    assert row["reporter"]["email"] == "buyer@example.uz"
    assert row["reported_listing"] == {"id": listing, "title": "Conqueror account"}
    assert (page["results"][0]["reported_listing"], page["results"][0]["reported_user"]) == (
        None,
        seller,
    )
    pending = client.get(REPORTS, params={"status": "pending"}, headers=market["staff"]).json()
    assert pending["count"] == 2
    resolved = client.get(REPORTS, params={"status": "resolved"}, headers=market["staff"]).json()
    assert resolved["count"] == 0
    bad = client.get(REPORTS, params={"status": "closed"}, headers=market["staff"])
    assert (bad.status_code, list(error(bad)["details"])) == (400, ["status"])


def test_staff_close_a_report_with_patch_once(
    client: Client, container: Container, market: dict[str, Any], listing: str
) -> None:
    report = file(client, market["buyer"], reported_listing_id=listing)["id"]
    staff = market["staff"]
    for body, field in (
        ({"status": "reviewing"}, "status"),
        ({"status": "pending"}, "status"),
        ({}, "status"),
        ({"status": "resolved", "resolution": "n" * 2001}, "resolution"),
    ):
        before = head(container)
        refused = client.patch(f"{REPORTS}{report}/", json=body, headers=staff)
        assert (refused.status_code, list(error(refused)["details"])) == (400, [field]), body
        assert head(container) == before
    done = client.patch(
        f"{REPORTS}{report}/", json={"status": "resolved", "resolution": "Removed"}, headers=staff
    )
    assert done.status_code == 200, done.text
    closed = done.json()
    assert (closed["status"], closed["resolution_note"]) == ("resolved", "Removed")
    assert closed["resolved_by"] == user_id(client, staff) and closed["resolved_at"]
    before = head(container)
    again = client.patch(f"{REPORTS}{report}/", json={"status": "dismissed"}, headers=staff)
    assert again.status_code == 400
    assert error(again) == {
        "code": "BUSINESS_LOGIC_ERROR",
        "message": "This report has already been resolved.",
        "details": {},
    }
    unknown = client.patch(f"{REPORTS}{uuid.uuid4()}/", json={"status": "dismissed"}, headers=staff)
    assert (unknown.status_code, error(unknown)["message"]) == (404, "Report not found.")
    assert head(container) == before


def test_the_admin_queue_lists_pending_reports_oldest_first_as_the_admin_page_reads_them(
    client: Client, market: dict[str, Any], listing: str, clock: Any
) -> None:
    seller = user_id(client, market["seller"])
    first = file(client, market["buyer"], reported_listing_id=listing, reason="false_info")
    clock.advance(minutes=1)
    second = file(client, market["staff"], reported_user_id=seller)
    clock.advance(minutes=1)
    closed = file(client, market["buyer"], reported_user_id=seller)
    client.post(f"{QUEUE}{closed['id']}/resolve/", json={"action": "x"}, headers=market["staff"])
    page = client.get(QUEUE, headers=market["staff"]).json()
    assert (page["count"], page["next"], page["previous"]) == (2, None, None)
    assert [r["id"] for r in page["results"]] == [first["id"], second["id"]]
    row = page["results"][0]  # what the admin page reads: r.reason, r.status, and these
    assert (row["reason"], row["status"]) == ("false_info", "pending")
    assert row["reported_listing"]["title"] == "Conqueror account"
    assert row["reporter"]["email"] == "buyer@example.uz"
    one = client.get(QUEUE, params={"page": 2, "limit": 1}, headers=market["staff"]).json()
    assert [r["id"] for r in one["results"]] == [second["id"]] and "page=1" in one["previous"]


@pytest.mark.parametrize(
    ("action", "message", "status"),
    [
        ("resolve", "Report resolved.", "resolved"),
        ("dismiss", "Report dismissed.", "dismissed"),
        ("anything", "Report dismissed.", "dismissed"),
    ],
)
def test_staff_resolve_or_dismiss_a_report_once_from_the_admin_panel(
    client: Client,
    container: Container,
    market: dict[str, Any],
    listing: str,
    action: str,
    message: str,
    status: str,
) -> None:
    report = file(client, market["buyer"], reported_listing_id=listing)["id"]
    staff = market["staff"]
    answered = client.post(
        f"{QUEUE}{report}/resolve/", json={"action": action, "note": "Checked"}, headers=staff
    )
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"success": True, "message": message}
    (mine,) = client.get(MINE, headers=market["buyer"]).json()["results"]
    assert (mine["status"], mine["resolution_note"]) == (status, "Checked")
    assert mine["resolved_at"] is not None
    assert client.get(QUEUE, headers=staff).json()["count"] == 0
    before = head(container)
    twice = client.post(f"{QUEUE}{report}/resolve/", json={"action": "resolve"}, headers=staff)
    assert (twice.status_code, error(twice)["message"]) == (
        400,
        f"This report has already been {status}.",
    )
    assert head(container) == before


def test_resolving_an_unknown_report_or_without_an_action_writes_nothing(
    client: Client, container: Container, market: dict[str, Any], listing: str
) -> None:
    report = file(client, market["buyer"], reported_listing_id=listing)["id"]
    staff = market["staff"]
    before = head(container)
    unknown = client.post(
        f"{QUEUE}{uuid.uuid4()}/resolve/", json={"action": "resolve"}, headers=staff
    )
    assert (unknown.status_code, error(unknown)) == (
        404,
        {"code": "NOT_FOUND", "message": "Report not found.", "details": {}},
    )
    no_action = client.post(f"{QUEUE}{report}/resolve/", json={}, headers=staff)
    assert (no_action.status_code, list(error(no_action)["details"])) == (400, ["action"])
    no_body = client.post(f"{QUEUE}{report}/resolve/", headers=staff)
    assert no_body.status_code == 400
    not_an_id = client.post(f"{QUEUE}42/resolve/", json={"action": "resolve"}, headers=staff)
    assert not_an_id.status_code == 404
    assert head(container) == before


def test_a_listing_enough_users_report_leaves_search_until_staff_answer(
    client: Client, container: Container, market: dict[str, Any], listing: str
) -> None:
    def titles(path: str, who: dict[str, str] | None = None) -> list[str]:
        page = client.get(path, headers=who or {}).json()
        return [row["title"] for row in page["results"]]

    crowd = [market["buyer"], market["staff"]]
    for n in range(HIDE_AFTER_REPORTERS - len(crowd)):
        crowd.append(bearer(register(client, f"crowd{n}@example.uz")["tokens"]["access"]))
    *early, last = crowd
    for who in early:
        file(client, who, reported_listing_id=listing)
    assert titles("/api/v1/listings/") == ["Conqueror account"]  # not enough users yet
    report = file(client, last, reported_listing_id=listing)["id"]
    assert titles("/api/v1/listings/") == []
    assert titles("/api/v1/games/pubg-mobile/listings/") == []
    assert client.get(f"/api/v1/listings/{listing}/").status_code == 200  # only search hides it
    assert titles("/api/v1/profile/listings/", market["seller"]) == ["Conqueror account"]
    assert titles("/api/v1/admin-panel/listings/", market["staff"]) == ["Conqueror account"]
    answered = client.post(
        f"{QUEUE}{report}/resolve/", json={"action": "dismiss"}, headers=market["staff"]
    )
    assert answered.status_code == 200
    assert titles("/api/v1/listings/") == ["Conqueror account"]


def test_the_wire_outcomes_are_the_domains() -> None:
    assert get_args(Outcome) == OUTCOMES
