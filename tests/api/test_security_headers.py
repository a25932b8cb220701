"""Every response carries the security headers: handlers' answers, error envelopes, the
router's own 404/405, /media/ files and the Swagger UI (which still works: the policy only
forbids framing). Strict-Transport-Security is sent in production only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import FixedClock, PgSchemas, make_settings
from wibestore.container import build

Client = TestClient[Any]
EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
}


def responses(client: Client, media_dir: Path) -> dict[str, Any]:
    (media_dir / "uploads").mkdir(parents=True, exist_ok=True)
    (media_dir / "uploads" / "a.txt").write_text("hello")
    return {
        "ok": client.get("/health/"),
        "media": client.get("/media/uploads/a.txt"),
        "media 404": client.get("/media/uploads/missing.png"),
        "unknown route": client.get("/no/such/page/"),
        "method not allowed": client.delete("/health/"),
        "401 envelope": client.get("/api/v1/auth/me/"),
        "400 envelope": client.post("/api/v1/auth/login/", json={"email": 1}),
        "415 envelope": client.post("/api/v1/auth/login/", content=b"x=1"),
        "swagger": client.get("/api/v1/schema/swagger"),
        "openapi": client.get("/api/v1/schema/openapi.json"),
        "cors preflight": client.options(
            "/api/v1/auth/me/",
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
        ),
    }


def test_every_response_carries_the_security_headers(client: Client, settings: Any) -> None:
    answers = responses(client, settings.media_dir)
    assert answers["media"].text == "hello"
    assert answers["swagger"].status_code == 200 and "swagger" in answers["swagger"].text.lower()
    for name, response in answers.items():
        for header, value in EXPECTED.items():
            assert response.headers.get(header) == value, (name, header, response.status_code)
        assert "strict-transport-security" not in response.headers, name  # not in development


@pytest.fixture
def production_client(
    backend: str, tmp_path: Path, pg_schemas: PgSchemas | None
) -> Iterator[tuple[Client, Path]]:
    settings = make_settings(
        backend, tmp_path, pg_schemas, environment="production", payment_provider="none"
    )
    container = build(settings, clock=FixedClock(), fast_passwords=True)
    container.start()
    try:
        with TestClient(create_app(container)) as client:
            yield client, settings.media_dir
    finally:
        container.close()


def test_production_adds_strict_transport_security_to_every_response(
    production_client: tuple[Client, Path],
) -> None:
    client, media_dir = production_client
    for name, response in responses(client, media_dir).items():
        assert response.headers.get("strict-transport-security") == (
            "max-age=31536000; includeSubDomains"
        ), name
        assert response.headers.get("x-frame-options") == "DENY", name
