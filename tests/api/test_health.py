"""CONTRACT §6: health endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import bearer, error, register
from tests.conftest import PgSchemas, make_settings
from wibestore.container import Container
from wibestore.settings import Settings

HEALTH_TOKEN = "health-token-for-monitoring-0123"


@pytest.fixture
def settings(backend: str, tmp_path: Path, pg_schemas: PgSchemas | None) -> Settings:
    return make_settings(backend, tmp_path, pg_schemas, health_token=HEALTH_TOKEN)


def test_health_is_ok(client: TestClient[Any]) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_detailed_health_reports_every_dependency_and_projection_lag_to_staff(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    register(client)
    response = client.get("/health/detailed/", headers=market["staff"])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["celery"] == "ok"
    lag = body["checks"]["projections"]["users"]
    assert lag["lag_events"] == 0
    assert lag["position"] == lag["head"] > 0


def test_detailed_health_is_503_when_the_read_database_is_down(
    client: TestClient[Any], container: Container, market: dict[str, Any]
) -> None:
    container.store.engine.dispose()
    broken = (
        container.store.engine.url.set(database="/nonexistent/dir/x.sqlite")
        if (not container.store.is_postgres)
        else container.store.engine.url.set(port=1)
    )
    from sqlalchemy import create_engine

    original = container.store.engine, container.store.reader
    container.store.engine = container.store.reader = create_engine(broken)
    try:
        # A staff token is checked against the (broken) read model: monitoring's token is not.
        response = client.get("/health/detailed/", headers={"X-Health-Token": HEALTH_TOKEN})
        anonymous = client.get("/health/detailed/")
        staff = client.get("/health/detailed/", headers=market["staff"])  # cannot be checked
    finally:
        container.store.engine, container.store.reader = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"].startswith("error: ")
    assert anonymous.status_code == 503
    assert anonymous.json()["status"] == "degraded"
    assert anonymous.json()["checks"]["database"] == "error"  # no text: it names hosts
    assert (staff.status_code, staff.json()) == (503, anonymous.json())


def test_anonymous_detailed_health_says_only_whether_each_dependency_is_up(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    register(client)
    response = client.get("/health/detailed/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "cache", "celery", "rate_limits", "projections"}
    assert set(body["checks"].values()) == {"ok"}  # the word only: no positions, no hosts
    for who in (market["buyer"], {"X-Health-Token": "wrong"}):
        assert client.get("/health/detailed/", headers=who).json() == response.json()


def test_staff_and_the_health_token_see_detailed_health_in_full(
    client: TestClient[Any], market: dict[str, Any]
) -> None:
    for who in (market["staff"], bearer(HEALTH_TOKEN), {"X-Health-Token": HEALTH_TOKEN}):
        response = client.get("/health/detailed/", headers=who)
        assert response.status_code == 200
        assert response.json()["checks"]["projections"]["users"]["position"] > 0
    forged = client.get("/health/detailed/", headers=bearer("not-the-health-token"))
    assert forged.status_code == 401
    assert error(forged)["code"] == "TOKEN_NOT_VALID"


def test_the_openapi_schema_and_ui_are_public(client: TestClient[Any]) -> None:
    schema = client.get("/api/v1/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/auth/register" in str(schema.json()["paths"])
    docs = client.get("/api/v1/docs/", follow_redirects=True)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_cors_preflight_allows_the_frontends_headers_on_every_method(
    client: TestClient[Any],
) -> None:
    response = client.options(
        "/api/v1/auth/me/",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-allow-credentials"] == "true"
