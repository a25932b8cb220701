"""CONTRACT §2.12 AD10-AD11, the seed's PATCH of a user, and the staff audit log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import error, register
from tests.api.test_listings import approved
from tests.conftest import FixedClock

USERS = "/api/v1/admin-panel/users/"


def me(client: TestClient[Any], headers: dict[str, str]) -> Any:
    return client.get("/api/v1/auth/me/", headers=headers)


def user_id(client: TestClient[Any], headers: dict[str, str]) -> str:
    return str(me(client, headers).json()["id"])


def test_staff_list_users_newest_first_with_search_and_flags(
    client: TestClient[Any], market: dict[str, Any], clock: FixedClock
) -> None:
    page = client.get(USERS, headers=market["staff"]).json()
    assert page["count"] == 3
    emails = {u["email"] for u in page["results"]}
    assert emails == {"buyer@example.uz", "seller@example.uz", "staff@example.uz"}
    clock.advance(seconds=1)
    register(client, "late@example.uz")
    newest = client.get(USERS, headers=market["staff"]).json()["results"]
    assert newest[0]["email"] == "late@example.uz"
    assert {"is_active", "is_staff", "is_verified", "balance"} <= set(page["results"][0])
    found = client.get(USERS + "?search=SELL", headers=market["staff"]).json()
    assert [u["email"] for u in found["results"]] == ["seller@example.uz"]
    staff = client.get(USERS + "?is_staff=true", headers=market["staff"]).json()
    assert [u["email"] for u in staff["results"]] == ["staff@example.uz"]
    # Filters of the frontend's own, and values that are no flag, are ignored.
    loose = client.get(USERS + "?role=admin&is_verified=maybe&page=1", headers=market["staff"])
    assert loose.status_code == 200 and loose.json()["count"] == 4


def test_a_ban_takes_effect_at_once_and_an_unban_lifts_it(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    listing = approved(client, market)
    seller = user_id(client, market["seller"])
    banned = client.post(f"{USERS}{seller}/ban/", json={"action": "ban"}, headers=market["staff"])
    assert banned.json() == {"success": True, "message": "User banned."}
    assert me(client, market["seller"]).status_code == 401
    assert client.get(f"/api/v1/listings/{listing}/").json()["status"] == "blocked"
    assert listing not in [x["id"] for x in client.get("/api/v1/listings/").json()["results"]]
    inactive = client.get(USERS + "?is_banned=true", headers=market["staff"]).json()
    assert [u["email"] for u in inactive["results"]] == ["seller@example.uz"]
    assert inactive["results"][0]["is_active"] is False
    lifted = client.post(f"{USERS}{seller}/ban/", json={"action": "unban"}, headers=market["staff"])
    assert lifted.json() == {"success": True, "message": "User unbanned."}
    assert client.get(f"/api/v1/listings/{listing}/").json()["status"] == "active"
    assert me(client, market["seller"]).status_code == 401  # the ban revoked those tokens
    log = client.get("/api/v1/admin-panel/audit-log/", headers=market["staff"]).json()
    actions = [(a["action"], a["staff_email"], a["target_id"]) for a in log["results"]]
    assert actions[:2] == [
        ("user.unbanned", "staff@example.uz", seller),
        ("user.banned", "staff@example.uz", seller),
    ]


def test_the_patch_grants_and_revokes_staff_and_bans_in_one_save(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    buyer = user_id(client, market["buyer"])
    granted = client.patch(f"{USERS}{buyer}/", json={"is_staff": True}, headers=market["staff"])
    assert granted.status_code == 200
    assert (granted.json()["id"], granted.json()["is_staff"]) == (buyer, True)
    assert client.get(USERS, headers=market["buyer"]).status_code == 200  # staff now
    both = client.patch(
        f"{USERS}{buyer}/",
        json={"is_staff": False, "is_active": False, "reason": "fraud"},
        headers=market["staff"],
    )
    assert (both.json()["is_staff"], both.json()["is_active"]) == (False, False)


def test_staff_cannot_ban_or_unstaff_themselves_and_nothing_half_happens(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    staff = user_id(client, market["staff"])
    own = client.post(f"{USERS}{staff}/ban/", json={"action": "ban"}, headers=market["staff"])
    assert own.status_code == 400
    assert error(own)["message"] == "You cannot ban yourself."
    mixed = client.patch(
        f"{USERS}{staff}/", json={"is_active": True, "is_staff": False}, headers=market["staff"]
    )
    assert mixed.status_code == 400
    assert me(client, market["staff"]).json()["is_staff"] is True


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("{id}/ban/", {"action": "delete"}),
        ("{id}/ban/", {}),
        ("{id}/ban/", {"action": "ban", "extra": 1}),
        ("{id}/", {"is_staff": "yes please"}),
    ],
)
def test_bad_bodies_are_400(
    client: TestClient[Any], market: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    buyer = user_id(client, market["buyer"])
    url = USERS + path.format(id=buyer)
    response = (client.post if path.endswith("ban/") else client.patch)(
        url, json=body, headers=market["staff"]
    )
    assert response.status_code == 400
    assert error(response)["code"] == "INVALID"


def test_unknown_users_are_404_and_non_staff_403_anonymous_401(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    nobody = uuid.uuid4()
    ban = client.post(f"{USERS}{nobody}/ban/", json={"action": "ban"}, headers=market["staff"])
    assert ban.status_code == 404
    assert client.get(f"{USERS}{nobody}/", headers=market["staff"]).status_code == 404
    buyer = user_id(client, market["buyer"])
    for path in (USERS, f"{USERS}{buyer}/", "/api/v1/admin-panel/audit-log/"):
        assert client.get(path, headers=market["seller"]).status_code == 403
        assert client.get(path).status_code == 401
    refused = client.post(f"{USERS}{buyer}/ban/", json={"action": "ban"}, headers=market["seller"])
    assert refused.status_code == 403
    assert me(client, market["buyer"]).status_code == 200
