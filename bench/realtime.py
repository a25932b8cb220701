"""Realtime delivery with 1,000 open sockets over two API processes, against a bare Redis
PUBLISH -> subscriber round trip measured in the same run.

Deployment (bench/common.start_production_servers): a projector process and two uvicorn
processes of one worker each, on PostgreSQL + Redis. Set-up, not measured: P pairs of users
registered through the Marketplace in this process, one chat room per pair, access tokens
minted with the deployment's secret; one socket per user on /ws/chat/{room}/ (2 x P, 1,000 by
default), half on each process, the two members of a pair on different processes, each
answered a ping with a pong (it follows its channels) before anything is timed.

Measured from one asyncio process, each at a fixed rate (open loop, not saturation):

- baseline: PUBLISH on the deployment's Redis -> a redis.asyncio pub/sub subscriber;
- chat: t0 just before ``POST /api/v1/chats/{room}/send/`` (content: a unique token), t1 when
  the OTHER participant's socket gets that message frame (commit -> projector process ->
  Redis -> the other API process -> socket). Lost: not there 5 s after the last send;
- purchase -> notification: t0 just before ``POST /api/v1/payments/purchase/`` by a funded
  buyer, t1 when the seller's /ws/notifications/ socket (one more socket for each of the
  --purchases sellers) gets the notification whose ``data`` names the listing or the escrow.
  --purchase-warmup purchases go first, untimed. Skipped, with a note, when the API does not
  serve that socket.

Printed: p50/p99/max, lost and repeated; the chat latency split where a plain subscriber beside
the API processes sees the projector's publish (before: commit and projection; after: the API
process's fan-out); CPU per process group, idle and over the chat window; and last the ratios
p99 / baseline p99 (DESIGN.md §6: p99 < 50 ms for both, nothing lost).

    python -m bench.realtime [--pairs 500] [--messages 1000] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from application.actor import Actor
from bench.common import (
    REDIS_URL,
    CpuMeter,
    bench_settings,
    children,
    fresh_schemas,
    header,
    percentile,
    start_production_servers,
    stop_on_sigterm,
)
from bench.load import KeepAlive
from wibestore.container import Container, build
from wibestore.seed import seed_games

PASSWORD = "Qz7!mountain-Ledger"
PRICE = 100_000 * 100  # UZS in tiyin
TARGET_P99_MS = 50.0  # DESIGN.md §6
LOST_AFTER = 5.0  # seconds after the last send
OPENING = 25  # sockets opened at once during the set-up
Frame = dict[str, Any]


@dataclass(frozen=True)
class Member:
    user: uuid.UUID
    auth: dict[str, str]
    server: int  # which API process its socket (and its REST calls) go to


@dataclass(frozen=True)
class Pair:
    room: uuid.UUID
    members: tuple[Member, Member]


@dataclass
class Timings:
    """When each token was sent, and when it reached the socket that was to get it."""

    sent: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, list[float]] = field(default_factory=dict)
    answered: list[float] = field(default_factory=list)  # seconds the REST call took
    tapped: dict[str, float] = field(default_factory=dict)  # the publish reached Redis's side
    errors: int = 0

    def arrive(self, token: str, at: float) -> None:
        self.arrived.setdefault(token, []).append(at)

    def missing(self) -> int:
        return sum(1 for token in self.sent if token not in self.arrived)

    def repeated(self) -> int:
        return sum(len(times) - 1 for times in self.arrived.values())

    def latencies_ms(self) -> list[float]:
        return [(t[0] - self.sent[k]) * 1000 for k, t in self.arrived.items() if k in self.sent]

    def summary(self, name: str) -> float:
        ms = self.latencies_ms()
        p99 = percentile(ms, 99)
        print(
            f"{name}: {len(self.sent)} sent, {self.missing()} lost, {self.repeated()} repeated, "
            f"{self.errors} refused; p50 {percentile(ms, 50):.2f} ms  p99 {p99:.2f} ms  "
            f"max {max(ms, default=float('nan')):.2f} ms"
        )
        if self.tapped:
            to_redis = [(t - self.sent[k]) * 1000 for k, t in self.tapped.items() if k in self.sent]
            on = [
                (t[0] - self.tapped[k]) * 1000 for k, t in self.arrived.items() if k in self.tapped
            ]
            print(
                f"  split at a Redis subscriber beside the APIs: send -> projector's publish "
                f"p50 {percentile(to_redis, 50):.2f} ms p99 {percentile(to_redis, 99):.2f} ms; "
                f"publish -> socket p50 {percentile(on, 50):.2f} ms p99 {percentile(on, 99):.2f} ms"
            )
        if self.answered:
            rest = [x * 1000 for x in self.answered]
            p50, p99_rest = percentile(rest, 50), percentile(rest, 99)
            print(f"  its REST answers: p50 {p50:.2f} ms  p99 {p99_rest:.2f} ms")
        return p99


class Pool:
    """Keep-alive HTTP connections to one API process, lent one request at a time."""

    def __init__(self, base: str, size: int) -> None:
        self.idle: asyncio.Queue[KeepAlive] = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(KeepAlive(base))

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[KeepAlive]:
        http = await self.idle.get()
        try:
            yield http
        finally:
            self.idle.put_nowait(http)

    async def post(
        self, path: str, auth: dict[str, str], payload: Any, key: str, timings: Timings
    ) -> Any:
        """POST, timed as ``key`` from just before the request; the answer's body, None when
        refused. Sent again once on a connection the server closed while it was idle
        (uvicorn closes keep-alive connections after 5 s)."""
        async with self.connection() as http:
            for attempt in (1, 2):
                timings.sent[key] = began = time.perf_counter()
                try:
                    status, body = await http.request("POST", path, auth, payload)
                    break
                except (OSError, asyncio.IncompleteReadError):
                    if attempt == 2:
                        raise
        timings.answered.append(time.perf_counter() - began)
        if status < 300:
            return body
        timings.errors += 1
        del timings.sent[key]
        return None

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


async def paced(count: int, rate: float, send: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Start ``send(0..count-1)`` at ``rate`` a second whatever the answers take; await all."""
    start = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def arrivals(missing: Callable[[], int]) -> None:
    """Until nothing is missing, or LOST_AFTER seconds."""
    deadline = time.perf_counter() + LOST_AFTER
    while missing() and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)


