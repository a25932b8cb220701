"""The presence port, the same on both stores: Redis (production) and memory. Tickets expire
unless refreshed; a process refreshes all of its sockets' tickets in one call."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from adapters.presence import MemoryPresence, RedisPresence
from application.ports import Presence
from tests.conftest import REDIS_URL, redis_key_prefix

TTL = 0.6  # seconds


@pytest.fixture
def presence(backend: str) -> Presence:
    if backend == "postgres":  # the production half of the suite: Redis
        return RedisPresence(redis.Redis.from_url(REDIS_URL), redis_key_prefix(), ttl=TTL)
    return MemoryPresence(ttl=TTL)


def test_one_refresh_keeps_every_ticket_of_every_room_alive(presence: Presence) -> None:
    rooms = [uuid.uuid4(), uuid.uuid4()]
    ann, bob, eve = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kept = [presence.enter(rooms[0], ann), presence.enter(rooms[1], bob)]
    presence.enter(rooms[1], eve)  # never refreshed
    time.sleep(TTL * 0.6)
    presence.refresh(kept)
    time.sleep(TTL * 0.6)  # past the first expiry, before the refreshed one
    assert presence.present(rooms[0]) == {ann}
    assert presence.present(rooms[1]) == {bob}
    presence.refresh([])  # nothing to refresh: no call, no error


def test_a_ticket_left_or_expired_is_nobody(presence: Presence) -> None:
    room, ann, bob = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ticket = presence.enter(room, ann)
    presence.enter(room, bob)
    presence.leave(ticket)
    assert presence.present(room) == {bob}
    time.sleep(TTL * 1.2)
    assert presence.present(room) == frozenset()
