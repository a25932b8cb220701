"""Who the client is: X-Forwarded-For is believed only from TRUSTED_PROXIES, and sign-in locks
(per e-mail + address, and per e-mail across addresses) hold against a spoofed header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.proxies import TrustedProxies
from tests.api.conftest import PASSWORD, error
from tests.conftest import FixedClock, PgSchemas, make_settings
from wibestore.container import build

PROXY = "10.0.0.2"
WRONG = "Wrong-Secret1"


def connected_from(app: Any) -> Any:
    """The app as seen from the peer named in a test-only ``x-test-peer`` header (the test
    client's own peer is the non-address "testclient")."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            peer = dict(scope["headers"]).get(b"x-test-peer")
            if peer is not None:
                scope = {**scope, "client": (peer.decode(), 40000)}
        await app(scope, receive, send)

    return asgi


@pytest.fixture
def client(
    backend: str, tmp_path: Path, pg_schemas: PgSchemas | None, clock: FixedClock
) -> Iterator[TestClient[Any]]:
    settings = make_settings(
        backend,
        tmp_path,
        pg_schemas,
        environment="production",  # where the header used to be believed from anyone
        payment_provider="none",
        trusted_proxies=("10.0.0.0/8",),
        login_account_max_failures=6,
        rate_limits="anon=3,user=100,uploads=20,auth=100",
    )
    container = build(settings, clock=clock, fast_passwords=True)
    container.start()
    with TestClient(connected_from(create_app(container))) as c:
        yield c
    container.close()


def log_in(
    client: TestClient[Any], password: str, *, peer: str | None = None, forwarded: str = ""
) -> Any:
    headers: dict[bytes, bytes] = {}
    if peer is not None:
        headers[b"x-test-peer"] = peer.encode()
    if forwarded:
        headers[b"x-forwarded-for"] = forwarded.encode()  # bytes: any octets may arrive
    return client.post(
        "/api/v1/auth/login/",
        json={"email": "ann@example.uz", "password": password},
        headers=headers,
    )


def register_ann(client: TestClient[Any]) -> None:
    body = {"email": "ann@example.uz", "password": PASSWORD}
    assert client.post("/api/v1/auth/register/", json=body).status_code == 201


def test_a_spoofed_forwarded_for_does_not_unlock_a_locked_account(
    client: TestClient[Any],
) -> None:
    register_ann(client)
    for _ in range(5):
        assert log_in(client, WRONG, peer="198.51.100.9").status_code == 401
    spoofed = log_in(client, PASSWORD, peer="198.51.100.9", forwarded="203.0.113.50")
    assert spoofed.status_code == 429
    assert error(spoofed)["code"] == "THROTTLED"


def test_a_spoofed_forwarded_for_does_not_reset_per_address_rate_limits(
    client: TestClient[Any],
) -> None:
    for _ in range(3):
        assert client.get("/api/v1/games/", headers={"x-test-peer": "198.51.100.9"}).is_success
    for n in range(3):
        spoofed = client.get(
            "/api/v1/games/",
            headers={"x-test-peer": "198.51.100.9", "X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert spoofed.status_code == 429


def test_a_trusted_proxys_forwarded_for_names_the_client(client: TestClient[Any]) -> None:
    register_ann(client)
    for _ in range(5):
        assert log_in(client, WRONG, peer=PROXY, forwarded="203.0.113.7").status_code == 401
    assert log_in(client, PASSWORD, peer=PROXY, forwarded="203.0.113.7").status_code == 429
    # the client wrote the first hop itself; our proxy appended the address it saw
    spoofed = log_in(client, PASSWORD, peer=PROXY, forwarded="203.0.113.8, 203.0.113.7")
    assert spoofed.status_code == 429
    # another client behind the same proxies, through two of them
    other = log_in(client, PASSWORD, peer=PROXY, forwarded="203.0.113.8, 10.1.2.3")
    assert other.status_code == 200, other.text


@pytest.mark.parametrize(
    "forwarded", ["not-an-ip", "1.2.3.4, garbage", ", , ,", "[::1", "1.2.3.4:x", "\u00e9" * 300]
)
def test_malformed_forwarded_for_entries_are_answered_not_500(
    client: TestClient[Any], forwarded: str
) -> None:
    register_ann(client)
    response = log_in(client, WRONG, peer=PROXY, forwarded=forwarded)
    assert response.status_code == 401


def test_the_per_account_cap_holds_across_addresses(client: TestClient[Any]) -> None:
    register_ann(client)
    assert log_in(client, PASSWORD, peer="198.51.100.1").status_code == 200  # ann's own address
    for n in range(6):  # one failure from each of six addresses: no pair lock is reached
        assert log_in(client, WRONG, peer=PROXY, forwarded=f"203.0.113.{n}").status_code == 401
    fresh = log_in(client, PASSWORD, peer=PROXY, forwarded="203.0.113.99")
    assert fresh.status_code == 429
    assert 0 < int(fresh.headers["retry-after"]) <= 900
    # the owner's known address is spared, so failing on purpose does not lock her out
    assert log_in(client, PASSWORD, peer="198.51.100.1").status_code == 200


# --- the rule itself ----------------------------------------------------------------------

PROXIES = TrustedProxies(["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.9", ["203.0.113.1"], "198.51.100.9"),  # not our proxy: header ignored
        ("10.0.0.2", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", ["6.6.6.6, 203.0.113.1"], "203.0.113.1"),  # client-written prefix
        ("10.0.0.2", ["203.0.113.1, 192.168.1.7, 10.9.9.9"], "203.0.113.1"),  # two proxies
        ("10.0.0.2", ["6.6.6.6", "203.0.113.1"], "203.0.113.1"),  # two headers are one list
        ("10.0.0.2", ["203.0.113.1:5555"], "203.0.113.1"),
        ("10.0.0.2", ["[2001:db9::1]:443"], "2001:db9::1"),
        ("2001:db8::5", ["2001:db9::1"], "2001:db9::1"),
        ("::ffff:10.0.0.2", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.3"], "10.0.0.3"),  # only proxies: the furthest one
        ("10.0.0.2", ["203.0.113.1, garbage"], "10.0.0.2"),  # nothing left of garbage
        ("10.0.0.2", ["unknown"], "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.1, "], "203.0.113.1"),
        ("testclient", ["203.0.113.1"], "testclient"),
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_our_proxy(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert PROXIES.client(peer, forwarded) == client


def test_no_trusted_proxies_means_the_header_is_never_believed() -> None:
    assert TrustedProxies().client("10.0.0.2", ["203.0.113.1"]) == "10.0.0.2"


def test_a_bad_trusted_proxies_setting_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        TrustedProxies(["10.0.0.0/8", "not-a-network"])
