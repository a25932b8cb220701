"""Money is never created or lost by a failure: a store that refuses one event of a
multi-aggregate save writes none of it, and a process killed at any moment leaves a ledger
that still audits clean."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from application.actor import Actor
from tests.conftest import process_env
from tests.ledger import audited
from wibestore.container import Container
from wibestore.seed import seed_games
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
UZS = 100


@contextmanager
def store_refusing(container: Container, topic: str) -> Iterator[None]:
    """The event store rejects any event of ``topic`` (a trigger raises), as a failing disk or
    a lost connection would in the middle of a save."""
    settings = container.settings
    table = sql.Identifier(container.app.recorder.events_table_name)  # type: ignore[attr-defined]
    if settings.database_url:
        schema = sql.Identifier(settings.database_schema)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL(
                    "CREATE OR REPLACE FUNCTION {}.refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                ).format(schema)
            )
            conn.execute(
                sql.SQL(
                    "CREATE TRIGGER refuse BEFORE INSERT ON {}.{} FOR EACH ROW "
                    "WHEN (NEW.topic = {}) EXECUTE FUNCTION {}.refuse()"
                ).format(schema, table, sql.Literal(topic), schema)
            )
        try:
            yield
        finally:
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP TRIGGER refuse ON {}.{}").format(schema, table))
        return
    lite = sqlite3.connect(settings.data_dir / "events.sqlite")
    # The body must fail only when it runs, so only for ``topic``, and as an operational error:
    # RAISE(ABORT) looks like a constraint violation, which the commands retry as a lost race,
    # and a call of a function that does not exist fails when the INSERT is compiled, so it
    # would refuse every event, whatever its topic. A malformed JSON path fails at run time.
    lite.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON stored_events "
        f"WHEN NEW.topic = '{topic}' "
        "BEGIN SELECT json_extract('{}', 'injected failure'); END"
    )
    lite.commit()
    try:
        yield
    finally:
        lite.execute("DROP TRIGGER refuse")
        lite.commit()
        lite.close()


@pytest.fixture
def shop(container: Container) -> dict[str, Any]:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 1_000_000 * UZS)

    def listing() -> uuid.UUID:
        new = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": "Acc", "description": "D", "price": 100_000 * UZS},
        )
        container.listings.approve_listing(Actor.user(staff), new)
        return new

    return {"staff": staff, "seller": seller, "buyer": buyer, "listing": listing}


def failing_every_event_of(
    container: Container, topics: list[str], command: Callable[[], Any]
) -> Any:
    """Refuse each event of the command's save in turn (nothing may be written), then let it
    through."""
    for topic in topics:
        before = container.app.recorder.max_notification_id()
        with store_refusing(container, topic), pytest.raises(Exception, match="injected"):
            command()
        assert container.app.recorder.max_notification_id() == before, topic
        audited(container)
    result = command()
    audited(container)
    return result


def test_the_injected_failure_refuses_only_the_named_event_type(
    container: Container, shop: dict[str, Any]
) -> None:
    """Else every check below passes however the command saves: nothing would be written."""
    before = container.app.recorder.max_notification_id() or 0
    with store_refusing(container, "domain.escrow:Escrow.Opened"):
        container.accounts.register("bystander@example.uz", PASSWORD)
        with pytest.raises(Exception, match="injected"):
            container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"]())
    assert (container.app.recorder.max_notification_id() or 0) > before


def test_a_failing_store_never_half_writes_a_money_command(
    container: Container, shop: dict[str, Any]
) -> None:
    buyer, seller, staff = shop["buyer"], shop["seller"], shop["staff"]
    listing = shop["listing"]()
    escrow = failing_every_event_of(
        container,
        [
            "domain.listing:Listing.Reserved",
            "domain.wallet:Wallet.HoldPlaced",
            "domain.escrow:Escrow.Opened",
            "domain.chat:ChatRoom.Opened",
        ],
        lambda: container.escrows.purchase(Actor.user(buyer), listing),
    )
    container.escrows.deliver(
        Actor.user(seller), escrow.id, {"account_email": "a@b.uz", "account_password": "p"}
    )
    failing_every_event_of(
        container,
        [
            "domain.escrow:Escrow.Released",
            "domain.wallet:Wallet.HoldCaptured",
            "domain.wallet:Wallet.Credited",
            "domain.listing:Listing.Sold",
        ],
        lambda: container.escrows.confirm_purchase(Actor.user(buyer), escrow.id),
    )
    second = container.escrows.purchase(Actor.user(buyer), shop["listing"]())
    container.escrows.dispute(Actor.user(buyer), second.id, "wrong level")
    failing_every_event_of(
        container,
        [
            "domain.escrow:Escrow.Refunded",
            "domain.wallet:Wallet.HoldReleased",
            "domain.listing:Listing.Released",
        ],
        lambda: container.escrows.resolve_dispute(Actor.user(staff), second.id, "refund", "refund"),
    )
    deposit = container.payments.request_deposit(
        Actor.user(seller), 200_000 * UZS, "visa", "sandbox"
    )
    failing_every_event_of(
        container,
        ["domain.deposit:Deposit.Completed", "domain.wallet:Wallet.Deposited"],
        lambda: container.payments.confirm_deposit(
            Actor.platform("payment-webhook"), deposit.id, "sbx"
        ),
    )
    failing_every_event_of(
        container,
        [
            "domain.subscription:Membership.Subscribed",
            "domain.wallet:Wallet.Debited",
            "domain.wallet:Wallet.Credited",
        ],
        lambda: container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly"),
    )
    available = container.payments.wallet(seller).available
    assert available == 90_000 * UZS + 200_000 * UZS - 50_000 * UZS


@pytest.mark.slow
def test_killing_a_busy_process_at_random_moments_never_breaks_the_ledger(
    container: Container, settings: Settings
) -> None:
    seed_games(container.catalogue)
    env = process_env(settings)
    rng = random.Random(7)
    reported_rounds = 0
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.money_churn"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # it is trading: kill it somewhere in the next rounds
        assert first.strip(), "the churn process did not start"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the churn process ended before it was killed"
        reported_rounds += int([first, *proc.stdout.read().split()][-1])
        audited(container)
    # every round a process reported finished settled its escrow, and the kills lost none
    assert settled_escrows(container) >= reported_rounds


def settled_escrows(container: Container) -> int:
    topics = ("domain.escrow:Escrow.Released", "domain.escrow:Escrow.Refunded")
    return sum(
        n.topic in topics
        for n in container.app.recorder.select_notifications(start=1, limit=1_000_000)
    )