async def follow(url: str, on_frame: Callable[[Frame, float], None]) -> ClientConnection:
    """Open a socket, wait for the pong, then hand every frame to ``on_frame`` as it comes."""
    ws = await connect(url, open_timeout=30, close_timeout=2)
    await ws.send('{"type": "ping"}')
    async with asyncio.timeout(30):
        while json.loads(await ws.recv()) != {"type": "pong"}:
            pass

    async def read() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                on_frame(json.loads(raw), time.perf_counter())

    READERS.add(asyncio.create_task(read()))
    return ws


READERS: set[asyncio.Task[None]] = set()  # a task nobody refers to may be collected


def ws_url(base: str, path: str, member: Member) -> str:
    token = member.auth["Authorization"].removeprefix("Bearer ")
    return f"{base.replace('http', 'ws', 1)}{path}?token={token}"


async def open_chat_sockets(bases: list[str], pairs: list[Pair]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(OPENING)

    async def one(pair: Pair, member: Member) -> ClientConnection:
        def on_frame(frame: Frame, at: float) -> None:
            receiver, timings = EXPECT.get(frame.get("content", ""), (None, None))
            if frame.get("type") == "message" and receiver == member.user and timings:
                timings.arrive(frame["content"], at)

        async with gate:
            url = ws_url(bases[member.server], f"/ws/chat/{pair.room}/", member)
            return await follow(url, on_frame)

    return await asyncio.gather(*(one(p, m) for p in pairs for m in p.members))


async def redis_round_trips(count: int, rate: float) -> Timings:
    timings = Timings()
    channel = f"bench:realtime:{uuid.uuid4().hex}"
    listening, publisher = aioredis.Redis.from_url(REDIS_URL), aioredis.Redis.from_url(REDIS_URL)
    pubsub = listening.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)

    async def listen() -> None:
        async for message in pubsub.listen():
            timings.arrive(message["data"].decode(), time.perf_counter())

    async def send(i: int) -> None:
        timings.sent[str(i)] = time.perf_counter()
        await publisher.publish(channel, str(i))

    reader = asyncio.create_task(listen())
    try:
        await paced(count, rate, send)
        await arrivals(timings.missing)
    finally:
        reader.cancel()
        await pubsub.aclose()
        await listening.aclose()
        await publisher.aclose()
    return timings


