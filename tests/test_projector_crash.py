"""`kill -9` of the projector process in the middle of its work, while buyers deposit and buy
over HTTP (real uvicorn): once restarted, the read models equal a rebuild from position 0 and
`wibestore audit` passes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
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
from tests.ledger import settled
from tests.rebuild import assert_read_models_equal_a_rebuild
from tests.test_http_server import free_port, wait_until_serving
from wibestore.container import Container, build
from wibestore.seed import seed_games
from wibestore.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
PASSWORD = "Sup3r-Secret!"
BUYERS = 4
LISTINGS_PER_BUYER = 10


class Shop:
    def __init__(self, base: str, env: dict[str, str], container: Container) -> None:
        self.base, self.env, self.container = base, env, container

    def projector(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "wibestore.cli", "project"], env=self.env, stdout=log, stderr=log
        )

    def position(self) -> int:
        return self.container.store.positions().get("transactions", 0)

    def head(self) -> int:
        return self.container.app.recorder.max_notification_id() or 0


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """uvicorn (1 worker) on PostgreSQL, no projector yet, and a container of the test's own
    to set the scene and to look at the read models."""
    require_postgres()
    require_redis()
    schemas = PgSchemas()
    schemas.create()
    settings = make_settings("postgres", tmp_path, schemas)
    env = production_env(
        settings,
        # answers wait for the restarted projector: this test is about the read models, not
        # about what the API answers while no projector runs
        READ_YOUR_WRITES_TIMEOUT="15",
        PROJECTION_BATCH_SIZE="5",
        RATE_LIMITS="off",
    )
    container = build(Settings.from_env(env), fast_passwords=True)
    container.start(projectors=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_serving(base, server)
        yield Shop(base, env, container)
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
        container.close()
        schemas.drop()


def buy_everything(shop: Shop, email: str, listings: list[str], errors: list[str]) -> None:
    """Deposit through the sandbox checkout, then buy each listing, over HTTP."""
    with httpx.Client(base_url=shop.base, timeout=20) as http:
        r = http.post("/api/v1/auth/login/", json={"email": email, "password": PASSWORD})
        if r.status_code != 200:
            errors.append(r.text)
            return
        auth = {"Authorization": f"Bearer {r.json()['data']['tokens']['access']}"}
        for listing_id in listings:
            deposit = http.post(
                "/api/v1/payments/deposit/",
                headers=auth,
                json={"amount": "100000", "payment_method": "visa"},
            )
            if deposit.status_code != 201:
                errors.append(deposit.text)
                continue
            url = urlsplit(deposit.json()["data"]["checkout_url"])
            confirmed = http.post(f"{url.path}?{url.query}", json={"action": "confirm"})
            bought = http.post(
                "/api/v1/payments/purchase/", headers=auth, json={"listing_id": listing_id}
            )
            for response in (confirmed, bought):
                if response.status_code not in (200, 201):
                    errors.append(response.text)


def test_a_projector_killed_mid_batch_under_http_load_resumes_to_a_rebuild_and_the_audit_passes(
    shop: Shop, tmp_path: Path
) -> None:
    log = (tmp_path / "projector.log").open("wb")
    projector = shop.projector(log)
    with shop.container.read_your_writes():
        seed_games(shop.container.catalogue)
        seller = shop.container.accounts.register("seller@example.uz", PASSWORD)
        staff = shop.container.accounts.create_user(
            Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
        )
        buyers = [
            shop.container.accounts.register(f"buyer{n}@example.uz", PASSWORD)
            for n in range(BUYERS)
        ]
    shelves: list[list[str]] = []
    for n in range(len(buyers)):
        shelf = []
        for i in range(LISTINGS_PER_BUYER):
            listing_id = shop.container.listings.create_listing(
                Actor.user(seller),
                "pubg-mobile",
                {"title": f"{n}-{i}", "description": "-", "price": 9_000_000},
            )
            shop.container.listings.approve_listing(Actor.user(staff), listing_id)
            shelf.append(str(listing_id))
        shelves.append(shelf)
    settled(shop.container)  # logins read the users' read model

    errors: list[str] = []
    load = [
        threading.Thread(target=buy_everything, args=(shop, f"buyer{n}@example.uz", shelf, errors))
        for n, shelf in enumerate(shelves)
    ]
    try:
        for thread in load:
            thread.start()
        # Kill it the moment it has just committed a batch while more are waiting: it is
        # inside the next one.
        deadline = time.monotonic() + 20
        killed_behind = False
        while time.monotonic() < deadline and not killed_behind:
            before = shop.position()
            while shop.position() == before and time.monotonic() < deadline:
                time.sleep(0.001)
            if shop.position() > 0 and shop.head() > shop.position() + 2:
                projector.send_signal(signal.SIGKILL)
                killed_behind = True
        assert killed_behind, f"the projector was never behind: make the load heavier {errors[:3]}"
        projector.wait(timeout=10)
        time.sleep(0.5)  # the load goes on with no projector
        projector = shop.projector(log)
        for thread in load:
            thread.join(timeout=60)
        assert errors == [], errors[:3]
        deadline = time.monotonic() + 20
        while shop.position() < shop.head() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert shop.position() == shop.head()
    finally:
        projector.terminate()
        projector.wait(timeout=15)
        log.close()

    assert_read_models_equal_a_rebuild(shop.container)
    audit_passes(shop.env, tmp_path / "audit")
