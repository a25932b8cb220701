"""Tokens remembers the tokens it verified (application/tokens.py); what it answers must not
change: an expired, tampered or wrong-type token is refused whether or not it was seen."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from adapters.tokens import LEEWAY, TokenInvalid, Tokens

SECRET = "s" * 40


class Now:
    def __init__(self) -> None:
        self.value = time.time()

    def __call__(self) -> float:
        return self.value


def test_a_remembered_token_still_expires() -> None:
    now = Now()
    tokens = Tokens(SECRET, access_minutes=1, refresh_minutes=10, now=now)
    user = uuid.uuid4()
    token = tokens.access(user, datetime.now(UTC))
    assert tokens.decode(token, "access").user_id == user
    assert tokens.decode(token, "access").user_id == user  # remembered
    now.value += 60 + LEEWAY - 1
    assert tokens.decode(token, "access").user_id == user  # within the leeway
    now.value += 2
    with pytest.raises(TokenInvalid, match="Token is expired"):
        tokens.decode(token, "access")


def test_a_remembered_token_does_not_vouch_for_another() -> None:
    tokens = Tokens(SECRET, access_minutes=60, refresh_minutes=600)
    token = tokens.access(uuid.uuid4(), datetime.now(UTC))
    tokens.decode(token, "access")
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(TokenInvalid):
        tokens.decode(f"{head}.{payload}.{flipped}", "access")
    with pytest.raises(TokenInvalid):
        tokens.decode(token, "refresh")
    other = Tokens("t" * 40, access_minutes=60, refresh_minutes=600)
    with pytest.raises(TokenInvalid):
        other.decode(token, "access")
