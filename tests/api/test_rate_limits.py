"""CONTRACT §6 throttles: per address when anonymous, per user when signed in, tighter for
sign-in and uploads; 429 THROTTLED with Retry-After; liveness and media never throttled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.ratelimit import parse_limits
from tests.api.conftest import PASSWORD, bearer, error
from tests.conftest import FixedClock, PgSchemas, make_settings
from tests.images import encoded
from wibestore.container import build


@pytest.fixture
def client(
    backend: str, tmp_path: Path, pg_schemas: PgSchemas | None, clock: FixedClock
) -> Iterator[TestClient[Any]]:
    settings = make_settings(
        backend, tmp_path, pg_schemas, rate_limits="anon=3,user=4,uploads=2,auth=2"
    )
    container = build(settings, clock=clock, fast_passwords=True)
    container.start()
    with TestClient(create_app(container)) as c:
        yield c
    container.close()


def throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    err = error(response)
    assert err["code"] == "THROTTLED"
    assert err["message"].startswith("Request was throttled. Expected available in ")
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_anonymous_calls_are_counted_per_address(client: TestClient[Any]) -> None:
    for _ in range(3):
        assert client.get("/api/v1/games/").status_code == 200
    throttled(client.get("/api/v1/games/"))
    assert client.get("/health/").status_code == 200  # liveness is never throttled


def test_detailed_health_is_limited_like_any_anonymous_call(client: TestClient[Any]) -> None:
    """So a HEALTH_TOKEN cannot be guessed at speed."""
    for _ in range(3):
        wrong = client.get("/health/detailed/", headers={"X-Health-Token": "guess"})
        assert wrong.status_code == 200
    throttled(client.get("/health/detailed/", headers={"X-Health-Token": "guess"}))


def test_sign_in_attempts_have_their_own_tight_limit(client: TestClient[Any]) -> None:
    body = {"email": "a@example.uz", "password": PASSWORD}
    assert client.post("/api/v1/auth/register/", json=body).status_code == 201
    assert client.post("/api/v1/auth/login/", json=body).status_code == 200
    throttled(client.post("/api/v1/auth/login/", json=body))


def test_a_signed_in_user_has_a_quota_of_their_own(client: TestClient[Any]) -> None:
    body = {"email": "u@example.uz", "password": PASSWORD}
    access = client.post("/api/v1/auth/register/", json=body).json()["data"]["tokens"]["access"]
    for _ in range(3):
        client.get("/api/v1/games/")  # spends the address's anonymous quota
    for _ in range(4):
        assert client.get("/api/v1/auth/me/", headers=bearer(access)).status_code == 200
    throttled(client.get("/api/v1/auth/me/", headers=bearer(access)))


def test_uploads_are_limited_per_user(client: TestClient[Any]) -> None:
    body = {"email": "p@example.uz", "password": PASSWORD}
    access = client.post("/api/v1/auth/register/", json=body).json()["data"]["tokens"]["access"]
    for _ in range(2):
        r = client.post(
            "/api/v1/upload/image/",
            headers=bearer(access),
            files={"image": ("a.png", encoded("PNG"), "image/png")},
        )
        assert r.status_code == 201
    throttled(
        client.post(
            "/api/v1/upload/image/",
            headers=bearer(access),
            files={"image": ("a.png", encoded("PNG"), "image/png")},
        )
    )


def test_limits_are_configured_by_name_or_turned_off() -> None:
    assert parse_limits("") == {"anon": 30, "user": 100, "uploads": 20, "auth": 10, "chat": 30}
    assert parse_limits("user=500,anon=0") == {"user": 500, "uploads": 20, "auth": 10, "chat": 30}
    assert parse_limits("off") == {}
    with pytest.raises(ValueError, match="bad RATE_LIMITS"):
        parse_limits("everything=1")


@pytest.mark.parametrize(("limit", "slack"), [(10, 0), (100, 10)])
def test_two_workers_share_one_count_in_redis(limit: int, slack: int) -> None:
    """Two API processes (two limiters) serving one client alternately: small limits are
    exact, large ones overshoot by at most 5 % per worker."""
    import asyncio
    import uuid

    from adapters.request_counts import RequestCounts
    from api.errors import ApiError
    from api.ratelimit import RateLimiter
    from tests.conftest import REDIS_URL, redis_key_prefix, require_redis

    require_redis()
    prefix = redis_key_prefix()  # one Redis namespace, as two processes of one deployment
    workers = [
        RateLimiter({"anon": limit}, RequestCounts(REDIS_URL, key_prefix=prefix)) for _ in range(2)
    ]
    who = f"ip:{uuid.uuid4()}"

    async def hammer() -> int:
        allowed, refused = 0, []
        for n in range(3 * limit):
            try:
                await workers[n % 2].check("anon", who)
                allowed += 1
            except ApiError as e:
                refused.append(e.status)
        assert set(refused) == {429}
        return allowed

    allowed = asyncio.run(hammer())
    assert limit <= allowed <= limit + slack
