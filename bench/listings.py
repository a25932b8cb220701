"""Listings at catalogue scale: seeding, a read-model rebuild, and the public listing endpoints.

1. Seed, in fresh PostgreSQL schemas, through the Marketplace's own commands (``fast_passwords``,
   in-process projectors off): the 40 games of ``wibestore.seed``, 50 sellers, and 10,000 listings
   spread over the games (varied titles and descriptions, prices, levels, ranks, warranties),
   every one approved and about 10 % made premium. 8 threads share the saves; the seeding rate
   (saves/s) is printed. Then the users and games projections catch up (``--full-first-catch-up``
   projects listings here too, about 25 s more: the rebuild below does the same work again).
2. Rebuild: ``runner.rebuild_schema(["listings"])`` + ``runner.catch_up()`` over the whole
   event log, in events/s. Baseline, same run, same rows: a raw psycopg scan of the event
   table (``SELECT * ... ORDER BY notification_id``). The target of the issue is >= 5,000
   events/s. The catch-up is split into reading, decoding and applying (SQL statements
   counted); ``--profile-rebuild`` runs it once more under pyinstrument.
3. Profile (in-process, this container): the parts of ``GET /api/v1/listings/?page=1&limit=24``
   (count query, page query, rows to structs, JSON encoding), each query through SQLAlchemy
   and as raw psycopg, EXPLAIN ANALYZE of the queries, whole requests through Litestar's
   TestClient and straight through the ASGI app (against a no-I/O sync and async handler),
   and pyinstrument profiles of the list and detail work when pyinstrument is installed.
4. HTTP, production shape (as bench/http_me.py): ``uvicorn api.app:create_app --factory
   --workers 2``, RUN_PROJECTORS=false plus a ``python -m wibestore.cli project`` process, after
   ``python -m wibestore.cli migrate``; anonymous requests, wrk -t2 -c32 -d10s (or the Python
   client) on (a) the first page, (b) a filtered + searched + ordered page, (c) one listing's
   detail, as the product leaves its read model (never ANALYZEd: this server runs with
   autovacuum off). Then ANALYZE the read model and measure (a) and (b) again. Baseline, same
   run: bench/hello.py served the same way. Targets of the issue: list and search >= 0.5 of
   hello with p99 < 25 ms, detail >= 0.6.
5. What-if (after the HTTP runs, on this run's schema only): EXPLAIN ANALYZE of the queries
   after ANALYZE, after VACUUM, and with an index matching the default order.

    python -m bench.listings [--listings 10000] [--seconds 10] [--loadgen auto|wrk|python]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
import psycopg
from litestar import Litestar, Request, get
from litestar.serialization import encode_json
from litestar.testing import TestClient
from psycopg import sql
from sqlalchemy import Engine, and_, event, func, select

from api.app import create_app
from api.listing_schemas import listing_from_row
from api.pagination import Page
from application.actor import Actor
from bench.common import (
    CORES,
    DATABASE_URL,
    bench_settings,
    checkpoint,
    children,
    fresh_schemas,
    header,
    start_production_api,
    stop_on_sigterm,
)
from bench.http_me import load, measure_hello, print_log_tail, row
from bench.load import LoadResult, add_load_options, available_tool, describe
from domain.game import game_id
from projections.listings import listings as listings_table
from projections.listings import queries as q
from projections.listings import search_text
from projections.runtime import ProjectionRunner
from wibestore.container import Container, build
from wibestore.seed import GAMES, seed_games
from wibestore.settings import Settings

PASSWORD = "Qz7!mountain-Ledger"
LIST = "/api/v1/listings/"
TARGET_REBUILD = 5000.0  # events/s
TARGET_LIST_RATIO, TARGET_DETAIL_RATIO, TARGET_P99_MS = 0.5, 0.6, 25.0
# All the load comes from one address: with the default anon=30 a minute the benchmark would
# measure 429s. Limits this high keep the limiter's Redis round trip per request, as in
# production (many clients), while never throttling.
RATE_LIMITS = "anon=1000000000,user=1000000000"


def unthrottled() -> dict[str, str]:
    """The Settings override, when this version of the product has rate limits."""
    return {"rate_limits": RATE_LIMITS} if "rate_limits" in Settings.__struct_fields__ else {}


# --- what the catalogue looks like ------------------------------------------------------------
FIRST_NAMES = ("Aziz", "Dilnoza", "Jasur", "Malika", "Sardor", "Nodira", "Bekzod", "Kamola",
               "Timur", "Zarina")  # fmt: skip
LAST_NAMES = ("Karimov", "Rashidova", "Tursunov", "Yusupova", "Aliev")
ADJECTIVES = ("Rare", "Legendary", "Maxed", "Starter", "Veteran", "Premium", "Cheap", "Top",
              "Old", "Fresh", "Stacked", "Elite")  # fmt: skip
RANKS = ("Bronze", "Silver", "Gold", "Platinum", "Diamond", "Master", "Grandmaster", "Legend",
         "Mythic", "Conqueror")  # fmt: skip
TITLES = (
    "{adj} {game} account",
    "{adj} {game} account with {skins} skins",
    "{game}: {rank} rank, level {level}",
    "{adj} {game} profile, {rank}",
    "{game} {rank} account, {lower} inventory",
)
SENTENCES = (
    "Original owner, email included and can be changed.",
    "Full access to the account, no bans and no reports.",
    "Many legendary skins and rare weapon finishes.",
    "Battle pass purchased for the last three seasons.",
    "Linked phone can be removed before the sale.",
    "Ranked matches played mostly in squad mode.",
    "Fast delivery after payment, usually within an hour.",
    "Mythic outfits, exclusive emotes and limited-time vehicles.",
    "Clean history, bought only through the official store.",
    "Great starter account for a new player.",
    "Collection of event rewards from previous years.",
    "Warranty covers recovery attempts by the previous owner.",
    "Diamond currency balance left on the account.",
    "Dragon themed skins and animated banners.",
    "Account region is Europe, language can be switched.",
)
FEATURES = ("Email access", "Phone unlinked", "Battle pass", "Exclusive skins", "Rare emotes",
            "Original owner", "Two-factor off", "Recovery codes")  # fmt: skip
LOGIN_METHODS = ("email", "email", "email", "phone", "username", "social", "google")
WARRANTY_DAYS = (0, 0, 0, 3, 7, 14, 30)
# The filtered page (b): one game, one word, a price band, most expensive first.
SEARCH_GAME, SEARCH_WORD = "pubg-mobile", "legendary"
SEARCH_MIN, SEARCH_MAX = 100_000, 2_000_000  # UZS, as the query string carries them


@dataclass(frozen=True)
class Spec:
    """One listing to seed."""

    seller: int
    game: str
    fields: dict[str, Any]
    premium: bool


def listing_specs(count: int, sellers: int, rng: random.Random) -> list[Spec]:
    names = {slug: name for slug, name, _, _ in GAMES}
    slugs = list(names)
    specs = []
    for i in range(count):
        slug = slugs[i % len(slugs)] if i < len(slugs) else rng.choice(slugs)
        adj, rank = rng.choice(ADJECTIVES), rng.choice(RANKS)
        level, skins = rng.randint(1, 100), rng.choice((0, 0, 5, 12, 30, 75, 150, 400))
        title = rng.choice(TITLES).format(
            adj=adj, game=names[slug], skins=skins, rank=rank, level=level, lower=adj.lower()
        )
        description = " ".join(rng.sample(SENTENCES, rng.randint(2, 4)))
        price = round(math.exp(rng.uniform(math.log(20_000), math.log(20_000_000))), -3) * 100
        original = price * rng.choice((12, 15, 20)) // 10 if rng.random() < 0.2 else None
        fields = {
            "title": title,
            "description": description,
            "price": int(price),
            "original_price": original,
            "warranty_days": rng.choice(WARRANTY_DAYS),
            "login_method": rng.choice(LOGIN_METHODS),
            "level": f"Level {level}",
            "rank": rank,
            "skins_count": skins,
            "features": rng.sample(FEATURES, rng.randint(0, 4)),
        }
        specs.append(Spec(rng.randrange(sellers), slug, fields, rng.random() < 0.1))
    return specs


def seller_name(i: int) -> str:
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i // len(FIRST_NAMES) % 5]} {i}"


def expected_search_count(specs: Sequence[Spec]) -> int:
    """How many listings page (b) must find, computed from the specs, not the database."""
    names = {slug: name for slug, name, _, _ in GAMES}
    return sum(
        s.game == SEARCH_GAME
        and SEARCH_MIN * 100 <= s.fields["price"] <= SEARCH_MAX * 100
        and SEARCH_WORD
        in search_text(
            s.fields["title"], s.fields["description"], names[s.game], seller_name(s.seller)
        )
        for s in specs
    )


# --- 1. seeding ---------------------------------------------------------------------------------
@dataclass
class Seeded:
    listing_ids: list[UUID]
    specs: list[Spec]
    saves: int
    seconds: float
    projected_events: int
    projection_seconds: float


def seed(container: Container, args: argparse.Namespace) -> Seeded:
    began = time.perf_counter()
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"),
        "staff@example.uz",
        PASSWORD,
        staff=True,
        full_name="Bench Staff",
    )
    with ThreadPoolExecutor(args.seed_threads) as pool:
        sellers = list(
            pool.map(
                lambda i: container.accounts.register(
                    f"seller{i}@example.uz", PASSWORD, full_name=seller_name(i)
                ),
                range(args.sellers),
            )
        )
    setup = time.perf_counter() - began
    specs = listing_specs(args.listings, args.sellers, random.Random(args.seed))

    def one(spec: Spec) -> UUID:
        listing_id = container.listings.create_listing(
            Actor.user(sellers[spec.seller]), spec.game, dict(spec.fields)
        )
        container.listings.approve_listing(Actor.user(staff), listing_id)
        if spec.premium:
            container.listings.set_listing_premium(Actor.user(staff), listing_id, True)
        return listing_id

    began = time.perf_counter()
    with ThreadPoolExecutor(args.seed_threads) as pool:
        ids = list(pool.map(one, specs))
    seconds = time.perf_counter() - began
    saves = 2 * len(specs) + sum(s.premium for s in specs)
    print(
        f"seeded {len(GAMES)} games, 1 staff, {len(sellers)} sellers in {setup:.1f} s; "
        f"{len(ids)} listings ({sum(s.premium for s in specs)} premium) in {seconds:.1f} s: "
        f"{saves} saves = {saves / seconds:.0f} saves/s ({len(ids) / seconds:.0f} listings/s), "
        f"{args.seed_threads} threads"
    )
    checkpoint()
    runner = container.runners[0]
    if not args.full_first_catch_up:  # the measured rebuild builds listings from 0 anyway
        runner = ProjectionRunner(
            [p for p in runner.projectors if p.name != "listings"],
            runner.recorder,
            runner.mapper,
            runner.store,
            board=runner.board,
            batch_size=runner.batch_size,
        )
    began = time.perf_counter()
    projected = runner.catch_up()
    projection = time.perf_counter() - began
    print(
        f"first catch-up of {', '.join(runner.names)}: {projected} events in "
        f"{projection:.1f} s = {projected / projection:.0f} events/s"
        + ("" if args.full_first_catch_up else " (listings: built by the rebuild below)")
    )
    return Seeded(ids, specs, saves, seconds, projected, projection)


# --- 2. rebuild vs raw scan ---------------------------------------------------------------------
@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with parameters) the engine sends while inside."""
    seen: list[tuple[str, Any]] = []

    def note(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@dataclass
class Rebuild:
    events: int
    reset_seconds: float
    catch_up_seconds: float
    statements: int
    raw_rows: int
    raw_seconds: float
    raw_paged_seconds: float
    read_seconds: float
    decoded: int
    decode_seconds: float

    @property
    def per_second(self) -> float:
        return self.events / (self.reset_seconds + self.catch_up_seconds)

    @property
    def raw_per_second(self) -> float:
        return self.raw_rows / self.raw_seconds


def raw_scan(schema: str, table: str, batch: int) -> tuple[int, float, float]:
    """Rows, seconds of one full SELECT, seconds of the same in pages like the runner's."""
    full = sql.SQL("SELECT * FROM {}.{} ORDER BY notification_id").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    paged = sql.SQL(
        "SELECT * FROM {}.{} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
    ).format(sql.Identifier(schema), sql.Identifier(table))
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(full).fetchall()  # same cache state for both
        began = time.perf_counter()
        rows = len(conn.execute(full).fetchall())
        full_seconds = time.perf_counter() - began
        began = time.perf_counter()
        start, paged_rows = 1, 0
        cur = conn.cursor()
        while page := cur.execute(paged, (start, batch)).fetchall():
            paged_rows += len(page)
            assert cur.description is not None
            key = [c.name for c in cur.description].index("notification_id")
            start = page[-1][key] + 1
        paged_seconds = time.perf_counter() - began
    if paged_rows != rows:
        raise RuntimeError(f"paged scan read {paged_rows} rows, full scan {rows}")
    return rows, full_seconds, paged_seconds


def rebuild(container: Container, settings: Settings) -> Rebuild:
    runner = container.runners[0]
    recorder = container.app.recorder
    table = str(getattr(recorder, "events_table_name", "marketplace_events"))
    rows, raw_seconds, raw_paged_seconds = raw_scan(
        settings.database_schema, table, runner.batch_size
    )
    checkpoint()
    with statements(container.store.engine) as sent:
        began = time.perf_counter()
        runner.rebuild_schema(["listings"])
        reset = time.perf_counter() - began
        began = time.perf_counter()
        events = runner.catch_up()
        catch_up = time.perf_counter() - began
    # The reading and decoding the catch-up did, again on their own: the rest is applying.
    topics = next(p for p in runner.projectors if p.name == "listings").topics()
    read = decode = 0.0
    decoded, start = 0, 1
    while True:
        began = time.perf_counter()
        batch = recorder.select_notifications(start=start, limit=runner.batch_size)
        read += time.perf_counter() - began
        if not batch:
            break
        began = time.perf_counter()
        for n in batch:
            if n.topic in topics:
                container.app.mapper.to_domain_event(n)
                decoded += 1
        decode += time.perf_counter() - began
        start = batch[-1].id + 1
    return Rebuild(
        events, reset, catch_up, len(sent), rows, raw_seconds, raw_paged_seconds, read,
        decoded, decode,
    )  # fmt: skip


def print_rebuild(r: Rebuild) -> None:
    total = r.reset_seconds + r.catch_up_seconds
    apply = max(r.catch_up_seconds - r.read_seconds - r.decode_seconds, 0.0)
    print(
        f"rebuild listings: reset {r.reset_seconds * 1000:.0f} ms + catch_up "
        f"{r.catch_up_seconds:.2f} s = {total:.2f} s for {r.events} events "
        f"= {r.per_second:.0f} events/s (target >= {TARGET_REBUILD:.0f})"
    )
    print(
        f"  of the catch-up: read {r.read_seconds:.2f} s (recorder.select_notifications), "
        f"decode {r.decode_seconds:.2f} s ({r.decoded} events through the mapper), "
        f"apply + commit ~{apply:.2f} s ({r.statements} SQL statements, "
        f"{apply / max(r.statements, 1) * 1e6:.0f} us each)"
    )
    print(
        f"raw scan: {r.raw_rows} rows in {r.raw_seconds * 1000:.0f} ms = "
        f"{r.raw_per_second:.0f} rows/s (one SELECT); paged like the runner "
        f"{r.raw_paged_seconds * 1000:.0f} ms = {r.raw_rows / r.raw_paged_seconds:.0f} rows/s"
    )
    if r.events != r.raw_rows:
        print(f"warning: the rebuild read {r.events} events, the raw scan {r.raw_rows} rows")
    print(f"ratio rebuild / raw scan = {r.per_second / r.raw_per_second:.4f}")


# --- 3. in-process profile ----------------------------------------------------------------------
def search_filter() -> q.ListingFilter:
    return q.ListingFilter(
        search=SEARCH_WORD,
        min_price=SEARCH_MIN * 100,
        max_price=SEARCH_MAX * 100,
        game_id=game_id(SEARCH_GAME),
        ordering=(("price", True),),
    )


def search_query() -> str:
    params = {
        "page": 1,
        "limit": 24,
        "game": SEARCH_GAME,
        "search": SEARCH_WORD,
        "min_price": SEARCH_MIN,
        "max_price": SEARCH_MAX,
        "ordering": "-price",
    }
    return f"{LIST}?{urlencode(params)}"


def timed(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """Median and mean milliseconds of ``fn`` over n calls, after a few warm-up calls."""
    for _ in range(min(5, n)):
        fn()
    laps = []
    for _ in range(n):
        began = time.perf_counter()
        fn()
        laps.append((time.perf_counter() - began) * 1000)
    return statistics.median(laps), statistics.fmean(laps)


Statements = dict[str, tuple[str, Any]]  # name -> (SQL as sent to psycopg, its parameters)
BASE = "http://testserver.local/"


def list_page(reader: Engine, f: q.ListingFilter) -> bytes:
    """What the list handler does with the database: connect, q.search, structs, encode."""
    with reader.connect() as conn:
        total, found = q.search(conn, f, 0, 24)
    items = [listing_from_row(r, BASE) for r in found]
    return encode_json(Page(count=total, next=None, previous=None, results=items))


def profile(container: Container, seeded: Seeded, args: argparse.Namespace) -> Statements:
    n = args.profile_iterations
    reader = container.store.reader
    base = BASE
    default, searched = q.ListingFilter(), search_filter()

    def page_query(f: q.ListingFilter) -> Any:
        """The page query of q.search, on its own."""
        order = []
        for name, descending in f.ordering:
            column = listings_table.c.is_premium if name == "is_premium" else q.ORDERABLE[name]
            order.append(column.desc() if descending else column.asc())
        return (
            q.ANONYMOUS_CARDS.where(and_(*q._conditions(f)))
            .order_by(*order, listings_table.c.id.asc())
            .offset(0)
            .limit(24)
        )

    def count_query(f: q.ListingFilter) -> Any:
        return select(func.count()).select_from(listings_table).where(and_(*q._conditions(f)))

    with reader.connect() as conn:
        rows = q.search(conn, default, 0, 24)[1]
        with statements(container.store.engine) as sent:
            q.search(conn, default, 0, 24)
            q.search(conn, searched, 0, 24)
            q.detail(conn, seeded.listing_ids[0])
    if len(sent) != 5:  # count + page for (a) and (b), one detail query
        raise RuntimeError(f"expected 5 statements, the queries sent {len(sent)}")
    a_count, a_page, b_count, b_page, c_detail = sent
    structs = [listing_from_row(r, base) for r in rows]
    page = Page(count=len(seeded.listing_ids), next=None, previous=None, results=structs)
    body = encode_json(page)

    def whole() -> bytes:
        return list_page(reader, default)

    parts: list[tuple[str, tuple[float, float]]] = []
    with reader.connect() as conn:

        def run(query: Any) -> Callable[[], Any]:
            return lambda: list(conn.execute(query))

        parts += [
            ("pool checkout + return (reader.connect)", timed(lambda: reader.connect().close(), n)),
            ("(a) count query, SQLAlchemy", timed(run(count_query(default)), n)),
            ("(a) page query (24 rows), SQLAlchemy", timed(run(page_query(default)), n)),
            ("(a) q.search (count + page)", timed(lambda: q.search(conn, default, 0, 24), n)),
            ("(b) q.search (count + page)", timed(lambda: q.search(conn, searched, 0, 24), n)),
            ("(c) q.detail", timed(lambda: q.detail(conn, seeded.listing_ids[0]), n)),
        ]
    with psycopg.connect(DATABASE_URL, autocommit=True) as raw:

        def raw_run(statement: tuple[str, Any]) -> Callable[[], Any]:
            return lambda: raw.execute(statement[0], statement[1]).fetchall()

        parts += [
            ("(a) count query, raw psycopg", timed(raw_run(a_count), n)),
            ("(a) page query, raw psycopg", timed(raw_run(a_page), n)),
            ("(b) count query, raw psycopg", timed(raw_run(b_count), n)),
            ("(b) page query, raw psycopg", timed(raw_run(b_page), n)),
            ("(c) detail query, raw psycopg", timed(raw_run(c_detail), n)),
        ]
        plans = {
            name: raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params).fetchall()
            for name, (stmt, params) in (
                ("(a) count", a_count),
                ("(a) page", a_page),
                ("(b) count", b_count),
                ("(b) page", b_page),
                ("(c) detail", c_detail),
            )
        }
    parts += [
        (
            "(a) 24 rows -> Listing structs",
            timed(lambda: [listing_from_row(r, base) for r in rows], n),
        ),
        ("(a) encode_json(Page)", timed(lambda: encode_json(page), n)),
        ("(a) all of the above (connect..encode)", timed(whole, n)),
    ]
    app = create_app(container)
    with TestClient(app=app, base_url=base.rstrip("/")) as client:
        for path in (LIST + "?page=1&limit=24", search_query(), f"{LIST}{seeded.listing_ids[0]}/"):
            if (r := client.get(path)).status_code != 200:
                raise RuntimeError(f"TestClient GET {path}: {r.status_code} {r.text[:300]}")
        parts += [
            ("TestClient GET /health/ (floor)", timed(lambda: client.get("/health/"), n)),
            ("TestClient GET (a) list", timed(lambda: client.get(LIST + "?page=1&limit=24"), n)),
            ("TestClient GET (b) search", timed(lambda: client.get(search_query()), n)),
            (
                "TestClient GET (c) detail",
                timed(lambda: client.get(f"{LIST}{seeded.listing_ids[0]}/"), n),
            ),
        ]
    app.state.container = container  # what the app's on_startup hook does
    detail_path = f"{LIST}{seeded.listing_ids[0]}/"
    parts += asgi_timings(
        (
            ("ASGI GET /health/ (async, no I/O)", app, "/health/"),
            ("ASGI GET / sync handler, no I/O (floor)", floors(), "/sync"),
            ("ASGI GET / async handler, no I/O", floors(), "/async"),
            ("ASGI GET / sync handler + sync before_request", floors(hook=True), "/sync"),
            ("ASGI GET / async handler + sync before_request", floors(hook=True), "/async"),
            ("ASGI GET (a) list", app, LIST + "?page=1&limit=24"),
            ("ASGI GET (b) search", app, search_query()),
            ("ASGI GET (c) detail", app, detail_path),
        ),
        n,
    )
    limiter = getattr(app.state, "rate_limiter", None)
    if limiter is not None and limiter.limits:  # what every request pays before its handler
        check = timed(lambda: limiter.check("anon", "ip:bench-listings"), n)
        parts.append(("rate limiter check (Redis pipeline)", check))
    print(f"in-process profile, {n} calls each (median / mean ms); (a) body {len(body)} bytes:")
    for name, (median, mean) in parts:
        print(f"  {name:<48}{median:>8.3f}{mean:>9.3f}")
    print("EXPLAIN (ANALYZE, BUFFERS), server-side times:")
    for name, plan in plans.items():
        lines = [str(r[0]) for r in plan]
        timing = "; ".join(x.strip() for x in lines if x.startswith(("Planning Time", "Execution")))
        print(f"  {name}: {timing}")
        for line in lines[: args.plan_lines if "page" in name else 6]:
            if not line.startswith(("Planning", "Execution")):
                print(f"      {line}")
    sample(
        f"{n * 2} x (connect + q.search + structs + encode) of (a)",
        lambda: [whole() for _ in range(n * 2)],
    )

    def details() -> None:
        for _ in range(n * 10):
            with reader.connect() as c:
                row = q.detail(c, seeded.listing_ids[0])
            encode_json(listing_from_row(row, base))

    sample(f"{n * 10} x (connect + q.detail + struct + encode) of (c)", details)
    return {"(a) count": a_count, "(a) page": a_page, "(b) count": b_count, "(b) page": b_page}


def profile_analyzed(settings: Settings, seeded: Seeded, args: argparse.Namespace) -> None:
    """The parts of (a) and (b) again once the read model has statistics (after ANALYZE)."""
    n = args.profile_iterations
    container = build(settings, fast_passwords=True)  # not started: reads only
    try:
        reader = container.store.reader
        default, searched = q.ListingFilter(), search_filter()
        with reader.connect() as conn:
            rows = q.search(conn, default, 0, 24)[1]
            parts = [
                ("(a) q.search (count + page)", timed(lambda: q.search(conn, default, 0, 24), n)),
                ("(b) q.search (count + page)", timed(lambda: q.search(conn, searched, 0, 24), n)),
            ]
        structs = timed(lambda: [listing_from_row(r, BASE) for r in rows], n)
        parts += [
            ("(a) 24 rows -> Listing structs", structs),
            ("(a) connect..encode", timed(lambda: list_page(reader, default), n)),
            ("(b) connect..encode", timed(lambda: list_page(reader, searched), n)),
        ]
        app = create_app(container)
        app.state.container = container
        parts += asgi_timings(
            (
                ("ASGI GET (a) list", app, LIST + "?page=1&limit=24"),
                ("ASGI GET (b) search", app, search_query()),
            ),
            n,
        )
        print(f"in-process, after ANALYZE, {n} calls each (median / mean ms):")
        for name, (median, mean) in parts:
            print(f"  {name:<48}{median:>8.3f}{mean:>9.3f}")
        sample(
            f"{n * 4} x (connect + q.search + structs + encode) of (a), after ANALYZE",
            lambda: [list_page(reader, default) for _ in range(n * 4)],
        )
    finally:
        container.close()


@get("/sync", sync_to_thread=True)
def sync_floor() -> dict[str, str]:
    return {"hello": "world"}


@get("/async")
async def async_floor() -> dict[str, str]:
    return {"hello": "world"}


def sync_hook(_request: Request[Any, Any, Any]) -> None:
    """A sync before_request hook that does nothing (the app's hooks are sync)."""


def floors(hook: bool = False) -> Litestar:
    """Litestar's own cost of a sync (thread-hopping) and an async handler, same settings;
    ``hook`` adds a sync before_request, which Litestar runs in a worker thread too."""
    return Litestar(
        route_handlers=[sync_floor, async_floor],
        before_request=sync_hook if hook else None,
        debug=False,
    )


def asgi_timings(
    targets: Sequence[tuple[str, Litestar, str]], n: int
) -> list[tuple[str, tuple[float, float]]]:
    """Requests driven straight through the ASGI app on this thread's event loop: the whole
    request in Litestar (routing, handler, thread hop, encoding) without any HTTP client."""

    async def call(app: Litestar, target: str) -> None:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver.local")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
            "state": {},
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)  # type: ignore[arg-type]
        if sent[0].get("status") != 200:
            raise RuntimeError(f"ASGI GET {target}: {sent[0].get('status')} {sent[1:]!r:.300}")

    async def measure() -> list[tuple[str, tuple[float, float]]]:
        out = []
        for label, app, target in targets:
            for _ in range(5):
                await call(app, target)
            laps = []
            for _ in range(n):
                began = time.perf_counter()
                await call(app, target)
                laps.append((time.perf_counter() - began) * 1000)
            out.append((label, (statistics.median(laps), statistics.fmean(laps))))
        return out

    return asyncio.run(measure())


