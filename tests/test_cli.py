"""The `wibestore` command line, run as the operator runs it."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from projections.games import games
from projections.users import users
from tests.conftest import process_env
from wibestore.container import build
from wibestore.seed import GAMES
from wibestore.settings import Settings


def wibestore(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wibestore.cli", *args],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_seed_and_user_create(settings: Settings) -> None:
    assert wibestore(settings, "migrate").returncode == 0
    first = wibestore(settings, "seed")
    assert first.returncode == 0, first.stderr
    assert "admin@wibestore.local  password: " in first.stdout
    assert f"games: {len(GAMES)} added" in first.stdout
    again = wibestore(settings, "seed")
    assert "games: 0 added" in again.stdout

    created = wibestore(
        settings,
        "user",
        "create",
        "--email",
        "ops@example.uz",
        "--password",
        "0ps-Secret!",
        "--staff",
    )
    assert created.returncode == 0, created.stderr
    duplicate = wibestore(
        settings, "user", "create", "--email", "OPS@example.uz", "--password", "0ps-Secret!"
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    container = build(settings)
    try:
        with container.store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(games)).scalar_one() == len(GAMES)
            staff = conn.execute(select(users.c.email).where(users.c.is_staff)).scalars().all()
        assert sorted(staff) == ["admin@wibestore.local", "ops@example.uz"]
    finally:
        container.close()


def test_a_production_start_without_secrets_fails_clearly(settings: Settings) -> None:
    env = process_env(settings, WIBESTORE_ENV="production")
    for name in ("JWT_SECRET", "CREDENTIALS_KEY", "DATABASE_URL"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "production needs JWT_SECRET, DATABASE_URL, CREDENTIALS_KEY" in result.stderr


def test_telegram_code_stands_in_for_the_bot(settings: Settings) -> None:
    assert wibestore(settings, "migrate").returncode == 0
    issued = wibestore(
        settings, "telegram-code", "--phone", "90 123 45 67", "--telegram-id", "42", "--name", "Ann"
    )
    assert issued.returncode == 0, issued.stderr
    code = issued.stdout.split()[0]
    container = build(settings)
    try:
        container.start()
        signed = container.phone_codes.sign_in_with_telegram("+998901234567", code)
        assert container.accounts.profile(signed.user_id).full_name == "Ann"
    finally:
        container.close()
    bad = wibestore(settings, "telegram-code", "--phone", "123", "--telegram-id", "42")
    assert bad.returncode == 1
    assert "phone" in bad.stderr
