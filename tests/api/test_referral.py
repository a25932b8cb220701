"""CONTRACT §2.2 referral: the profile page asks for it on open; a sign-up through the link
(``?ref=`` handed to registration) counts for its owner."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import PASSWORD, bearer, register

REFERRAL = "/api/v1/profile/referral/"


def test_a_referral_link_counts_the_sign_ups_that_name_it(client: TestClient[Any]) -> None:
    ann = bearer(register(client, "ann@example.uz")["tokens"]["access"])
    mine = client.get(REFERRAL, headers=ann).json()
    assert set(mine) == {"referral_code", "referral_url", "referred_count"}
    code = mine["referral_code"]
    assert re.fullmatch(r"[A-Z2-7]{10}", code)
    assert mine["referral_url"] == f"https://wibestore.test/?ref={code}"
    assert mine["referred_count"] == 0
    assert client.get(REFERRAL, headers=ann).json() == mine  # the same code every time
    register(client, "bob@example.uz", referral_code=code)
    register(client, "cat@example.uz", ref=code.lower())
    register(client, "dan@example.uz", ref="NOTACODE!!")  # ignored, not refused
    assert client.get(REFERRAL, headers=ann).json()["referred_count"] == 2
    bob = client.post("/api/v1/auth/login/", json={"email": "bob@example.uz", "password": PASSWORD})
    bobs = client.get(REFERRAL, headers=bearer(bob.json()["data"]["tokens"]["access"])).json()
    assert bobs["referral_code"] != code and bobs["referred_count"] == 0


def test_the_referral_page_needs_a_signed_in_caller(client: TestClient[Any]) -> None:
    assert client.get(REFERRAL).status_code == 401
