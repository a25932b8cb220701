"""PostgreSQL restarting under the app: 503 with Retry-After while it is down, and everything
(API, projectors in and out of process) carries on by itself once it is back, with no event
lost or applied twice. The outage is made by a proxy (tests/tcp_proxy.py), never by restarting
the machine's shared server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from eventsourcing.persistence import OperationalError
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.app import create_app
from application.actor import Actor
from projections.users import users
from tests.api.test_payments import pay, signed
from tests.conftest import (
    DATABASE_URL,
    PgSchemas,
    make_settings,
    process_env,
    require_postgres,
    require_redis,
)
from tests.ledger import audited, settled
from tests.rebuild import assert_read_models_equal_a_rebuild
from tests.tcp_proxy import TcpProxy
from wibestore.container import Container, build
from wibestore.seed import seed_games
from wibestore.settings import Settings

pytestmark = pytest.mark.postgres
PASSWORD = "Sup3r-Secret!"
RETRY_AFTER = 3


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    require_postgres()
    server = urlsplit(DATABASE_URL)
    p = TcpProxy((server.hostname or "127.0.0.1", server.port or 5432)).start()
    yield p
    p.close()


@pytest.fixture
def proxied(tmp_path: Path, proxy: TcpProxy) -> Iterator[Settings]:
    """Settings whose every connection to PostgreSQL goes through the proxy."""
    schemas = PgSchemas()
    schemas.create()
    yield make_settings(
        "postgres",
        tmp_path,
        schemas,
        database_url=proxy.url(DATABASE_URL),
        database_retry_after=RETRY_AFTER,
    )
    schemas.drop()


@pytest.fixture
def served(proxied: Settings) -> Iterator[tuple[Container, TestClient[Any]]]:
    container = build(proxied, fast_passwords=True)
    container.start()
    with TestClient(create_app(container)) as client:
        yield container, client
    container.close()


def auth(client: TestClient[Any], email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['data']['tokens']['access']}"}


def wait_for_line(path: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, path.read_text(errors="replace")
        assert time.monotonic() < deadline, f"no {text!r} in {path}"
        time.sleep(0.05)


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert set(body["error"]) == {"code", "message", "details"}
    assert response.headers["Retry-After"] == str(RETRY_AFTER)


def test_while_postgres_is_down_requests_answer_503_with_retry_after_then_succeed_when_back(
    served: tuple[Container, TestClient[Any]], proxy: TcpProxy
) -> None:
    container, client = served
    with container.read_your_writes():
        seed_games(container.catalogue)
    buyer = auth(client, "buyer@example.uz")
    pay(client, buyer, "300000")

    with proxy.outage():
        requests = [
            lambda: client.get("/api/v1/listings/"),
            lambda: client.get("/api/v1/payments/balance/", headers=buyer),
            lambda: client.post(
                "/api/v1/auth/register/", json={"email": "new@example.uz", "password": PASSWORD}
            ),
            lambda: client.post(
                "/api/v1/auth/login/", json={"email": "buyer@example.uz", "password": PASSWORD}
            ),
            lambda: client.post(
                "/api/v1/payments/deposit/",
                headers=buyer,
                json={"amount": "100000", "payment_method": "visa"},
            ),
        ]
        for request in requests:
            started = time.monotonic()
            assert_unavailable(request())
            assert time.monotonic() - started < 10, "a 503 must not hang the client"

    # Back: no restart of anything, the next requests are served (dead connections replaced).
    seller = auth(client, "seller@example.uz")
    assert client.get("/api/v1/payments/balance/", headers=buyer).json()["data"]["balance"] == (
        "300000.00"
    )
    pay(client, buyer, "200000")
    listing = client.post(
        "/api/v1/listings/",
        headers=seller,
        json={"game": "pubg-mobile", "title": "Ace", "description": "-", "price": "150000"},
    )
    assert listing.status_code == 201, listing.text
    audited(container)
    assert_read_models_equal_a_rebuild(container)


def test_after_a_restart_no_request_saw_one_read_at_most_fails_and_commands_succeed(
    served: tuple[Container, TestClient[Any]], proxy: TcpProxy
) -> None:
    """Every pooled connection died while nobody asked: a command goes through at once (the
    event store's pool is checked), a read may answer 503 once, as SQLAlchemy learns of the
    restart, and discards the whole pool."""
    container, client = served
    buyer = auth(client, "buyer@example.uz")
    assert client.get("/api/v1/listings/").status_code == 200
    proxy.cut()
    proxy.resume()
    assert (
        client.post(
            "/api/v1/auth/register/", json={"email": "next@example.uz", "password": PASSWORD}
        ).status_code
        == 201
    )
    reads = [client.get("/api/v1/payments/balance/", headers=buyer) for _ in range(3)]
    if reads[0].status_code != 200:
        assert_unavailable(reads[0])
    assert [r.status_code for r in reads[1:]] == [200, 200]
    assert_read_models_equal_a_rebuild(container)


def test_an_outage_under_load_loses_no_acknowledged_event_and_projects_each_once(
    proxied: Settings, proxy: TcpProxy, tmp_path: Path
) -> None:
    """Registrations keep coming from 4 threads while the projector runs in its own process
    (`wibestore project`) behind the same proxy; the connections are cut for 2 s."""
    container = build(proxied, fast_passwords=True)
    container.start(projectors=False)
    log_path = tmp_path / "projector.log"
    log = log_path.open("wb")
    projector = subprocess.Popen(
        [sys.executable, "-m", "wibestore.cli", "project"],
        env=process_env(proxied),
        stdout=log,
        stderr=log,
    )
    wait_for_line(log_path, "projecting", projector)
    acknowledged: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def register(worker: int) -> None:
        n = 0
        while not stop.is_set():
            email = f"w{worker}-{n}@example.uz"
            n += 1
            try:
                container.accounts.register(email, PASSWORD)
                acknowledged.append(email)
            except OperationalError:
                refused.append(email)
                time.sleep(0.05)

    try:
        threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        with proxy.outage():
            time.sleep(2)
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert refused, "no command met the outage: cut longer"
        assert len(acknowledged) > 20

        # The projector process was not restarted, yet it reaches the head of the log.
        with container.read_your_writes():
            container.accounts.register("after@example.uz", PASSWORD)
        head = container.app.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 20
        while container.store.positions()["users"] < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert container.store.positions()["users"] == head
        with container.store.engine.connect() as conn:
            emails = list(conn.execute(select(users.c.email)).scalars())
            assert conn.execute(select(func.count()).select_from(users)).scalar() == len(emails)
        assert len(emails) == len(set(emails))
        assert set(acknowledged) | {"after@example.uz"} <= set(emails)
        # A refused command may have been saved (the connection died before its answer).
        assert set(emails) <= set(acknowledged) | set(refused) | {"after@example.uz"}
        projector.terminate()
        assert projector.wait(timeout=20) == 0
        assert_read_models_equal_a_rebuild(container)
        audited(container)
    finally:
        stop.set()
        projector.kill()
        log.close()
        container.close()


def test_a_projector_started_while_postgres_is_down_waits_for_it_then_catches_up(
    proxied: Settings, proxy: TcpProxy, tmp_path: Path
) -> None:
    container = build(proxied, fast_passwords=True)
    container.start(projectors=False)
    container.accounts.register("early@example.uz", PASSWORD)
    log_path = tmp_path / "projector.log"
    with log_path.open("wb") as log, proxy.outage():
        projector = subprocess.Popen(
            [sys.executable, "-m", "wibestore.cli", "project"],
            env=process_env(proxied),
            stdout=log,
            stderr=log,
        )
        wait_for_line(log_path, "database unreachable", projector)
    try:
        wait_for_line(log_path, "projecting", projector)
        with container.read_your_writes():
            container.accounts.register("late@example.uz", PASSWORD)
        settled(container)
        projector.terminate()
        assert projector.wait(timeout=20) == 0
        assert_read_models_equal_a_rebuild(container)
    finally:
        projector.kill()
        container.close()


@pytest.mark.slow
@pytest.mark.redis
def test_a_webhook_queued_while_postgres_is_down_is_credited_once_by_the_worker_when_back(
    proxied: Settings, proxy: TcpProxy, tmp_path: Path
) -> None:
    """A real Celery worker (Redis broker, PostgreSQL through the proxy) gets a provider's
    report while the database is down: the task retries until it is back, and credits once."""
    require_redis()
    settings = msgspec.structs.replace(proxied, celery_eager=False)
    log_path = tmp_path / "worker.log"
    log = log_path.open("wb")
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "workers.celery_app:celery", "worker"),
            *("-Q", "wibestore", "--pool", "solo", "--loglevel", "warning"),
            *("--without-gossip", "--without-mingle", "--hostname", f"outage-{tmp_path.name}@%h"),
        ],
        env=process_env(settings, CELERY_EAGER="false"),
        stdout=log,
        stderr=log,
    )
    container = build(settings, fast_passwords=True)
    container.start()
    try:
        deadline = time.monotonic() + 60
        while not container.task_queue.ping(timeout=0.5):
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker never answered"
        buyer = container.accounts.register("buyer@example.uz", PASSWORD)

        def paid_report(amount: int) -> tuple[Callable[[], None], Callable[[], bool]]:
            """A new deposit; the provider's webhook for it (to send through the queue)."""
            deposit = container.payments.request_deposit(
                Actor.user(buyer), amount, "visa", "sandbox"
            )
            payload = {
                "event": "payment.completed",
                "transaction_id": str(deposit.id),
                "provider_transaction_id": f"sbx_{deposit.id.hex[:12]}",
            }
            body, signature = signed(container, {**payload, "amount": str(amount // 100)})
            return (
                lambda: container.task_queue.deliver_webhook("sandbox", body, signature),
                lambda: container.payments.deposit(deposit.id).status == "completed",
            )

        def wait_until(done: Callable[[], bool]) -> None:
            deadline = time.monotonic() + 30
            while not done():
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.1)

        send, paid = paid_report(100_000)
        send()
        wait_until(paid)  # a worker that has been at work
        send, paid = paid_report(500_000)
        with proxy.outage():
            send()
            time.sleep(2.5)  # the worker meets the outage and retries
        wait_until(paid)
        assert "event_store.unreachable" in log_path.read_text(), "the task never met the outage"
        audited(container)
    finally:
        container.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