AREAS = (
    ("/sqlalchemy/", "sqlalchemy"),
    ("/psycopg", "psycopg (driver, waiting on PostgreSQL)"),
    ("/msgspec/", "msgspec"),
    ("/litestar/", "litestar"),
    ("/api/", "api (listing_from_row, iso, money)"),
    ("/projections/", "projections"),
    ("/eventsourcing/", "eventsourcing"),
    ("zoneinfo", "zoneinfo"),
    ("/uuid.py", "uuid"),
    ("/json/", "json"),
    ("/bench/", "bench (the loop)"),
)


# (function, a piece of its file's path, what it stands for): inclusive time is shown for these.
Probe = tuple[str, str, str]
READ_PROBES: tuple[Probe, ...] = (
    ("connect", "sqlalchemy/engine/base.py", "pool checkout (Engine.connect)"),
    ("_cards", "projections/", "building the SELECT (_cards, once per process now)"),
    ("_conditions", "projections/", "building the WHERE (_conditions)"),
    ("_generate_cache_key", "sqlalchemy/", "SQLAlchemy statement cache key"),
    ("_render_schema_translates", "sqlalchemy/", "schema_translate_map (regex per execution)"),
    ("do_execute", "sqlalchemy/", "cursor.execute: send + wait for PostgreSQL"),
    ("_setup_result_proxy", "sqlalchemy/", "result setup (psycopg description, metadata)"),
    ("_fetchall_impl", "sqlalchemy/", "fetching rows (psycopg loaders)"),
    ("fetchone", "psycopg/", "fetching rows (psycopg loaders)"),
    ("listing_from_row", "api/", "rows -> Listing structs (listing_from_row)"),
    ("encode_json", "litestar/", "JSON encoding (encode_json)"),
)
REBUILD_PROBES: tuple[Probe, ...] = (
    ("select_notifications", "eventsourcing/", "reading notifications"),
    ("to_domain_event", "eventsourcing/", "decoding events (mapper)"),
    ("_game_name", "projections/", "Listing.Created: SELECT game name"),
    ("_seller_name", "projections/", "Listing.Created: SELECT seller name"),
    ("_set", "projections/", "UPDATE listings (approved, premium...)"),
    ("values", "sqlalchemy", "building INSERT/UPDATE .values()"),
    ("_generate_cache_key", "sqlalchemy/", "SQLAlchemy statement cache key"),
    ("_render_schema_translates", "sqlalchemy/", "schema_translate_map (regex per execution)"),
    ("do_execute", "sqlalchemy/", "cursor.execute: send + wait for PostgreSQL"),
    ("commit", "sqlalchemy/engine/base.py", "COMMIT (one per batch of 1000)"),
)


