"""The Marketplace application on both stores, below HTTP: races and atomicity."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from adapters.tokens import TokenInvalid
from application.actor import Actor
from domain.unique import KeyTaken, UniqueKey, key_id
from tests.conftest import FixedClock
from wibestore.container import Container

PASSWORD = "Sup3r-Secret!"


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``n`` threads released together; collect results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_registration_saves_the_user_and_its_email_key_together(
    container: Container,
) -> None:
    user_id = container.accounts.register("ann@example.uz", PASSWORD, username="Ann")
    key: object = container.app.repository.get(key_id("email", "ann@example.uz"))
    assert isinstance(key, UniqueKey)
    assert key.owner_id == user_id
    stored = container.app.recorder.select_notifications(start=1, limit=10)
    # one transaction, one after another: the user (registered, its e-mail to verify), its
    # e-mail key and its username key
    assert [n.topic for n in stored] == [
        "domain.user:User.Registered",
        "domain.user:User.VerificationRequested",
        "domain.unique:UniqueKey.Claimed",
        "domain.unique:UniqueKey.Claimed",
    ]


def test_racing_refreshes_of_one_token_rotate_it_once(container: Container) -> None:
    user_id = container.accounts.register("ann@example.uz", PASSWORD)
    pair = container.accounts.start_session(user_id)
    results = race(8, lambda _: container.accounts.refresh(pair.refresh))
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, TokenInvalid) for r in results if isinstance(r, Exception))


def test_racing_claims_of_one_username_leave_one_owner(container: Container) -> None:
    ids = [container.accounts.register(f"u{i}@example.uz", PASSWORD) for i in range(6)]
    results = race(
        6, lambda i: container.accounts.update_profile(Actor.user(ids[i]), {"username": "champion"})
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, KeyTaken) for r in results if r is not None)
    key: object = container.app.repository.get(key_id("username", "champion"))
    assert isinstance(key, UniqueKey)
    winner = ids[results.index(None)]
    assert key.owner_id == winner
    assert container.accounts.user(winner).username == "champion"


def test_a_login_records_last_login_at_the_clock_time(
    container: Container, clock: FixedClock
) -> None:
    user_id = container.accounts.register("ann@example.uz", PASSWORD)
    clock.advance(hours=2)
    container.accounts.log_in("ann@example.uz", PASSWORD, "127.0.0.1")
    assert container.accounts.user(user_id).last_login == clock.now()


@pytest.mark.parametrize(
    ("email", "username"), [("ANN@EXAMPLE.UZ", None), ("bob@example.uz", "aNN")]
)
def test_keys_are_case_insensitive(container: Container, email: str, username: str | None) -> None:
    container.accounts.register("ann@example.uz", PASSWORD, username="Ann")
    with pytest.raises(KeyTaken):
        container.accounts.register(email, PASSWORD, username=username)