@contextlib.asynccontextmanager
async def tap(pattern: str, timings: Timings) -> AsyncIterator[None]:
    """A plain Redis subscriber to the rooms' channels, beside the API processes': when the
    projector's publish of each message reached subscribers (``timings.tapped``)."""
    client = aioredis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.psubscribe(pattern)

    async def listen() -> None:
        async for message in pubsub.listen():
            content = json.loads(message["data"]).get("frame", {}).get("content")
            if content is not None:
                timings.tapped.setdefault(content, time.perf_counter())

    reader = asyncio.create_task(listen())
    try:
        yield
    finally:
        reader.cancel()
        await pubsub.aclose()
        await client.aclose()


async def chat(
    pairs: list[Pair], pools: list[Pool], count: int, rate: float, timings: Timings, tag: str
) -> None:
    """``count`` REST sends, each member of a pair in turn, over every pair in turn."""

    async def send(i: int) -> None:
        pair = pairs[i % len(pairs)]
        writer = (i // len(pairs)) % 2
        sender, receiver = pair.members[writer], pair.members[1 - writer]
        token = f"{tag}-{i}-{uuid.uuid4().hex[:12]}"
        EXPECT[token] = (receiver.user, timings)
        path = f"/api/v1/chats/{pair.room}/send/"
        await pools[sender.server].post(path, sender.auth, {"content": token}, token, timings)

    await paced(count, rate, send)
    await arrivals(timings.missing)


EXPECT: dict[str, tuple[uuid.UUID, Timings]] = {}  # chat token -> who gets it, whose timing


# --- purchase -> the seller's notification ------------------------------------------------
def prepare_purchases(container: Container, pairs: list[Pair]) -> list[str]:
    """Fund each pair's first member and list an approved account of its second: the
    listing ids, in the order of ``pairs``."""
    seed_games(container.catalogue)
    operator = Actor.platform("operator")
    staff = container.accounts.create_user(operator, "staff@rt.bench.uz", PASSWORD, staff=True)

    def one(pair: Pair) -> str:
        buyer, seller = pair.members
        container.payments.credit_deposit(operator, buyer.user, uuid.uuid4(), PRICE)
        listing = container.listings.create_listing(
            Actor.user(seller.user),
            "pubg-mobile",
            {"title": f"Account {pair.room.hex[:8]}", "description": "Bench", "price": PRICE},
            credentials={"account_email": "a@b.uz", "account_password": "p"},
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        return str(listing)

    with ThreadPoolExecutor(8) as pool:
        listings = list(pool.map(one, pairs))
    caught_up(container)
    return listings


def named(frame: Frame) -> set[str]:
    """The ids a notification's ``data`` names (a notification has no ``type``)."""
    data = frame.get("data")
    if "type" in frame or not isinstance(data, dict):
        return set()
    return {str(v) for v in data.values() if isinstance(v, str | int) and str(v)}


async def purchases(
    bases: list[str], pools: list[Pool], pairs: list[Pair], listings: list[str], rate: float
) -> Timings:
    notified: list[tuple[float, uuid.UUID, set[str]]] = []  # when, on whose socket, naming
    gate = asyncio.Semaphore(OPENING)

    async def open_socket(seller: Member) -> ClientConnection:
        async with gate:
            url = ws_url(bases[seller.server], "/ws/notifications/", seller)
            return await follow(
                url, lambda frame, at: notified.append((at, seller.user, named(frame)))
            )

    sockets = await asyncio.gather(*(open_socket(p.members[1]) for p in pairs))
    timings, escrows = Timings(), dict.fromkeys(listings, "")

    async def send(i: int) -> None:
        buyer, listing = pairs[i].members[0], listings[i]
        path, payload = "/api/v1/payments/purchase/", {"listing_id": listing}
        body = await pools[buyer.server].post(path, buyer.auth, payload, listing, timings)
        if body is not None:
            escrows[listing] = str(body["data"]["id"])

    def missing() -> int:
        seen = set().union(*(ids for _, _, ids in notified))
        return sum(1 for k in timings.sent if k not in seen and escrows[k] not in seen)

    try:
        await paced(len(pairs), rate, send)
        await arrivals(missing)
        await asyncio.sleep(1.0)  # for repeats
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    seller_of = {listing: p.members[1].user for p, listing in zip(pairs, listings, strict=True)}
    for at, user, ids in notified:
        for listing in ids & timings.sent.keys() or {k for k, e in escrows.items() if e in ids}:
            if seller_of[listing] == user:  # on the seller's own socket
                timings.arrive(listing, at)
    return timings


async def notifications_served(base: str, member: Member) -> str | None:
    """None when /ws/notifications/ answers a ping, else what happened instead."""
    try:
        ws = await follow(ws_url(base, "/ws/notifications/", member), lambda frame, at: None)
    except (InvalidHandshake, ConnectionClosed, TimeoutError, OSError) as e:
        return f"{type(e).__name__}: {e}"
    await ws.close()
    return None


# --- the run ------------------------------------------------------------------------------
def setup(container: Container, pairs: int) -> list[Pair]:
    """Pair i: its first member's socket on process i % 2, the second's on the other."""

    def pair(i: int) -> Pair:
        users = [container.accounts.register(f"rt{i}{s}@bench.uz", PASSWORD) for s in "ab"]
        room = container.chats.open_room(Actor.user(users[0]), users[1])
        now = container.clock.now()
        auth = [{"Authorization": f"Bearer {container.tokens.access(u, now)}"} for u in users]
        return Pair(room, (Member(users[0], auth[0], i % 2), Member(users[1], auth[1], 1 - i % 2)))

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(pair, range(pairs)))


def caught_up(container: Container, timeout: float = 120) -> None:
    """Wait for the projector process to have applied everything saved so far."""
    deadline = time.monotonic() + timeout
    head = container.app.recorder.max_notification_id() or 0
    while min(container.store.positions().values()) < head:
        if time.monotonic() > deadline:
            raise TimeoutError("the projector did not catch up")
        time.sleep(0.2)


@dataclass
class Results:
    baseline: Timings
    chat: Timings
    purchases: Timings | None
    skipped: str | None
    idle: CpuMeter


async def session(
    container: Container,
    bases: list[str],
    pairs: list[Pair],
    args: argparse.Namespace,
    meter: CpuMeter,
) -> Results:
    pools = [Pool(base, args.connections) for base in bases]
    chat_timings = Timings()
    began = time.perf_counter()
    sockets = await open_chat_sockets(bases, pairs)
    print(f"opened {len(sockets)} sockets in {time.perf_counter() - began:.1f} s")
    # the load generator's own full collections (100-150 ms with 1,000 sockets) would show
    # as latency: what the set-up built stays, out of the collector's sight
    gc.collect()
    gc.freeze()
    try:
        idle = CpuMeter(meter.api_pids, meter.projector_pid)
        idle.start()
        await asyncio.sleep(args.idle)
        idle.stop()
        baseline = await redis_round_trips(args.messages, args.rate)
        await chat(pairs, pools, args.warmup, args.rate, Timings(), "warm-up")
        async with tap(container.channel("room:*"), chat_timings):
            meter.start()
            await chat(pairs, pools, args.messages, args.rate, chat_timings, "rt")
            meter.stop()
        await asyncio.sleep(1.0)  # for repeats
        results = Results(baseline, chat_timings, None, None, idle)
        seller = pairs[0].members[1]
        results.skipped = await notifications_served(bases[seller.server], seller)
        if results.skipped is None:
            some = pairs[: args.purchases]
            warm = pairs[args.purchases : args.purchases + args.purchase_warmup]
            listings = await asyncio.to_thread(prepare_purchases, container, some + warm)
            # not timed, as the chat's warm-up: the first purchases of a process are slower
            await purchases(bases, pools, warm, listings[len(some) :], args.purchase_rate)
            results.purchases = await purchases(
                bases, pools, some, listings[: len(some)], args.purchase_rate
            )
        return results
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
        for pool in pools:
            pool.close()


def run(args: argparse.Namespace) -> tuple[Results, CpuMeter]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp,
        fresh_schemas() as schemas,
        children() as started,
    ):
        settings = bench_settings(Path(tmp), schemas)
        container = build(settings, fast_passwords=True)
        container.start(projectors=False)
        try:
            began = time.perf_counter()
            pairs = setup(container, args.pairs)
            print(f"set up {args.pairs} pairs and rooms in {time.perf_counter() - began:.1f} s")
            log = (Path(tmp) / "servers.log").open("wb")
            bases = start_production_servers(settings, 2, 1, log, started)
            caught_up(container)
            procs = {child.name: child.proc.pid for child in started}
            meter = CpuMeter([procs["api-1"], procs["api-2"]], procs["projector"])
            return asyncio.run(session(container, bases, pairs, args, meter)), meter
        finally:
            container.close()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__)
    p.add_argument("--pairs", type=int, default=500, help="2 sockets each")
    p.add_argument("--messages", type=int, default=1000)
    # 20/s measures latency on 2 cores: a message costs 35-50 ms of CPU over all the processes,
    # so 40/s already saturates them when anything else runs (BENCHMARKS.md)
    p.add_argument("--rate", type=float, default=20.0, help="messages (and publishes) a second")
    p.add_argument("--warmup", type=int, default=100, help="messages sent before timing")
    p.add_argument("--connections", type=int, default=16, help="HTTP connections per process")
    p.add_argument("--idle", type=float, default=3.0, help="seconds of idle sockets metered")
    p.add_argument("--purchases", type=int, default=200)
    p.add_argument("--purchase-warmup", type=int, default=20, help="purchases before timing")
    p.add_argument("--purchase-rate", type=float, default=20.0)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 4 * args.pairs + 2 * args.connections + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    header(f"realtime: {2 * args.pairs} sockets on two API processes vs Redis pub/sub")
    results, meter = run(args)
    print(f"with the sockets open and idle for {args.idle:g} s: {results.idle.report(0)}")
    base_p99 = results.baseline.summary("baseline, Redis PUBLISH -> subscriber")
    chat_p99 = results.chat.summary("chat, REST send -> the other member's socket")
    print(meter.report(len(results.chat.sent)).replace("ms/command", "ms/message"))
    notified_p99 = None
    if results.purchases is not None:
        notified_p99 = results.purchases.summary("purchase -> the seller's notification")
    else:
        print(f"purchase -> notification: SKIPPED, no /ws/notifications/ ({results.skipped})")
    print(f"target: p99 < {TARGET_P99_MS:g} ms, nothing lost (DESIGN.md §6)")
    met = chat_p99 < TARGET_P99_MS and results.chat.missing() == 0
    print(f"ratio chat p99 / redis p99 = {chat_p99 / base_p99:.1f}")
    if notified_p99 is not None and results.purchases is not None:
        met = met and notified_p99 < TARGET_P99_MS and results.purchases.missing() == 0
        print(f"ratio notification p99 / redis p99 = {notified_p99 / base_p99:.1f}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
