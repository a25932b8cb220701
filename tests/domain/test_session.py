"""Refresh-token families: rotation, reuse detection, logout."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.session import Outcome, Session, SessionRevoked

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def started() -> Session:
    session = Session(user_id=uuid.uuid4(), token_id="t1", at=NOW)
    session.collect_events()
    return session


def test_presenting_the_current_token_rotates_it() -> None:
    session = started()
    assert session.rotate("t1", "t2") is Outcome.ROTATED
    assert session.token_id == "t2"
    assert [type(e).__name__ for e in session.collect_events()] == ["Rotated"]


def test_presenting_a_rotated_token_revokes_the_family() -> None:
    session = started()
    session.rotate("t1", "t2")
    assert session.rotate("t1", "t3") is Outcome.REUSE_DETECTED
    assert session.is_revoked and session.revoked_because == "reuse"
    with pytest.raises(SessionRevoked):
        session.rotate("t2", "t4")


def test_logout_revokes_once() -> None:
    session = started()
    session.end()
    session.end()
    assert [type(e).__name__ for e in session.collect_events()] == ["Revoked"]
