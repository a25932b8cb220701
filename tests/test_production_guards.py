"""Production refuses what mints money or publishes passwords: the sandbox payment provider
(unless a loudly named setting allows it, and then says so), the demo seed, and a ledger that
holds play-money deposits."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from litestar.testing import TestClient

from api.app import create_app
from application.actor import Actor
from tests.conftest import FixedClock, process_env
from wibestore.container import build
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
UZS = 100


def wibestore(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wibestore.cli", *args],
        env=process_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(settings: Settings, **extra: str) -> dict[str, str]:
    if settings.database_url is None:
        pytest.skip("production runs on PostgreSQL only (DATABASE_URL is required)")
    return {"WIBESTORE_ENV": "production", **extra}


def test_production_refuses_to_start_with_the_sandbox_provider(settings: Settings) -> None:
    refused = wibestore(settings, "migrate", **production(settings, PAYMENT_PROVIDER="sandbox"))
    assert refused.returncode != 0
    assert "production refuses PAYMENT_PROVIDER=sandbox" in refused.stderr
    assert "ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION" in refused.stderr

    unknown = wibestore(settings, "migrate", **production(settings, PAYMENT_PROVIDER="paypal"))
    assert unknown.returncode != 0
    assert "PAYMENT_PROVIDER must be one of sandbox, none" in unknown.stderr


def test_production_without_a_provider_takes_no_deposit(settings: Settings) -> None:
    env = production(settings)
    chosen = Settings.from_env(process_env(settings, **env))
    assert chosen.payment_provider == "none"
    assert chosen.production_ledger is True
    container = build(chosen, clock=FixedClock(), fast_passwords=True)
    container.start()
    try:
        with TestClient(create_app(container)) as client:
            user = client.post(
                "/api/v1/auth/register/", json={"email": "ann@example.uz", "password": PASSWORD}
            )
            access = user.json()["data"]["tokens"]["access"]
            r = client.post(
                "/api/v1/payments/deposit/",
                json={"amount": "50000", "payment_method": "visa"},
                headers={"Authorization": f"Bearer {access}"},
            )
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "PAYMENTS_UNAVAILABLE"
            checkout = client.post(
                f"/api/v1/payments/sandbox/checkout/{uuid.uuid4()}/?token=x",
                json={"action": "confirm"},
            )
            assert checkout.status_code == 404
            webhook = client.post("/api/v1/payments/webhooks/sandbox/", content=b"{}")
            assert webhook.status_code == 400
            assert webhook.json() == {"error": "Unknown payment provider: sandbox"}
    finally:
        container.close()


def test_sandbox_payments_in_production_are_allowed_only_loudly(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    env = production(
        settings,
        PAYMENT_PROVIDER="sandbox",
        ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION="true",
        HEALTH_TOKEN="monitoring-token-0123456789",
    )
    chosen = Settings.from_env(process_env(settings, **env))
    assert chosen.sandbox_payments_in_production
    assert chosen.production_ledger is False  # its money is declared not real
    container = build(chosen, clock=FixedClock(), fast_passwords=True)
    container.start()
    try:
        assert "payments.sandbox_in_production" in capsys.readouterr().out
        with TestClient(create_app(container)) as client:
            anonymous = client.get("/health/detailed/")
            assert anonymous.json()["checks"]["payments"] == "warning"
            monitoring = client.get(
                "/health/detailed/", headers={"X-Health-Token": "monitoring-token-0123456789"}
            )
            assert "sandbox provider in production" in monitoring.json()["checks"]["payments"]
    finally:
        container.close()


def test_the_demo_seed_is_refused_in_production_and_the_catalogue_is_not(
    settings: Settings,
) -> None:
    env = production(settings)
    assert wibestore(settings, "migrate", **env).returncode == 0
    refused = wibestore(settings, "seed", **env)
    assert refused.returncode == 2
    assert "refused in production" in refused.stderr
    assert "password" not in refused.stdout
    catalogue = wibestore(settings, "seed-catalogue", **env)
    assert catalogue.returncode == 0, catalogue.stderr
    assert "games: " in catalogue.stdout
    container = build(Settings.from_env(process_env(settings, **env)))
    try:
        container.start(projectors=False)
        assert container.accounts.find_user_by_email("admin@wibestore.local") is None
        assert container.catalogue.has_game("pubg-mobile")
    finally:
        container.close()


def test_the_audit_totals_deposits_per_provider_and_fails_play_money_in_production(
    settings: Settings, client_and_container: Any, tmp_path: Path
) -> None:
    client, container = client_and_container
    tokens = client.post(
        "/api/v1/auth/register/", json={"email": "ann@example.uz", "password": PASSWORD}
    ).json()["data"]["tokens"]
    r = client.post(
        "/api/v1/payments/deposit/",
        json={"amount": "1000000000", "payment_method": "visa"},
        headers={"Authorization": f"Bearer {tokens['access']}"},
    )
    url = urlsplit(r.json()["data"]["checkout_url"])
    # Anyone holding the link can confirm a sandbox payment: that is what makes it play money.
    assert client.post(f"{url.path}?{url.query}", json={"action": "confirm"}).status_code == 200
    ann = container.accounts.find_user_by_email("ann@example.uz")
    assert ann is not None
    container.payments.credit_deposit(
        Actor.platform("seed"), ann.id, uuid.uuid4(), 5_000 * UZS, provider="demo"
    )
    assert container.board.wait_for(container.app.recorder.max_notification_id() or 0, 10)

    development = wibestore(settings, "audit", "--quiet", "--out", str(tmp_path / "dev"))
    assert development.returncode == 0, development.stdout + development.stderr
    report = json.loads((tmp_path / "dev" / "audit-report.json").read_text())
    assert report["production_ledger"] is False
    assert report["deposits_by_provider"] == {
        "demo": {"deposits": 1, "credited_minor_units": 5_000 * UZS},
        "sandbox": {"deposits": 1, "credited_minor_units": 1_000_000_000 * UZS},
    }
    assert "sandbox: 1 deposits, 1000000000.00 UZS" in development.stdout

    production_run = wibestore(
        settings, "audit", "--quiet", "--production-ledger", "--out", str(tmp_path / "prod")
    )
    assert production_run.returncode == 1
    report = json.loads((tmp_path / "prod" / "audit-report.json").read_text())
    play_money = report["invariants"]["7_production_deposits_are_real"]
    assert play_money["holds"] is False
    assert play_money["violation_count"] == 2
    assert "credited by the sandbox provider" in play_money["violations"][0]
    assert "FAIL" in production_run.stdout


@pytest.fixture
def client_and_container(container: Any) -> Any:
    with TestClient(create_app(container)) as client:
        yield client, container


def test_settings_made_in_code_are_held_to_the_same_rule(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="production refuses PAYMENT_PROVIDER=sandbox"):
        msgspec.structs.replace(settings, environment="production")
    allowed = msgspec.structs.replace(
        settings, environment="production", allow_sandbox_payments_in_production=True
    )
    assert allowed.sandbox_payments_in_production
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER must be one of"):
        msgspec.structs.replace(settings, payment_provider="paypal")


def test_the_console_mailer_keeps_mail_bodies_out_of_a_production_log(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from application.ports import Email
    from wibestore.container import build_mailer

    link = "https://wibestore.test/reset-password?token=secret-reset-token"
    mail = Email(to="ann@example.uz", subject="Reset your password", body=f"Open {link}")
    for environment, shown in (("development", True), ("production", False)):
        configured = msgspec.structs.replace(
            settings,
            environment=environment,
            mailer="console",
            allow_sandbox_payments_in_production=True,
        )
        build_mailer(configured).send(mail)
        printed = capsys.readouterr().out
        assert "Reset your password" in printed
        assert ("secret-reset-token" in printed) is shown
