"""Publishing realtime messages (projections/runtime.py ``Publish``) to the API processes'
sockets.

A channel's name on the wire is ``<REDIS_KEY_PREFIX>ws:<channel>``; the API subscribes to the
same names through Litestar's ChannelsPlugin (api/realtime.py). With Redis, a projector in any
process publishes to every API process. Embedded (no Redis) the projector runs inside the one
API process and hands messages to its in-memory channels through a ``Relay``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import redis

from adapters.outage import Outage


def wire_name(key_prefix: str, channel: str) -> str:
    return f"{key_prefix}ws:{channel}"


class RedisPublisher:
    """While Redis is down, messages are dropped without a wait each (the projector must not
    slow down): clients get what they missed from the read models when they reconnect."""

    def __init__(self, client: redis.Redis, key_prefix: str = "") -> None:
        self.client = client
        self.key_prefix = key_prefix
        self.outage = Outage(
            "realtime", retry_seconds=1.0, meanwhile="sockets catch up from the read models later"
        )

    def __call__(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """One round trip for a batch's messages; one connection keeps their order."""
        if self.outage.skipping():
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for channel, data in messages:
                pipe.publish(wire_name(self.key_prefix, channel), data)
            pipe.execute()
        except redis.RedisError as e:
            self.outage.failed(e)
            return
        self.outage.recovered()


class Relay:
    """The embedded publisher: forwards to whatever the API attached (its channels, on its
    event loop); drops messages while nothing is attached (a CLI command, say)."""

    def __init__(self, key_prefix: str = "") -> None:
        self.key_prefix = key_prefix
        self._target: Callable[[str, bytes], None] | None = None
        self._lock = threading.Lock()

    def attach(self, target: Callable[[str, bytes], None] | None) -> None:
        with self._lock:
            self._target = target

    def __call__(self, messages: Sequence[tuple[str, bytes]]) -> None:
        with self._lock:
            target = self._target
        if target is not None:
            for channel, data in messages:
                target(wire_name(self.key_prefix, channel), data)
