"""CONTRACT §2.12 AD1 (dashboard) and AD2 (fraud figures), and the fraud signals behind AD2."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import error
from tests.api.test_listings import approved
from tests.api.test_payments import pay
from tests.api.test_reports import file

DASHBOARD = "/api/v1/admin-panel/dashboard/"
FRAUD = "/api/v1/admin-panel/stats/fraud/"
SIGNALS = "/api/v1/admin-panel/fraud/signals/"


def buy(client: TestClient[Any], market: dict[str, Any]) -> dict[str, Any]:
    listing = approved(client, market)
    r = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    )
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_the_dashboard_has_exactly_the_contracts_figures(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    empty = client.get(DASHBOARD, headers=market["staff"]).json()
    assert empty["success"] is True
    data = empty["data"]
    assert {k: set(v) for k, v in data.items()} == {
        "users": {"total", "new_this_month", "new_this_week", "verified"},
        "listings": {"total", "active", "pending", "sold"},
        "transactions": {"total_volume", "month_volume"},
        "escrow": {"active", "disputed", "completed", "total_commission"},
        "reports": {"pending", "total"},
    }
    assert data["users"] == {"total": 3, "new_this_month": 3, "new_this_week": 3, "verified": 1}
    pay(client, market["buyer"], "2000000")
    escrow = buy(client, market)
    base = f"/api/v1/payments/escrow/{escrow['id']}"
    delivered = client.post(
        f"{base}/deliver/",
        headers=market["seller"],
        json={"account_email": "a@b.uz", "account_password": "pw123456"},
    )
    assert delivered.status_code == 200, delivered.text
    assert client.post(f"{base}/confirm/", headers=market["buyer"]).status_code == 200
    reported = approved(client, market)
    file(client, market["buyer"], reported_listing_id=reported)
    data = client.get(DASHBOARD, headers=market["staff"]).json()["data"]
    assert data["reports"] == {"pending": 1, "total": 1}
    assert data["listings"] == {"total": 2, "active": 1, "pending": 0, "sold": 1}
    assert data["escrow"] == {
        "active": 0,
        "disputed": 0,
        "completed": 1,
        "total_commission": 150000.0,
    }
    assert data["transactions"]["total_volume"] > 0
    assert data["transactions"]["month_volume"] == data["transactions"]["total_volume"]


def test_a_new_accounts_high_value_purchase_is_a_signal_staff_resolve_once(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    assert client.get(FRAUD, headers=market["staff"]).json() == {
        "success": True,
        "data": {
            "suspicious_activities_unresolved": 0,
            "suspicious_resolved_this_week": 0,
            "escrow_disputed": 0,
            "reports_pending": 0,
        },
    }
    pay(client, market["buyer"], "2000000")
    escrow = buy(client, market)
    signals = client.get(SIGNALS, headers=market["staff"]).json()
    assert signals["count"] == 1
    signal = signals["results"][0]
    assert (signal["kind"], signal["escrow_id"], signal["amount"]) == (
        "new_account_high_value",
        escrow["id"],
        150_000_000,
    )
    stats = client.get(FRAUD, headers=market["staff"]).json()["data"]
    assert stats["suspicious_activities_unresolved"] == 1
    path = f"{SIGNALS}{signal['id']}/resolve/"
    assert (
        client.post(path, json={"note": "known buyer"}, headers=market["seller"]).status_code == 403
    )
    resolved = client.post(path, json={"note": "known buyer"}, headers=market["staff"])
    assert resolved.json() == {"success": True, "message": "Signal resolved."}
    again = client.post(path, json={}, headers=market["staff"])
    assert again.status_code == 409
    assert error(again)["message"] == "This signal is already resolved."
    stats = client.get(FRAUD, headers=market["staff"]).json()["data"]
    assert (stats["suspicious_activities_unresolved"], stats["suspicious_resolved_this_week"]) == (
        0,
        1,
    )
    done = client.get(SIGNALS + "?resolved=true", headers=market["staff"]).json()["results"]
    assert done[0]["resolution_note"] == "known buyer" and done[0]["resolved_by"]


def test_staff_routes_refuse_users_and_anonymous_callers(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    for path in (DASHBOARD, FRAUD, SIGNALS):
        assert client.get(path, headers=market["buyer"]).status_code == 403
        assert client.get(path).status_code == 401
    unknown = client.post(
        f"{SIGNALS}00000000-0000-0000-0000-000000000000/resolve/",
        json={},
        headers=market["staff"],
    )
    assert unknown.status_code == 404
