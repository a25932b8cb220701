"""Redis unreachable (REDIS_URL at a closed port; the suite's own Redis is untouched): rate
limits and the sign-in throttle count per process; what needs Redis to be safe (Idempotency-Key
records, queueing tasks) answers 503 with Retry-After within a second, with nothing written."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from api.app import create_app
from tests.api.conftest import PASSWORD, bearer, error, register
from tests.api.test_email_verification import resend
from tests.conftest import FixedClock, PgSchemas, make_settings
from tests.images import encoded
from wibestore.container import Container, build
from wibestore.seed import seed_games

HEALTH_TOKEN = "monitoring-token-0123456789"
MONITORING = {"X-Health-Token": HEALTH_TOKEN}
Client = TestClient[Any]
QUICK = 1.0  # seconds: a request with Redis down answers within this


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@pytest.fixture
def rate_limits() -> str:
    return "off"  # each use of Redis is tested on its own; the rate limits' test turns them on


@pytest.fixture
def container(
    backend: str,
    tmp_path: Path,
    pg_schemas: PgSchemas | None,
    clock: FixedClock,
    rate_limits: str,
) -> Iterator[Container]:
    settings = make_settings(
        backend,
        tmp_path,
        pg_schemas,
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        celery_eager=False,  # tasks go through the (unreachable) broker, as in production
        rate_limits=rate_limits,
        login_max_failures=3,
        health_token=HEALTH_TOKEN,
    )
    c = build(settings, clock=clock, fast_passwords=True)
    c.start()
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> Iterator[Client]:
    with TestClient(create_app(container)) as c:
        yield c


def timed(call: Any) -> Any:
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < QUICK, f"took {elapsed:.2f} s"
    return response


def unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert error(response)["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0


def media_files(container: Container) -> list[Path]:
    return [p for p in container.settings.media_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize("rate_limits", ["anon=3,user=100,uploads=20,auth=100"])
def test_with_redis_down_requests_are_rate_limited_per_process_and_health_says_so(
    client: Client,
) -> None:
    answers = [timed(lambda: client.get("/api/v1/games/")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    checks = client.get("/health/detailed/", headers=MONITORING).json()["checks"]
    assert checks["rate_limits"].startswith("degraded")
    assert checks["cache"].startswith("error")


def test_with_redis_down_sign_in_is_throttled_per_process(client: Client) -> None:
    register(client)
    wrong = {"email": "ann@example.uz", "password": "not-the-password"}
    failures = [timed(lambda: client.post("/api/v1/auth/login/", json=wrong)) for _ in range(3)]
    assert [r.status_code for r in failures] == [401, 401, 401]
    locked = client.post("/api/v1/auth/login/", json={**wrong, "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    checks = client.get("/health/detailed/", headers=MONITORING).json()["checks"]
    assert checks["login_throttle"].startswith("degraded")


def test_with_redis_down_an_idempotent_deposit_answers_503_and_writes_nothing(
    client: Client,
) -> None:
    ann = bearer(register(client)["tokens"]["access"])
    body = {"amount": "500000", "payment_method": "visa"}
    keyed = {**ann, "Idempotency-Key": "deposit-1"}
    unavailable(timed(lambda: client.post("/api/v1/payments/deposit/", headers=keyed, json=body)))
    assert client.get("/api/v1/payments/transactions/", headers=ann).json()["count"] == 0
    plain = client.post("/api/v1/payments/deposit/", headers=ann, json=body)
    assert plain.status_code == 201, plain.text  # without a key, Redis is not needed


def test_with_redis_down_the_sandbox_confirm_answers_503_and_the_deposit_stays_pending(
    client: Client, container: Container
) -> None:
    ann = bearer(register(client)["tokens"]["access"])
    body = {"amount": "500000", "payment_method": "visa"}
    r = client.post("/api/v1/payments/deposit/", headers=ann, json=body)
    url = urlsplit(r.json()["data"]["checkout_url"])
    checkout = f"{url.path}?{url.query}"
    unavailable(timed(lambda: client.post(checkout, json={"action": "confirm"})))
    assert container.payments.deposit(UUID(r.json()["data"]["id"])).status == "pending"


def test_with_redis_down_a_password_reset_answers_503_and_saves_nothing(
    client: Client, container: Container
) -> None:
    user_id = UUID(register(client)["user"]["id"])
    reset = {"email": "ann@example.uz"}
    unavailable(timed(lambda: client.post("/api/v1/auth/password/reset/", json=reset)))
    assert container.accounts.user(user_id).reset_token_hash is None
    assert not list((container.settings.mail_dir or Path("/nonexistent")).glob("*.eml"))


def test_with_redis_down_uploads_answer_503_and_leave_no_file(
    client: Client, container: Container
) -> None:
    ann = bearer(register(client)["tokens"]["access"])
    one = {"image": ("a.png", encoded("PNG"), "image/png")}
    unavailable(timed(lambda: client.post("/api/v1/upload/image/", headers=ann, files=one)))
    many = [
        ("images", ("a.png", encoded("PNG"), "image/png")),
        ("images", ("b.jpg", encoded("JPEG"), "image/jpeg")),
    ]
    unavailable(client.post("/api/v1/upload/images/", headers=ann, files=many))
    with container.read_your_writes():
        seed_games(container.catalogue)
    listing = client.post(
        "/api/v1/listings/",
        headers=ann,
        json={"game": "roblox", "title": "Robux account", "description": "Rich", "price": 90000},
    ).json()
    path = f"/api/v1/listings/{listing['id']}/images/"
    unavailable(client.post(path, headers=ann, files=many))
    assert client.get(f"/api/v1/listings/{listing['id']}/", headers=ann).json()["images"] == []
    assert media_files(container) == []


def test_with_redis_down_a_registration_commits_and_a_new_link_answers_503(
    client: Client, container: Container, clock: FixedClock
) -> None:
    data = timed(lambda: register(client))  # committed: answered 201, though nothing was mailed
    assert not list((container.settings.mail_dir or Path("/nonexistent")).glob("*.eml"))
    user = container.accounts.user(UUID(data["user"]["id"]))
    clock.advance(minutes=1)
    unavailable(timed(lambda: resend(client, data["tokens"]["access"])))
    assert container.accounts.user(user.id).verify_token_hash == user.verify_token_hash


def test_with_redis_down_chats_work_over_rest_and_sockets_ask_to_come_back_later(
    client: Client,
) -> None:
    """Presence cannot be known (everyone is notified), publishing is dropped (sockets catch
    up later), and a socket that cannot subscribe is accepted and closed with 1013."""
    buyer = register(client, "buyer@example.uz")
    seller = register(client, "seller@example.uz")
    who = bearer(buyer["tokens"]["access"])
    room = timed(
        lambda: client.post(
            "/api/v1/chats/create/",
            json={"participant_id": seller["user"]["id"], "initial_message": "hi"},
            headers=who,
        )
    )
    assert room.status_code == 201, room.text
    room_id = room.json()["data"]["id"]
    sent = timed(
        lambda: client.post(f"/api/v1/chats/{room_id}/send/", json={"content": "x"}, headers=who)
    )
    assert sent.status_code == 201, sent.text
    token = buyer["tokens"]["access"]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/ws/chat/{room_id}/?token={token}") as ws,
    ):
        ws.receive_json(timeout=10)
    assert closed.value.code == 1013
    checks = client.get("/health/detailed/", headers=MONITORING).json()
    assert checks["checks"]["presence"].startswith("degraded")
