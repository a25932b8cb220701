"""Fixtures: the same suite on SQLite (embedded) and on PostgreSQL + Redis (production).

PostgreSQL and Redis are real. Locally, a missing service skips its half of the suite; with
CI=true a missing service fails the run instead.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.connections import MAX_CONNECTIONS, ConnectionSampler
from wibestore.container import Container, build
from wibestore.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Every key a test writes in Redis starts with its own prefix (REDIS_KEY_PREFIX), under this
# run's: a test's counters start at zero, and runs sharing the server never meet (nor FLUSHDB
# each other). The run's keys are deleted when it ends.
REDIS_RUN_PREFIX = f"wibestore-test:{uuid.uuid4().hex[:10]}:"


def redis_key_prefix() -> str:
    """A namespace of Redis keys no other test (or run) uses."""
    return f"{REDIS_RUN_PREFIX}{uuid.uuid4().hex[:10]}:"


_sampler: ConnectionSampler | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _sampler
    sampler = ConnectionSampler(DATABASE_URL)
    if sampler.start():
        _sampler = sampler


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _sampler is not None:
        _sampler.current_test = item.nodeid


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In CI, a run that held MAX_CONNECTIONS (25) PostgreSQL connections at once fails: the
    server is shared, and more was once "too many clients"."""
    _forget_redis_keys()
    if _sampler is None:
        return
    _sampler.stop()
    if IN_CI and _sampler.peak >= MAX_CONNECTIONS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _sampler is not None:
        over = _sampler.peak >= MAX_CONNECTIONS
        terminalreporter.write_line(
            f"PostgreSQL connections at peak: {_sampler.peak} (limit {MAX_CONNECTIONS - 1}), "
            f"during {_sampler.peak_test or '-'}"
            + (" -- OVER THE LIMIT" + (": the run fails" if IN_CI else "") if over else ""),
            red=over,
        )


def _forget_redis_keys() -> None:
    """Delete this run's keys (only this run's: another may be using the server)."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
        keys = list(client.scan_iter(match=f"{REDIS_RUN_PREFIX}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    except redis.RedisError:
        pass  # no Redis this run; or they expire on their own (a day at most)


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"CI=true requires {message}", pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:
        _unavailable("PostgreSQL", e)


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as e:
        _unavailable("Redis", e)


class FixedClock:
    """Time is an input: tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class PgSchemas:
    """A fresh pair of schemas (events, read models) per test, dropped afterwards."""

    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.events = f"t_es_{suffix}"
        self.read = f"t_rm_{suffix}"

    def create(self) -> None:
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.events}"')

    def drop(self) -> None:
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.events}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.read}" CASCADE')


BOT_SECRET = "test-bot-secret-0123456789"


def read_texts(sms_dir: Path | None) -> list[dict[str, str]]:
    """The text messages the file sender wrote, oldest first: ``{"to", "text"}`` each."""
    assert sms_dir is not None
    paths = sorted(sms_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in paths]


def make_settings(
    backend: str, tmp_path: Path, schemas: PgSchemas | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "jwt_secret": "test-secret-" + "x" * 40,
        "credentials_key": "test-credentials-key-0123456789",
        "payment_webhook_secret": "test-webhook-secret-0123456789",
        "telegram_bot_secret": BOT_SECRET,
        "sms_sender": "file",
        "sms_dir": tmp_path / "sms",
        "mailer": "file",
        "mail_dir": tmp_path / "mail",
        "frontend_url": "https://wibestore.test",
        "read_your_writes_timeout": 5.0,
        "rate_limits": "off",  # tests/api/test_rate_limits.py turns them on
        # Small pools: a test process and the processes it starts share one server with other
        # suites (tests/connections.py measures the peak; CI fails it at 25 connections).
        "postgres_pool_size": 1,
        "postgres_max_overflow": 4,
        "read_pool_size": 1,
        "read_max_overflow": 4,
    }
    if backend == "postgres":
        assert schemas is not None
        values.update(
            database_url=DATABASE_URL,
            database_schema=schemas.events,
            read_schema=schemas.read,
            redis_url=REDIS_URL,
            celery_eager=True,
        )
    values.update(overrides)
    if values.get("redis_url") and "redis_key_prefix" not in overrides:
        values["redis_key_prefix"] = redis_key_prefix()
    return Settings(**values)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_postgres()
        require_redis()
    return str(request.param)


@pytest.fixture
def pg_schemas(backend: str) -> Iterator[PgSchemas | None]:
    if backend != "postgres":
        yield None
        return
    schemas = PgSchemas()
    schemas.create()
    yield schemas
    schemas.drop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(backend: str, tmp_path: Path, pg_schemas: PgSchemas | None) -> Settings:
    return make_settings(backend, tmp_path, pg_schemas)


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    c = build(settings, clock=clock, fast_passwords=True)
    c.start()
    yield c
    c.close()


def read_mail(mail_dir: Path | None) -> list[str]:
    """The bodies of the messages the file mailer wrote, oldest first (decoded as a mail
    client would)."""
    assert mail_dir is not None
    paths = sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths
    ]
    return [str(m.get_content()) for m in messages if isinstance(m, email.message.EmailMessage)]


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a `wibestore` process use the same storage as ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "READ_"))}
    env.update(
        {
            "WIBESTORE_DATA_DIR": str(settings.data_dir),
            "JWT_SECRET": settings.jwt_secret,
            "CREDENTIALS_KEY": settings.credentials_key,
            "PAYMENT_WEBHOOK_SECRET": settings.payment_webhook_secret,
            "TELEGRAM_BOT_SECRET": settings.telegram_bot_secret,
            "MAILER": settings.mailer,
            "MAIL_DIR": str(settings.mail_dir or settings.data_dir / "mail"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.database_url:
        env.update(
            {
                "DATABASE_URL": settings.database_url,
                "DATABASE_SCHEMA": settings.database_schema,
                "READ_SCHEMA": settings.read_schema,
                "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
                "READ_POOL_SIZE": str(settings.read_pool_size),
                "READ_MAX_OVERFLOW": str(settings.read_max_overflow),
            }
        )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
        env["REDIS_KEY_PREFIX"] = settings.redis_key_prefix
    env.update(extra)
    return env


def production_env(settings: Settings, **extra: str) -> dict[str, str]:
    """``process_env`` for processes in the production shape: projectors in their own process,
    tasks run eagerly, and the sandbox's play money declared as such."""
    return process_env(
        settings,
        WIBESTORE_ENV="production",
        PAYMENT_PROVIDER="sandbox",
        ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION="true",
        RUN_PROJECTORS="false",
        CELERY_EAGER="true",
        **extra,
    )


def audit_passes(env: dict[str, str], out: Path) -> None:
    """`wibestore audit` run as the operator runs it, in its own process: it must exit 0."""
    import subprocess
    import sys

    audit = subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "audit", "--quiet", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "PASS" in audit.stdout
