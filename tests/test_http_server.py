"""The production shape, for real: uvicorn with 2 workers and a separate projector process,
on PostgreSQL and Redis, driven over HTTP."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
import pytest

from application.actor import Actor
from tests.conftest import (
    PgSchemas,
    audit_passes,
    make_settings,
    production_env,
    require_postgres,
    require_redis,
)
from wibestore.container import build
from wibestore.seed import seed_games
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
HEALTH_TOKEN = "health-token-of-the-monitoring-0123"  # the details of /health/detailed/


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range: one the kernel hands out
    (bind to port 0) can be taken by an outgoing connection before a server binds it."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 0
    for _ in range(100):
        port = random.randrange(10_000, low) if low > 11_000 else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def wait_until_serving(base: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


class Deployment(NamedTuple):
    base: str
    env: dict[str, str]


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Deployment]:
    require_postgres()
    require_redis()
    schemas = PgSchemas()
    schemas.create()
    settings = make_settings("postgres", tmp_path, schemas)
    env = production_env(
        settings,
        HEALTH_TOKEN=HEALTH_TOKEN,
        # Answers wait for the projector process: under a loaded CI machine its first batches
        # took longer than the 2 s default, and a register then answered before its row existed
        # (202-style answers are tests/api/test_projector_down.py's subject, not these tests').
        READ_YOUR_WRITES_TIMEOUT="10",
    )
    subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    projector = subprocess.Popen(
        [sys.executable, "-m", "wibestore.cli", "project"], env=env, stdout=log, stderr=log
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_serving(base, server)
        yield Deployment(base, env)
    finally:
        for proc in (server, projector):
            proc.terminate()
        for proc in (server, projector):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        schemas.drop()


@pytest.mark.slow
def test_register_login_me_refresh_and_reuse_over_real_http(production: Deployment) -> None:
    with httpx.Client(base_url=production.base, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register/",
            json={"email": "real@example.uz", "password": PASSWORD, "name": "Real Person"},
        )
        assert registered.status_code == 201, registered.text
        user = registered.json()["data"]["user"]
        assert user["full_name"] == "Real Person"  # read-your-writes across processes

        login = http.post(
            "/api/v1/auth/login/", json={"email": "real@example.uz", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens = login.json()["data"]["tokens"]

        for _ in range(4):  # both workers answer, both see the projected user
            me = http.get(
                "/api/v1/auth/me/", headers={"Authorization": f"Bearer {tokens['access']}"}
            )
            assert me.status_code == 200
            assert me.json()["id"] == user["id"]
            assert me.json()["last_login"] is not None

        rotated = http.post("/api/v1/auth/refresh/", json={"refresh": tokens["refresh"]})
        assert rotated.status_code == 200
        new = rotated.json()

        reused = http.post("/api/v1/auth/refresh/", json={"refresh": tokens["refresh"]})
        assert reused.status_code == 401
        assert reused.json()["error"]["code"] == "TOKEN_NOT_VALID"
        family_gone = http.post("/api/v1/auth/refresh/", json={"refresh": new["refresh"]})
        assert family_gone.status_code == 401

        # The refreshes do not wait for read models (they answer from the event store), so the
        # projector may still be applying the last one: the lag must drain to zero promptly.
        deadline = time.monotonic() + 5
        while True:
            health = http.get("/health/detailed/", headers={"X-Health-Token": HEALTH_TOKEN})
            assert health.status_code == 200
            checks = health.json()["checks"]
            assert checks["database"] == "ok"
            assert checks["cache"] == "ok"
            lag = checks["projections"]["users"]["lag_events"]
            if lag == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert lag == 0


def _login(http: httpx.Client, email: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login/", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['data']['tokens']['access']}"}


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.slow
def test_a_purchase_end_to_end_over_real_http_then_the_audit_passes(
    production: Deployment, tmp_path: Path
) -> None:
    """deposit (sandbox checkout + signed webhook) -> list -> approve -> purchase -> deliver ->
    reveal -> confirm -> balances and transactions -> `wibestore audit` exits 0."""
    command = ["user", "create", "--staff", "--email", "ops@example.uz", "--password", PASSWORD]
    created = subprocess.run(
        [sys.executable, "-m", "wibestore.cli", *command],
        env=production.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with httpx.Client(base_url=production.base, timeout=10) as http:
        for email in ("seller@example.uz", "buyer@example.uz"):
            _ok(
                http.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD}),
                201,
            )
        seller, buyer = _login(http, "seller@example.uz"), _login(http, "buyer@example.uz")
        staff = _login(http, "ops@example.uz")
        game = {"name": "PUBG Mobile", "slug": "pubg-mobile"}
        _ok(http.post("/api/v1/admin-panel/games/", headers=staff, json=game), 201)

        deposit = _ok(
            http.post(
                "/api/v1/payments/deposit/",
                headers={**buyer, "Idempotency-Key": "e2e-deposit"},
                json={"amount": "2000000", "payment_method": "visa"},
            ),
            201,
        )["data"]
        checkout = urlsplit(deposit["checkout_url"])
        page = http.get(f"{checkout.path}?{checkout.query}")
        assert page.status_code == 200 and "Sandbox payment" in page.text
        _ok(http.post(f"{checkout.path}?{checkout.query}", json={"action": "confirm"}))
        assert _ok(http.get("/api/v1/payments/balance/", headers=buyer))["data"]["balance"] == (
            "2000000.00"
        )

        listing = _ok(
            http.post(
                "/api/v1/listings/",
                headers=seller,
                json={
                    "game": "pubg-mobile",
                    "title": "Conqueror, level 80",
                    "description": "All seasons",
                    "price": "1500000",
                    "account_email": "acc@game.uz",
                    "account_password": "hunter2",
                },
            ),
            201,
        )
        _ok(http.post(f"/api/v1/admin-panel/listings/{listing['id']}/approve/", headers=staff))
        escrow = _ok(
            http.post(
                "/api/v1/payments/purchase/",
                headers={**buyer, "Idempotency-Key": "e2e-purchase"},
                json={"listing_id": listing["id"]},
            ),
            201,
        )["data"]
        assert escrow["status"] == "paid" and escrow["chat_room_id"]
        base = f"/api/v1/payments/escrow/{escrow['id']}"
        _ok(http.post(f"{base}/deliver/", headers=seller))
        revealed = _ok(http.get(f"{base}/credentials/", headers=buyer))["data"]
        assert revealed == {"account_email": "acc@game.uz", "account_password": "hunter2"}
        confirmed = _ok(http.post(f"{base}/confirm/", headers=buyer))["data"]
        assert confirmed["status"] == "confirmed"

        def balance(who: dict[str, str]) -> str:
            return str(_ok(http.get("/api/v1/payments/balance/", headers=who))["data"]["balance"])

        assert (balance(buyer), balance(seller)) == ("500000.00", "1350000.00")
        kinds = sorted(
            (t["type"], t["status"], t["amount"])
            for t in _ok(http.get("/api/v1/payments/transactions/", headers=buyer))["results"]
        )
        assert kinds == [
            ("deposit", "completed", "2000000.00"),
            ("purchase", "completed", "1500000.00"),
        ]
        sold = _ok(http.get(f"/api/v1/listings/{listing['id']}/"))
        assert sold["status"] == "sold"

    audit_passes(production.env, tmp_path / "audit")
    report = (tmp_path / "audit" / "audit-report.json").read_text()
    assert '"ok": true' in report
    ledger = (tmp_path / "audit" / "escrow-ledger.csv").read_text().splitlines()
    assert ledger[0].startswith("position,at,event,account")
    assert any(escrow["id"] in line for line in ledger)


@pytest.mark.slow
def test_both_workers_show_a_listing_as_soon_as_its_approval_is_answered(
    production: Deployment,
) -> None:
    """Anonymous pages come from each worker's cache; its generation follows the projector
    process's NOTIFY, so a command answered elsewhere is never hidden behind a cached page."""
    container = build(Settings.from_env(production.env), fast_passwords=True)  # another process
    container.start(projectors=False)
    try:
        with container.read_your_writes():
            seed_games(container.catalogue)
            seller = container.accounts.register("seller@example.uz", PASSWORD)
            staff = container.accounts.create_user(
                Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
            )
        with httpx.Client(base_url=production.base, timeout=10) as http:
            for n in (1, 2):  # 24 requests: under the anonymous limit of 30 a minute
                for _ in range(4):  # both workers have the page cached
                    assert http.get("/api/v1/listings/").json()["count"] == n - 1
                with container.read_your_writes():
                    listing_id = container.listings.create_listing(
                        Actor.user(seller),
                        "dota2",
                        {"title": f"No. {n}", "description": "-", "price": 9},
                    )
                    container.listings.approve_listing(Actor.user(staff), listing_id)
                for _ in range(4):
                    page = http.get("/api/v1/listings/").json()
                    assert page["count"] == n, page
                    assert page["results"][0]["id"] == str(listing_id)
                    detail = http.get(f"/api/v1/listings/{listing_id}/")
                    assert detail.json()["title"] == f"No. {n}"
    finally:
        container.close()
