"""This API process's side of realtime (CONTRACT §4): Litestar's ChannelsPlugin fans the
projectors' messages out to the sockets of this process, and ``Stream`` turns one socket's
share of them into frames, in commit order, without repeats or gaps.

Where messages come from: projectors publish each batch's messages after it commits
(projections/runtime.py), to Redis when there is one (every API process subscribes) or, in the
embedded default, straight into this process's in-memory channels through the container's
Relay. Typing indicators are the only frames the API publishes itself: they are not events.

No loss: a socket that connects with the last id it saw is sent what came after it from the
read model, then follows the channel, skipping what it already sent (each message carries its
event's position). Redis pub/sub forgets what was published while a subscriber was away, so a
watcher notices when Redis comes back (or restarted: its run id changed), waits until this
process's subscription works again (a probe goes round), and tells every socket to fetch what
it missed from the read model.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import msgspec
import redis.asyncio as aioredis
import structlog
from litestar import Litestar, WebSocket
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff

from wibestore.container import Container

log = structlog.get_logger(__name__)

RESYNC = b'{"resync":true}'  # put into every socket's stream: fetch the gap from the read model
BACKLOG = 1000  # frames held for one slow socket before new ones are dropped (it resyncs)
WATCH_EVERY = 1.0  # seconds between looks at Redis
SUBSCRIBE_TIMEOUT = 3.0  # seconds a socket waits for its subscription (Redis down: 1013)
SHUTDOWN_TIMEOUT = 5.0  # seconds the channels get to close when the app stops
PRESENCE_REFRESH = 20.0  # seconds between refreshes of this process's presence tickets (TTL 60)

# Position-stamped frames a socket missed, oldest first: (position, frame). Called in a thread.
CatchUp = Callable[[int], list[tuple[int, dict[str, Any]]]]


class Realtime:
    def __init__(self, container: Container) -> None:
        self.container = container
        settings = container.settings
        self.subscribers: set[Subscriber] = set()
        self._publisher: aioredis.Redis | None = None
        self._run_id: str | None = None
        self._probe = container.channel(f"probe:{uuid.uuid4().hex}")
        self._tasks: list[asyncio.Task[None]] = []
        self._tickets: set[str] = set()  # presence of this process's open chat sockets
        self.healthy = True
        self._stopping = False
        if settings.redis_url:
            # The subscriber's client retries for ever (with backoff): a Redis restart must
            # not end delivery. Publishing (typing, probes) fails fast instead.
            listening = aioredis.Redis.from_url(
                settings.redis_url,
                retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), -1),
                socket_connect_timeout=1.0,
            )
            self._publisher = aioredis.Redis.from_url(
                settings.redis_url,
                retry=Retry(NoBackoff(), 0),
                socket_timeout=1.0,
                socket_connect_timeout=1.0,
            )
            backend: Any = RedisChannelsPubSubBackend(redis=listening)
        else:
            backend = MemoryChannelsBackend()
        self.plugin = ChannelsPlugin(
            backend=backend, arbitrary_channels_allowed=True, subscriber_max_backlog=BACKLOG
        )

    @property
    def status(self) -> str:
        """For /health/detailed/: whether this process's channel subscription delivers."""
        if self.healthy:
            return "ok"
        return "degraded: channel subscription not delivering, sockets get no live frames"

    # --- lifecycle (the app's startup and shutdown) ------------------------------------------
    async def start(self, app: Litestar) -> None:
        await self.plugin.__aenter__()  # its lifecycle is ours: see ``stop``
        loop = asyncio.get_running_loop()
        relay = self.container.publisher
        if hasattr(relay, "attach"):  # embedded: projectors hand messages to this loop

            def publish(name: str, data: bytes) -> None:
                loop.call_soon_threadsafe(self.plugin.publish, data, [name])

            relay.attach(publish)
        self._tasks.append(asyncio.create_task(self._keep_present()))
        if self._publisher is not None:
            self._tasks.append(asyncio.create_task(self._watch()))

    async def stop(self, app: Litestar) -> None:
        """Bounded: a shutdown that waits on a channel (a publish the plugin still holds, a
        Redis that does not answer) gives up after SHUTDOWN_TIMEOUT instead of hanging the
        process (seen once in a test run, cause not found)."""
        try:
            await asyncio.wait_for(self._stop(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            log.warning("realtime.shutdown_timeout", seconds=SHUTDOWN_TIMEOUT)

    async def _stop(self) -> None:
        relay = self.container.publisher
        if hasattr(relay, "attach"):
            relay.attach(None)
        self._stopping = True  # the watcher ends at its next look even if a cancel is lost
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Python 3.11's wait_for can swallow a cancellation that arrives as its inner
            # call completes: do not wait on the watcher for ever
            await asyncio.wait(self._tasks, timeout=WATCH_EVERY * 2)
        await self.plugin.__aexit__(None, None, None)
        if self._publisher is not None:
            await self._publisher.aclose()

    # --- what sockets use ---------------------------------------------------------------------
    async def subscribe(self, channels: list[str]) -> Subscriber | None:
        """A subscription to these channels (logical names); None when it cannot be made now
        (Redis down): the socket closes with 1013, try again later."""
        names = [self.container.channel(c) for c in channels]
        try:
            subscriber = await asyncio.wait_for(self.plugin.subscribe(names), SUBSCRIBE_TIMEOUT)
        except (TimeoutError, OSError, aioredis.RedisError):
            log.warning("realtime.subscribe_failed", channels=channels)
            return None
        self.subscribers.add(subscriber)
        return subscriber

    async def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        with contextlib.suppress(Exception):  # Redis down: the server forgets us anyway
            await asyncio.wait_for(self.plugin.unsubscribe(subscriber), SUBSCRIBE_TIMEOUT)

    async def publish(self, channel: str, frame: dict[str, Any]) -> None:
        """A frame from the API itself (typing); dropped when Redis does not answer."""
        data = msgspec.json.encode({"frame": frame})
        name = self.container.channel(channel)
        if self._publisher is None:
            self.plugin.publish(data, [name])
            return
        try:
            await self._publisher.publish(name, data)
        except (OSError, aioredis.RedisError):
            log.info("realtime.typing_dropped", channel=channel)

    # --- presence (who watches a chat room) ----------------------------------------------------
    async def enter(self, room_id: uuid.UUID, user_id: uuid.UUID) -> str:
        """This socket watches the room until ``leave``: its ticket is kept alive with the
        others of this process, all in one call every PRESENCE_REFRESH seconds (one call per
        socket, all opened at once, would queue every request behind them)."""
        presence = self.container.presence
        ticket = await anyio.to_thread.run_sync(presence.enter, room_id, user_id)
        self._tickets.add(ticket)
        return ticket

    async def leave(self, ticket: str) -> None:
        self._tickets.discard(ticket)
        await anyio.to_thread.run_sync(self.container.presence.leave, ticket)

    async def _keep_present(self) -> None:
        while not self._stopping:
            await asyncio.sleep(PRESENCE_REFRESH)
            if not self._tickets:
                continue
            tickets = list(self._tickets)
            try:  # the adapters absorb Redis outages; anything else must not end the loop
                await anyio.to_thread.run_sync(self.container.presence.refresh, tickets)
            except Exception:
                log.exception("realtime.presence_refresh_failed", tickets=len(tickets))

    # --- Redis restarts --------------------------------------------------------------------
    async def _watch(self) -> None:
        assert self._publisher is not None
        probe = await self._probe_subscription()
        missed = False
        delay = 0.0  # the first look at once: it learns the run id sockets subscribe under
        while not self._stopping:
            await asyncio.sleep(delay)
            delay = WATCH_EVERY
            try:
                run_id = (await self._publisher.info("server"))["run_id"]
            except (OSError, aioredis.RedisError):
                missed = True
                continue
            # Sockets that subscribed before the first look may have lived through a restart
            # that look cannot see (it found a server, run id unknown): they fetch the gap.
            unknown = self._run_id is None and bool(self.subscribers)
            if missed or unknown or (self._run_id is not None and run_id != self._run_id):
                if probe is None:
                    probe = await self._probe_subscription()
                if probe is not None and await self._round_trip(probe):
                    log.info("realtime.resync", sockets=len(self.subscribers))
                    for subscriber in list(self.subscribers):
                        subscriber.put_nowait(RESYNC)
                    missed = False
                    self.healthy = True
                else:
                    self.healthy = False
                    continue
            self._run_id = run_id

    async def _probe_subscription(self) -> Subscriber | None:
        try:
            return await asyncio.wait_for(self.plugin.subscribe([self._probe]), SUBSCRIBE_TIMEOUT)
        except (TimeoutError, OSError, aioredis.RedisError):
            return None

    async def _round_trip(self, probe: Subscriber) -> bool:
        """Whether this process's subscription delivers again: publish to our own probe
        channel and wait for it to come back."""
        assert self._publisher is not None
        token = uuid.uuid4().hex.encode()
        events = probe.iter_events()
        try:
            await self._publisher.publish(self._probe, token)
            async with asyncio.timeout(5.0):
                async for data in events:
                    if data == token:
                        return True
        except (TimeoutError, OSError, aioredis.RedisError):
            return False
        finally:
            await events.aclose()
        return False


class Stream:
    """One socket's frames: channel messages in commit order, each once, and what it missed
    (``catch_up`` from the read model) after a Redis restart."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        user_id: uuid.UUID | None,
        session_id: uuid.UUID | None,
        catch_up: CatchUp | None,
        position: int = 0,
    ) -> None:
        self.socket = socket
        self.user_id = str(user_id) if user_id else None
        self.session_id = str(session_id) if session_id else None
        self.catch_up = catch_up
        self.position = position  # the last event this socket was sent a frame of
        self._floor = position  # every frame of the events up to here is the client's
        self._sent_here: set[str] = set()  # the frames sent of that event (one event can
        # make several: a notification and the unread count it changes)
        self.lock = asyncio.Lock()  # frames from the stream and answers to the client

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            await self.socket.send_text(msgspec.json.encode(frame).decode())

    async def send_missed(self) -> None:
        if self.catch_up is None:
            return
        for position, frame in await anyio.to_thread.run_sync(self.catch_up, self.position):
            if self._new(position, frame):
                await self.send(frame)

    async def deliver(self, data: bytes) -> int | None:
        """Send what a channel message says; returns a close code when the socket must close
        (its user was banned, its session ended)."""
        if data == RESYNC:
            await self.send_missed()
            return None
        message = msgspec.json.decode(data)
        close = message.get("close")
        if close is not None:
            if close.get("session") in (None, self.session_id):
                return int(close.get("code", 4401))
            return None
        frame = message.get("frame")
        if frame is None:
            return None
        position = message.get("position")
        if position is not None:
            if not self._new(position, frame):
                return None  # already sent (from the read model, or before a resync)
        elif frame.get("type") == "typing" and frame.get("user_id") == self.user_id:
            return None  # one's own typing is not echoed
        await self.send(frame)
        return None

    def _new(self, position: int, frame: dict[str, Any]) -> bool:
        """Whether this frame of the event at ``position`` is yet to be sent (and now is)."""
        key = str(frame.get("id") or frame.get("type"))
        if (
            position <= self._floor
            or position < self.position
            or (position == self.position and key in self._sent_here)
        ):
            return False
        if position > self.position:
            self.position, self._sent_here = position, set()
        self._sent_here.add(key)
        return True
