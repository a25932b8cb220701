"""Unique keys: the first claim wins, a release lets the key be claimed again."""

from __future__ import annotations

import uuid

import pytest

from domain.unique import KeyTaken, UniqueKey, key_id


def test_the_key_id_ignores_case_and_spaces_for_emails() -> None:
    assert key_id("email", " Ann@Example.uz") == key_id("email", "ann@example.uz")
    assert key_id("email", "ann@example.uz") != key_id("username", "ann@example.uz")


def test_a_claimed_key_refuses_another_owner_until_released() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    key = UniqueKey("username", "ann", first)
    with pytest.raises(KeyTaken):
        key.claim(second)
    key.release()
    key.claim(second)
    assert key.owner_id == second
    assert [type(e).__name__ for e in key.collect_events()] == ["Claimed", "Released", "Reclaimed"]
