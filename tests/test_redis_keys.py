"""REDIS_KEY_PREFIX: every key a deployment keeps in Redis starts with it, so deployments (and
test runs) sharing one Redis database never read each other's counters, records or queues."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from litestar.testing import TestClient

from adapters.idempotency import RedisRecords
from adapters.task_queue import QUEUE, CeleryTaskQueue
from adapters.throttle import RedisLoginThrottle
from api.app import create_app
from tests.conftest import (
    REDIS_URL,
    FixedClock,
    PgSchemas,
    make_settings,
    redis_key_prefix,
    require_redis,
)
from wibestore.container import Container, build
from wibestore.jobs import JOBS

PASSWORD = "Sup3r-Secret!"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    require_redis()
    c = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def served(
    backend: str, tmp_path: Path, pg_schemas: PgSchemas | None, clock: FixedClock
) -> Iterator[tuple[Container, TestClient[Any]]]:
    if backend != "postgres":
        pytest.skip("the embedded default keeps nothing in Redis")
    settings = make_settings(
        backend, tmp_path, pg_schemas, rate_limits="anon=1000,user=1000,auth=1000"
    )
    container = build(settings, clock=clock, fast_passwords=True)
    container.start()
    with TestClient(create_app(container)) as c:
        yield container, c
    container.close()


def test_every_key_a_deployment_writes_in_redis_starts_with_its_prefix(
    served: tuple[Container, TestClient[Any]], client: redis.Redis
) -> None:
    container, http = served
    prefix = container.settings.redis_key_prefix
    assert prefix
    email = f"{uuid.uuid4().hex}@example.uz"
    registered = http.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    user_id = registered.json()["data"]["user"]["id"]
    headers = {"Authorization": f"Bearer {registered.json()['data']['tokens']['access']}"}
    wrong = http.post("/api/v1/auth/login/", json={"email": email, "password": "Wrong-123!"})
    assert wrong.status_code == 401  # a sign-in failure counted
    deposited = http.post(
        "/api/v1/payments/deposit/",
        headers={**headers, "Idempotency-Key": "k-1"},
        json={"amount": "5000", "payment_method": "visa"},
    )
    assert deposited.status_code == 201, deposited.text  # an idempotency record and a count
    ours = [k for k in client.scan_iter(count=1000) if email in k or user_id in k]
    for kind in ("idempotency:", ":login-failures:", ":rl:"):
        assert any(kind in k for k in ours), (kind, ours)
    assert all(k.startswith(prefix) for k in ours), ours


def test_deployments_with_other_prefixes_share_no_counts_or_records(client: redis.Redis) -> None:
    limits = {"max_failures": 2, "lock_seconds": 900, "account_max_failures": 5}
    one, other = redis_key_prefix(), redis_key_prefix()
    here = RedisLoginThrottle(client, **limits, key_prefix=one)
    there = RedisLoginThrottle(client, **limits, key_prefix=other)
    for _ in range(2):
        here.attempt("ann@example.uz", "203.0.113.1")
    assert here.seconds_locked("ann@example.uz", "203.0.113.1") > 0
    assert there.seconds_locked("ann@example.uz", "203.0.113.1") == 0
    same = RedisLoginThrottle(client, **limits, key_prefix=one)  # another process, same prefix
    assert same.seconds_locked("ann@example.uz", "203.0.113.1") > 0
    assert RedisRecords(client, one).claim("idempotency:u:k", "first", 60) is None
    assert RedisRecords(client, other).claim("idempotency:u:k", "second", 60) is None
    assert RedisRecords(client, one).claim("idempotency:u:k", "again", 60) == "first"


def test_the_task_queue_lives_under_the_prefix(client: redis.Redis) -> None:
    prefix = redis_key_prefix()
    queue = CeleryTaskQueue(JOBS, REDIS_URL, 1.0, prefix)
    try:
        queue.enqueue(JOBS.send_email, "ann@example.uz", "Hello", "Body")
    finally:
        queue.close()
    assert client.llen(f"{prefix}{QUEUE}") == 1
    client.delete(f"{prefix}{QUEUE}")
