"""Logs never hold a request body, a password, a token, a card number or credentials: every
log record and everything printed to stdout/stderr is scanned after each secret went through
the API (a body that is not UTF-8 is a 400, not a 500 that prints its body)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from litestar import Litestar, Request, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS
from tests.api.conftest import bearer, error
from tests.api.test_listings import approved
from tests.api.test_payments import pay
from wibestore.container import Container
from wibestore.logs import configure_logging

Client = TestClient[Any]
PASSWORD = "Hunter2-Secret-Pw"
CARD = "4111 1111 1111 1111"
DELIVERED = "acct-pass-Zq9v7"


def not_utf8(text: str) -> bytes:
    """A JSON body with ``text`` in it, made invalid UTF-8 by a stray byte."""
    return text.encode().replace(b"@@", b"\xff\xfe")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    caplog.set_level(logging.DEBUG)

    def everything() -> str:
        printed = capsys.readouterr()
        records = [
            f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {r.__dict__!r}" for r in caplog.records
        ]
        return "\n".join([printed.out, printed.err, *records])

    return everything


def assert_nothing_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} was logged"
        assert secret.replace(" ", "") not in text, f"{secret!r} was logged"


def test_bodies_that_are_not_utf8_answer_400_and_are_never_logged(
    client: Client, market: dict[str, Any], logs: Any
) -> None:
    listing = approved(client, market)
    pay(client, market["buyer"], "2000000")
    requests = [
        ("/api/v1/auth/login/", {}, f'{{"email":"seller@example.uz","password":"{PASSWORD}@@"}}'),
        ("/api/v1/auth/register/", {}, f'{{"email":"x@example.uz","password":"{PASSWORD}@@"}}'),
        (
            "/api/v1/listings/",
            market["seller"],
            f'{{"title":"t@@","account_password":"{PASSWORD}"}}',
        ),
        ("/api/v1/payments/purchase/", market["buyer"], f'{{"listing_id":"{listing}@@"}}'),
        (
            "/api/v1/payments/deposit/",
            market["buyer"],
            f'{{"amount":"5000","payment_method":"{CARD}@@"}}',
        ),
    ]
    for path, who, body in requests:
        r = client.post(
            path, content=not_utf8(body), headers={**who, "Content-Type": "application/json"}
        )
        assert r.status_code == 400, (path, r.text)
        assert error(r)["code"] == "PARSE_ERROR"
    assert_nothing_secret(logs(), PASSWORD, CARD, market["buyer"]["Authorization"])


def test_tokens_credentials_and_card_numbers_never_reach_the_logs(
    client: Client, market: dict[str, Any], logs: Any
) -> None:
    seller = client.post(
        "/api/v1/auth/login/", json={"email": "seller@example.uz", "password": "Sup3r-Secret!"}
    ).json()["data"]["tokens"]
    refreshed = client.post("/api/v1/auth/refresh/", json={"refresh": seller["refresh"]}).json()
    listing = approved(client, market)
    pay(client, market["buyer"], "2000000")
    escrow = client.post(
        "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
    ).json()["data"]
    delivered = client.post(
        f"/api/v1/payments/escrow/{escrow['id']}/deliver/",
        headers=bearer(refreshed["access"]),
        json={"account_login": "acc-login-77", "account_password": DELIVERED},
    )
    assert delivered.status_code == 200, delivered.text
    bad_card = client.post(
        "/api/v1/payments/deposit/",
        headers=market["buyer"],
        json={"amount": CARD, "payment_method": CARD},
    )
    assert bad_card.status_code == 400
    wrong = client.post("/api/v1/auth/login/", json={"email": "a@b.uz", "password": PASSWORD})
    assert wrong.status_code == 401
    expired = client.get("/api/v1/auth/me/", headers=bearer(seller["refresh"]))
    assert expired.status_code == 401
    assert_nothing_secret(
        logs(),
        PASSWORD,
        CARD,
        DELIVERED,
        seller["access"],
        seller["refresh"],
        refreshed["refresh"],
        market["buyer"]["Authorization"].split()[1],
    )


@post("/boom/", sync_to_thread=False)
def boom(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> None:
    raise RuntimeError(f"could not handle {data} for {request.headers.get('authorization')}")


def test_an_unexpected_error_is_logged_without_the_body_or_the_authorization_header(
    logs: Any,
) -> None:
    configure_logging()
    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS, debug=False)
    with TestClient(app) as client:
        r = client.post(
            "/boom/",
            json={"password": PASSWORD, "card": CARD, "note": "nothing"},
            headers={"Authorization": "Bearer sekret-token-0451"},
        )
    assert r.status_code == 500
    assert error(r)["code"] == "INTERNAL_ERROR"
    text = logs()
    assert "RuntimeError" in text and "boom" in text  # the traceback is there, masked
    assert_nothing_secret(text, PASSWORD, CARD, "sekret-token-0451")


def test_the_access_log_masks_secrets_in_query_strings() -> None:
    configure_logging()
    access = logging.getLogger("uvicorn.access")
    path = "/api/v1/payments/sandbox/checkout/1/?token=0123abcd0123abcd&page=2"
    # uvicorn's own call: client, method, path with query, HTTP version, status
    record = access.makeRecord(
        access.name,
        logging.INFO,
        __file__,
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )
    assert access.filter(record)
    assert "0123abcd0123abcd" not in record.getMessage()
    assert "?token=[redacted]&page=2" in record.getMessage()


def test_websocket_handshakes_are_logged_without_their_token() -> None:
    configure_logging()
    errors = logging.getLogger("uvicorn.error")
    path = (
        "/ws/chat/5b1f3c8e-2d7a-4e6b-9c0d-1a2b3c4d5e6f/?token=eyJhbGciOi.eyJ1c2VyIjo.c2ln&last_id=9"
    )
    # uvicorn's own call for an accepted websocket: client, path with query
    record = errors.makeRecord(
        errors.name,
        logging.INFO,
        __file__,
        0,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", path),
        None,
    )
    assert errors.filter(record)
    assert "eyJ" not in record.getMessage()
    assert "?token=[redacted]&last_id=9" in record.getMessage()


def test_exceptions_logged_anywhere_are_printed_without_local_variables(
    container: Container, logs: Callable[[], str]
) -> None:
    """Every process builds its container (API, projectors, workers, CLI), and with it the
    logging: a projector's ``log.exception`` must not print the event it held."""

    def project(event: dict[str, str]) -> None:
        password = event["password"]
        raise ValueError(f"cannot project {len(password)} characters")

    try:
        project({"password": PASSWORD})
    except ValueError:
        structlog.get_logger("tests").exception("projection.failed")
    structlog.get_logger("tests").info("careless", password=PASSWORD, card_number=CARD)
    text = logs()
    assert "projection.failed" in text and "cannot project" in text
    assert_nothing_secret(text, PASSWORD)
