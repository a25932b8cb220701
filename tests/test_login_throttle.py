"""The sign-in throttle's policy, the same on both stores: Redis (production) and memory."""

from __future__ import annotations

import threading

import pytest
import redis

from adapters.throttle import LoginThrottle, MemoryLoginThrottle, RedisLoginThrottle
from tests.conftest import REDIS_URL, redis_key_prefix


@pytest.fixture
def throttle(backend: str) -> LoginThrottle:
    limits = {"max_failures": 3, "lock_seconds": 900, "account_max_failures": 5}
    if backend == "postgres":  # the production half of the suite: Redis
        client = redis.Redis.from_url(REDIS_URL)
        return RedisLoginThrottle(client, **limits, key_prefix=redis_key_prefix())
    return MemoryLoginThrottle(**limits)


def fail(throttle: LoginThrottle, email: str, addresses: list[str]) -> None:
    for address in addresses:
        throttle.attempt(email, address)


def sign_in(throttle: LoginThrottle, email: str, address: str) -> None:
    assert throttle.attempt(email, address) == 0
    throttle.succeeded(email, address)


def test_failures_from_one_address_lock_that_address_only(throttle: LoginThrottle) -> None:
    fail(throttle, "ann@example.uz", ["203.0.113.1"] * 3)
    assert 0 < throttle.seconds_locked("ann@example.uz", "203.0.113.1") <= 900
    assert (
        throttle.seconds_locked("ANN@example.uz ", "203.0.113.1") > 0
    )  # one e-mail, spelt two ways
    assert throttle.seconds_locked("ann@example.uz", "203.0.113.2") == 0
    assert throttle.seconds_locked("bob@example.uz", "203.0.113.1") == 0


def test_failures_spread_over_addresses_lock_the_account_against_unknown_addresses(
    throttle: LoginThrottle,
) -> None:
    sign_in(throttle, "ann@example.uz", "198.51.100.1")  # ann signs in from home
    fail(throttle, "ann@example.uz", [f"203.0.113.{n}" for n in range(5)])
    assert throttle.seconds_locked("ann@example.uz", "203.0.113.77") > 0
    assert throttle.seconds_locked("ann@example.uz", "198.51.100.1") == 0
    assert throttle.seconds_locked("bob@example.uz", "203.0.113.77") == 0


def test_a_success_does_not_give_a_guesser_fresh_tries(throttle: LoginThrottle) -> None:
    fail(throttle, "ann@example.uz", [f"203.0.113.{n}" for n in range(4)])
    sign_in(throttle, "ann@example.uz", "198.51.100.1")
    fail(throttle, "ann@example.uz", ["203.0.113.50"])
    assert throttle.seconds_locked("ann@example.uz", "203.0.113.51") > 0


def test_a_success_clears_its_own_address_lock(throttle: LoginThrottle) -> None:
    fail(throttle, "ann@example.uz", ["198.51.100.1"] * 2)
    sign_in(throttle, "ann@example.uz", "198.51.100.1")
    fail(throttle, "ann@example.uz", ["198.51.100.1"] * 2)
    assert throttle.seconds_locked("ann@example.uz", "198.51.100.1") == 0


def test_guesses_sent_at_once_get_no_more_password_checks_than_the_caps(
    throttle: LoginThrottle,
) -> None:
    """Each guess is counted before its password is checked, so concurrent guesses see each
    other: of 60 sent at once from 60 addresses, only the account cap's 5 go ahead."""
    start = threading.Barrier(60)
    allowed: list[int] = []

    def guess(n: int) -> None:
        start.wait()
        if throttle.attempt("ann@example.uz", f"203.0.113.{n}") == 0:
            allowed.append(n)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 5
    same_address = [throttle.attempt("bob@example.uz", "198.51.100.9") for _ in range(5)]
    assert [seconds == 0 for seconds in same_address] == [True] * 3 + [False] * 2
