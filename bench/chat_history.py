"""Posting to a long chat room costs what posting to a new one does (issue 12 item 5).

A room's messages are its events (domain/chat.py) and the Marketplace snapshots a room every
100 events, so loading a room for the next message reads a snapshot and fewer than 100 events,
whatever its history. Measured on PostgreSQL, in-process, the way an API worker posts
(``Chats.post``: load the room, append one event, save):

1. a room is filled with ``--history`` messages (10,000 by default; not measured);
2. a COLD process (a new container: no aggregate in its cache) posts ``--posts`` messages to that
   room and, interleaved, as many to a room that has none yet (the baseline, same run);
3. also the first load of each room from the cold process, where the history would show;
4. the messages read model answers the last page of the long room and the first of the new one.

Reported: per-post latency p50/p99 in both rooms, the first cold load of each, and the ratio
long/new (target <= 1.5, DESIGN §3).

    python -m bench.chat_history [--history 10000] [--posts 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from application.actor import Actor
from bench.common import bench_settings, fresh_schemas, header, percentile, stop_on_sigterm
from domain.chat import ChatRoom
from domain.user import User
from projections import chats as views
from wibestore.container import Container, build

PASSWORD = "Qz7!mountain-Ledger"


def users(container: Container, n: int) -> list[UUID]:
    return [
        container.accounts.create_user(Actor.platform("bench"), f"chat{i}@bench.uz", PASSWORD)
        for i in range(n)
    ]


def fill(container: Container, room: UUID, sender: UUID, count: int) -> float:
    """Post ``count`` messages one after another (the history); returns seconds taken. (One
    room takes one writer at a time: concurrent posts to it conflict and retry.)"""
    actor = Actor.user(sender)
    started = time.perf_counter()
    for i in range(count):
        container.chats.post(actor, room, f"history {i}")
    return time.perf_counter() - started


def timed_posts(
    container: Container, rooms: dict[str, UUID], sender: UUID, posts: int
) -> dict[str, list[float]]:
    actor = Actor.user(sender)
    took: dict[str, list[float]] = {name: [] for name in rooms}
    for i in range(posts):
        for name, room in rooms.items():  # interleaved: the machine's moods hit both
            started = time.perf_counter()
            container.chats.post(actor, room, f"measured {i}")
            took[name].append(time.perf_counter() - started)
    return took


def cold_load(container: Container, room: UUID) -> float:
    started = time.perf_counter()
    container.app.load(room, ChatRoom)
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> float:
    header(f"chat history: {args.history} messages, {args.posts} timed posts")
    with fresh_schemas() as schemas, tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp), schemas, run_projectors=True)
        warm = build(settings)
        warm.start()
        a, b, c = users(warm, 3)
        long_room = warm.chats.open_room(Actor.user(a), b)
        seconds = fill(warm, long_room, a, args.history)
        print(f"history: {args.history} messages in {seconds:.1f} s")
        new_room = warm.chats.open_room(Actor.user(a), c)  # the baseline: no history
        warm.close()

        cold = build(settings)  # a new process, as far as the store and caches go
        cold.start(projectors=False)
        try:
            cold.app.load(a, User)  # the first load of all pays for connections and imports
            loads = {"long": cold_load(cold, long_room), "new": cold_load(cold, new_room)}
            cold.app.repository.cache = None  # every post loads from the store (snapshot + events)
            took = timed_posts(cold, {"long": long_room, "new": new_room}, a, args.posts)
        finally:
            cold.close()
        reader = build(settings)
        reader.start()
        try:
            with reader.store.reader.connect() as conn:
                started = time.perf_counter()
                page = views.messages_page(conn, long_room, args.history - 50, 50)
                last_page = time.perf_counter() - started
            assert len(page) == 50, len(page)
        finally:
            reader.close()

    p = {name: (percentile(t, 50) * 1000, percentile(t, 99) * 1000) for name, t in took.items()}
    long_ms, new_ms = loads["long"] * 1000, loads["new"] * 1000
    print(f"cold first load: long room {long_ms:.1f} ms, new room {new_ms:.1f} ms")
    for name in ("long", "new"):
        print(f"post to {name} room: p50 {p[name][0]:.2f} ms, p99 {p[name][1]:.2f} ms")
    print(f"messages page 50 at the end of the long room: {last_page * 1000:.2f} ms")
    ratio = p["long"][0] / p["new"][0]
    print(f"ratio post p50 long/new: {ratio:.2f} (target <= 1.5)")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    stop_on_sigterm()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--history", type=int, default=10_000)
    p.add_argument("--posts", type=int, default=200)
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
