"""Who has a chat socket open on which room (the Presence port), so that a message to someone
watching the room live makes no notification.

Each socket holds a ticket that lives ``ttl`` seconds unless refreshed (its process refreshes
all its open sockets' tickets at once, in one round trip): a process that dies leaves nobody
"present" for longer than that. In Redis a room is a sorted set of tickets scored by their
expiry, shared by every API process; embedded, a dictionary. When Redis does not answer, nobody
is present: everyone is notified, which is the safe side of the mistake.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterable
from typing import Any
from uuid import UUID

import redis
import structlog

from adapters.outage import Outage

log = structlog.get_logger(__name__)
TTL = 60.0  # seconds a ticket lives without a refresh


def _ticket(room_id: UUID, user_id: UUID) -> str:
    return f"{room_id}|{user_id}|{uuid.uuid4().hex}"


def _room_of(ticket: str) -> str:
    return ticket.split("|", 1)[0]


def _users(tickets: Iterable[Any]) -> frozenset[UUID]:
    users = set()
    for ticket in tickets:
        text = ticket.decode() if isinstance(ticket, bytes) else ticket
        users.add(UUID(text.split("|")[1]))
    return frozenset(users)


class MemoryPresence:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._rooms: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def enter(self, room_id: UUID, user_id: UUID) -> str:
        ticket = _ticket(room_id, user_id)
        self.refresh([ticket])
        return ticket

    def refresh(self, tickets: Collection[str]) -> None:
        expires = time.monotonic() + self.ttl
        with self._lock:
            for ticket in tickets:
                self._rooms.setdefault(_room_of(ticket), {})[ticket] = expires

    def leave(self, ticket: str) -> None:
        with self._lock:
            room = self._rooms.get(_room_of(ticket), {})
            room.pop(ticket, None)
            if not room:
                self._rooms.pop(_room_of(ticket), None)

    def present(self, room_id: UUID) -> frozenset[UUID]:
        now = time.monotonic()
        with self._lock:
            room = self._rooms.get(str(room_id), {})
            for ticket in [t for t, expires in room.items() if expires <= now]:
                del room[ticket]
            return _users(list(room))


class RedisPresence:
    def __init__(self, client: redis.Redis, key_prefix: str = "", ttl: float = TTL) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.ttl = ttl
        self.outage = Outage("presence", meanwhile="every chat message notifies")

    def _key(self, room: str) -> str:
        return f"{self.key_prefix}wibestore:presence:{room}"

    def enter(self, room_id: UUID, user_id: UUID) -> str:
        ticket = _ticket(room_id, user_id)
        self.refresh([ticket])
        return ticket

    def refresh(self, tickets: Collection[str]) -> None:
        """One pipelined round trip for every ticket given (a process's open sockets)."""
        expires = time.time() + self.ttl
        rooms: dict[str, dict[str, float]] = {}
        for ticket in tickets:
            rooms.setdefault(self._key(_room_of(ticket)), {})[ticket] = expires
        if not rooms:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, scored in rooms.items():
                pipe.zadd(key, scored)
                pipe.pexpire(key, int(self.ttl * 2000))  # a room nobody refreshes goes
            pipe.execute()
            self.outage.recovered()
        except redis.RedisError as e:
            self.outage.failed(e)

    def leave(self, ticket: str) -> None:
        try:
            self.client.zrem(self._key(_room_of(ticket)), ticket)
        except redis.RedisError as e:
            self.outage.failed(e)

    def present(self, room_id: UUID) -> frozenset[UUID]:
        if self.outage.skipping():
            return frozenset()
        try:
            tickets = self.client.zrangebyscore(self._key(str(room_id)), time.time(), "+inf")
        except redis.RedisError as e:
            self.outage.failed(e)
            return frozenset()
        self.outage.recovered()
        return _users(tickets)