def sample(
    label: str,
    run: Callable[[], Any],
    probes: Sequence[Probe] = READ_PROBES,
    interval: float = 2e-4,
) -> None:
    """A pyinstrument profile of ``run()``: self time by library, the top functions by self
    time, and the inclusive time of the probed functions (outermost calls only)."""
    try:
        pyinstrument = importlib.import_module("pyinstrument")
    except ImportError:
        print("pyinstrument is not installed: no sampling profile (pip install pyinstrument)")
        return
    profiler = pyinstrument.Profiler(interval=interval)
    profiler.start()
    run()
    profiler.stop()
    root = profiler.last_session.root_frame()
    by_area: dict[str, float] = {}
    by_function: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def walk(frame: Any, parent_area: str, inside: frozenset[str]) -> None:
        """Self time by library; built-ins and [self] frames count for their caller's."""
        if frame.is_synthetic:  # [self] and await leaves: already in the parent's self time
            return
        own = float(frame.total_self_time)
        path = str(frame.file_path or "")
        area = next((name for key, name in AREAS if key in path), None)
        if area is None:
            area = parent_area if not path or path.startswith("<") else "other"
        by_area[area] = by_area.get(area, 0.0) + own
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        by_function[where] = by_function.get(where, 0.0) + own
        for function, fragment, name in probes:
            if frame.function == function and fragment in path and name not in inside:
                inclusive[name] = inclusive.get(name, 0.0) + float(frame.time)
                inside = inside | {name}
        for child in frame.children:
            walk(child, area, inside)

    walk(root, "other", frozenset())
    total = float(root.time)
    print(f"pyinstrument, {label}: {total:.2f} s sampled")
    print("  self time by area:")
    for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"    {seconds / total * 100:>5.1f} %  {area}")
    print("  top functions by self time:")
    for where, seconds in sorted(by_function.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {seconds / total * 100:>5.1f} %  {where}")
    print("  inclusive time of:")
    for name in dict.fromkeys(name for _, _, name in probes):
        print(f"    {inclusive.get(name, 0.0) / total * 100:>5.1f} %  {name}")


# --- what the planner does with the queries ------------------------------------------------
def plan_shape(lines: Sequence[str]) -> str:
    """The plan's nodes, outermost first: 'Limit > Sort > Nested Loop > ...'."""
    nodes = []
    for line in lines:
        text = line.strip().removeprefix("->").strip()
        if "(cost=" in text:
            nodes.append(text.split("  (cost=")[0])
    return " > ".join(nodes[:6])


def execution_ms(conn: psycopg.Connection[Any], statement: tuple[str, Any]) -> tuple[float, str]:
    """Median server-side execution time (EXPLAIN ANALYZE, 5 runs) and the plan's shape."""
    times, shape = [], ""
    for _ in range(5):
        plan = [str(r[0]) for r in conn.execute("EXPLAIN ANALYZE " + statement[0], statement[1])]
        shape = plan_shape(plan)
        times += [float(x.split(":")[1].split()[0]) for x in plan if x.startswith("Execution")]
    return statistics.median(times), shape


def explain_step(label: str, statements: Statements) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        timed_plans = {name: execution_ms(conn, st) for name, st in statements.items()}
    cells = "".join(f"{ms:>11.2f}" for ms, _ in timed_plans.values())
    print(f"  {label:<46}{cells}")
    print(f"  {'':<4}(a) page plan: {timed_plans['(a) page'][1]}")


def explain_header(statements: Statements) -> None:
    print(f"  {'EXPLAIN ANALYZE execution, ms (median of 5)':<46}", end="")
    print("".join(f"{name:>11}" for name in statements))


def analyze_state(schema: str) -> str:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        autovacuum = conn.execute("SHOW autovacuum").fetchone()
        row = conn.execute(
            "SELECT last_analyze, last_autoanalyze, n_mod_since_analyze FROM pg_stat_user_tables"
            " WHERE schemaname = %s AND relname = 'listings'",
            (schema,),
        ).fetchone()
    analyzed = (row[0] or row[1]) if row else None
    return (
        f"autovacuum = {autovacuum[0] if autovacuum else '?'} on this server; listings last "
        f"analyzed: {analyzed or 'never'} ({row[2] if row else '?'} rows changed since)"
    )


def maintenance(schema: str, *commands: str) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        for command in commands:
            conn.execute(
                sql.SQL(command).format(
                    **{t: sql.Identifier(schema, t) for t in ("listings", "users", "games")}
                )
            )


def prepared_or_not(statements: Statements) -> None:
    """psycopg prepares a statement server-side from its 5th run on a connection (as the read
    engine's connections do); PostgreSQL may then switch to a generic plan that cannot see
    the parameters (the LIKE pattern, the price band). Raw psycopg round trips, rows included."""
    print(f"  {'psycopg round trips, ms (median of 10)':<46}", end="")
    print("".join(f"{name:>11}" for name in statements))
    modes = (
        ("unprepared (a custom plan every run)", False, False),
        ("prepared, as the read engine runs them", True, False),
        ("prepared + plan_cache_mode=force_custom_plan", True, True),
    )
    for label, prepare, custom in modes:
        cells = []
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            if custom:
                conn.execute("SET plan_cache_mode = force_custom_plan")
            for statement, params in statements.values():
                for _ in range(8):  # past psycopg's prepare_threshold and PG's 5 custom plans
                    conn.execute(statement, params, prepare=prepare).fetchall()
                laps = []
                for _ in range(10):
                    began = time.perf_counter()
                    conn.execute(statement, params, prepare=prepare).fetchall()
                    laps.append((time.perf_counter() - began) * 1000)
                cells.append(statistics.median(laps))
        print(f"  {label:<46}" + "".join(f"{ms:>11.2f}" for ms in cells))


def what_if(schema: str, statements: Statements) -> None:
    """Experiments on this run's read schema after the HTTP runs: nothing in the product."""
    print("what-if, on this run's read schema after the HTTP runs (no product change):")
    explain_header(statements)
    explain_step("after ANALYZE (as measured over HTTP above)", statements)
    prepared_or_not(statements)
    maintenance(schema, "VACUUM {listings}")
    explain_step("+ VACUUM listings (visibility map)", statements)
    maintenance(
        schema,
        "CREATE INDEX bench_public_order ON {listings} "
        "(status, is_premium DESC, created_at DESC, id)",
    )
    explain_step("+ index matching the default ORDER BY (*)", statements)
    print("  (*) CREATE INDEX ON listings (status, is_premium DESC, created_at DESC, id)")


# --- 4. HTTP ------------------------------------------------------------------------------------
def measure_listings(
    args: argparse.Namespace, tmp: Path, settings: Settings, seeded: Seeded, plans: Statements
) -> dict[str, LoadResult]:
    """(a), (b), (c) as the product leaves its read model; then ANALYZE and (a), (b) again."""
    log_path = tmp / "api.log"
    paths = {
        "list": f"{LIST}?page=1&limit=24",
        "search": search_query(),
        "detail": f"{LIST}{seeded.listing_ids[0]}/",
    }
    expected = {"list": len(seeded.listing_ids), "search": expected_search_count(seeded.specs)}
    throttle_env = {"RATE_LIMITS": args.rate_limits} if unthrottled() else {}
    if throttle_env.get("RATE_LIMITS") == RATE_LIMITS:
        print(f"RATE_LIMITS={RATE_LIMITS}: every request is still counted in Redis, none refused")
    elif throttle_env:
        print(f"RATE_LIMITS={args.rate_limits} (a what-if, not the product's shape)")
    try:
        with log_path.open("wb") as log, children() as started:
            base = start_production_api(settings, args.workers, log, started, **throttle_env)
            print(f"api up on {base} ({args.workers} workers) + projector process")
            print(analyze_state(settings.read_schema))
            results = {}
            for name, path in paths.items():
                check = httpx.get(base + path, timeout=10)
                if check.status_code != 200:
                    raise RuntimeError(f"GET {path}: {check.status_code} {check.text[:300]}")
                found = check.json().get("count")
                note = f", count {found} (expected {expected[name]})" if name in expected else ""
                if name in expected and found != expected[name]:
                    raise RuntimeError(f"GET {path}: count {found}, expected {expected[name]}")
                print(f"measuring ({name}) GET {path}: {len(check.content)} bytes{note}")
                results[name] = load(args, base + path, {})
            explain_header(plans)
            explain_step("as served (read model never analyzed)", plans)
            maintenance(
                settings.read_schema, "ANALYZE {listings}", "ANALYZE {users}", "ANALYZE {games}"
            )
            print("ANALYZE listings, users, games (what autovacuum would do, when it is on)")
            for name in ("list", "search"):
                print(f"measuring ({name}) again after ANALYZE")
                results[f"{name} analyzed"] = load(args, base + paths[name], {})
            return results
    except Exception:
        print_log_tail(log_path)
        raise


# --- main ---------------------------------------------------------------------------------------
LABELS = {
    "list": "(a) list page 1, limit 24",
    "search": "(b) filtered search",
    "detail": "(c) detail",
    "list analyzed": "(a) after ANALYZE",
    "search analyzed": "(b) after ANALYZE",
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.listings", description=__doc__)
    p.add_argument("--listings", type=int, default=10_000)
    p.add_argument("--sellers", type=int, default=50)
    p.add_argument("--seed-threads", type=int, default=8)
    p.add_argument("--seed", type=int, default=20261128, help="random seed of the catalogue")
    p.add_argument("--profile-iterations", type=int, default=30)
    p.add_argument(
        "--full-first-catch-up",
        action="store_true",
        help="project listings after seeding too (about 25 s more; the rebuild redoes it)",
    )
    p.add_argument(
        "--profile-rebuild",
        action="store_true",
        help="rebuild the listings once more under pyinstrument (not timed; takes as long again)",
    )
    p.add_argument("--plan-lines", type=int, default=18, help="EXPLAIN lines of page queries")
    p.add_argument(
        "--rate-limits",
        default=RATE_LIMITS,
        help="RATE_LIMITS of the API under test; 'off' shows what the limiter's Redis round "
        "trip costs (default: limits no one reaches, every request still counted)",
    )
    add_load_options(p)
    args = p.parse_args(argv)
    args.tool = available_tool(args.loadgen)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    began = time.monotonic()
    header(f"listings: seed {args.listings}, rebuild vs raw scan, GET listings vs hello world")
    print(f"load generator: {describe(args.tool, args.threads, args.connections, args.seconds)}")
    print(f"note: the load generator shares the {CORES} cores with the servers and PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="bench-listings-") as tmp, fresh_schemas() as schemas:
        settings = bench_settings(
            Path(tmp),
            schemas,
            postgres_pool_size=args.seed_threads + 2,
            postgres_max_overflow=args.seed_threads,
            **unthrottled(),
        )
        container = build(settings, fast_passwords=True)
        try:
            container.start(projectors=False)
            seeded = seed(container, args)
            rebuilt = rebuild(container, settings)
            print_rebuild(rebuilt)
            if args.profile_rebuild:
                runner = container.runners[0]
                runner.rebuild_schema(["listings"])
                sample("the listings rebuild's catch_up, again", runner.catch_up, REBUILD_PROBES)
            plans = profile(container, seeded, args)
        finally:
            container.close()
        checkpoint()
        hello = measure_hello(args, Path(tmp))
        http = measure_listings(args, Path(tmp), settings, seeded, plans)
        profile_analyzed(settings, seeded, args)
        what_if(settings.read_schema, plans)
    print(f"{'':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    print(row("hello world (GET /)", hello, 30))
    for name, label in LABELS.items():
        print(row(label, http[name], 30))
    if hello.errors or any(r.errors for r in http.values()):
        print("warning: some responses were errors (not 200); see the errors column")
    ratios = {name: r.per_second / hello.per_second for name, r in http.items()}
    for name in ("list", "search", "list analyzed", "search analyzed"):
        met = ratios[name] >= TARGET_LIST_RATIO and http[name].p99_ms < TARGET_P99_MS
        print(
            f"ratio {name} / hello = {ratios[name]:.3f} (target >= {TARGET_LIST_RATIO} with "
            f"p99 < {TARGET_P99_MS:g} ms: {'met' if met else 'not met'})"
        )
    met = ratios["detail"] >= TARGET_DETAIL_RATIO
    print(
        f"ratio detail / hello = {ratios['detail']:.3f} (target >= {TARGET_DETAIL_RATIO}: "
        f"{'met' if met else 'not met'})"
    )
    print(
        f"seeding: {seeded.saves / seeded.seconds:.0f} saves/s; "
        f"whole benchmark {time.monotonic() - began:.0f} s"
    )
    print(
        f"ratio list/hello {ratios['list']:.3f} ({ratios['list analyzed']:.3f} analyzed), "
        f"search/hello {ratios['search']:.3f} ({ratios['search analyzed']:.3f} analyzed), "
        f"detail/hello {ratios['detail']:.3f}, rebuild/raw scan "
        f"{rebuilt.per_second / rebuilt.raw_per_second:.4f} ({rebuilt.per_second:.0f} events/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
