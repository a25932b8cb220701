"""The purchase flow through HTTP on PostgreSQL, against pgbench TPC-B in the same run.

Production shape (bench/common.start_production_api): uvicorn --workers 2 and a projector
process on PostgreSQL + Redis. Set-up, not measured: sellers, buyers and one approved listing
per flow are made through the Marketplace in this process; their tokens are minted with the
deployment's secret. Then C concurrent asyncio clients each run whole flows for a
fixed window over one keep-alive HTTP/1.1 connection each (bench/load.py KeepAlive: httpx
cost ~1 ms of client CPU per request on the same 2 cores), every step an HTTP command that
waits for its read models:

    deposit -> sandbox checkout confirm (signed webhook, Deposit + Wallet) -> purchase
    (Listing + hold + Escrow + ChatRoom) -> deliver (seller) -> confirm (Escrow + 3 wallets +
    Listing)

Reported: completed flows/s, commands/s (5 per flow), latency per step; pgbench tps; the
ratio commands/s / pgbench tps (target >= 0.5). Then the audit replays the log.

    python -m bench.purchases [--clients 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from application.actor import Actor
from bench.common import (
    CpuMeter,
    Pgbench,
    add_pgbench_options,
    bench_settings,
    checkpoint,
    children,
    fresh_schemas,
    header,
    percentile,
    start_production_api,
    stop_on_sigterm,
)
from bench.load import KeepAlive
from projections.audit import run_audit
from wibestore.container import build
from wibestore.seed import seed_games

PASSWORD = "Qz7!mountain-Ledger"
PRICE = "100000"
STEPS = ("deposit", "checkout", "purchase", "deliver", "confirm")


@dataclass
class Tally:
    flows: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    errors: dict[str, int] = field(default_factory=dict)


async def flow(
    http: KeepAlive, buyer: dict[str, str], seller: dict[str, str], listing: str, t: Tally
) -> None:
    async def step(
        name: str, method: str, url: str, headers: dict[str, str], json: Any = None
    ) -> Any:
        began = time.perf_counter()
        status, body = await http.request(method, url, headers, json)
        t.latencies[name].append(time.perf_counter() - began)
        if status >= 300:
            raise RuntimeError(f"{name}: {status} {str(body)[:200]}")
        return body

    dep = await step(
        "deposit",
        "POST",
        "/api/v1/payments/deposit/",
        buyer,
        json={"amount": PRICE, "payment_method": "visa"},
    )
    url = urlsplit(dep["data"]["checkout_url"])
    await step("checkout", "POST", f"{url.path}?{url.query}", {}, json={"action": "confirm"})
    escrow = await step(
        "purchase", "POST", "/api/v1/payments/purchase/", buyer, json={"listing_id": listing}
    )
    escrow_id = escrow["data"]["id"]
    await step("deliver", "POST", f"/api/v1/payments/escrow/{escrow_id}/deliver/", seller)
    await step("confirm", "POST", f"/api/v1/payments/escrow/{escrow_id}/confirm/", buyer)


async def client_loop(
    base: str,
    buyer: dict[str, str],
    seller: dict[str, str],
    listings: list[str],
    window: tuple[float, float],
    tally: Tally,
) -> None:
    start, end = window
    http = KeepAlive(base)
    try:
        while listings and time.perf_counter() < end:
            listing = listings.pop()
            try:
                await flow(http, buyer, seller, listing, tally)
            except Exception as e:
                key = str(e).split(":", 1)[0] if isinstance(e, RuntimeError) else type(e).__name__
                tally.errors[key] = tally.errors.get(key, 0) + 1
                continue
            if start <= time.perf_counter() < end:
                tally.flows += 1
    finally:
        http.close()


def setup(container: Any, clients: int, per_client: int) -> list[tuple[Any, Any, list[str]]]:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@bench.uz", PASSWORD, staff=True
    )

    def client(i: int) -> tuple[Any, Any, list[str]]:
        seller = container.accounts.register(f"seller{i}@bench.uz", PASSWORD)
        buyer = container.accounts.register(f"buyer{i}@bench.uz", PASSWORD)
        listings = []
        for n in range(per_client):
            listing = container.listings.create_listing(
                Actor.user(seller),
                "pubg-mobile",
                {"title": f"Account {i}-{n}", "description": "Bench", "price": int(PRICE) * 100},
                credentials={"account_email": "a@b.uz", "account_password": "p"},
            )
            container.listings.approve_listing(Actor.user(staff), listing)
            listings.append(str(listing))
        now = container.clock.now()
        auth = container.tokens.access
        return (
            {"Authorization": f"Bearer {auth(buyer, now)}"},
            {"Authorization": f"Bearer {auth(seller, now)}"},
            listings,
        )

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(client, range(clients)))


def run(args: argparse.Namespace) -> tuple[list[Tally], float, Any, CpuMeter]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-purchases-") as tmp,
        fresh_schemas() as schemas,
        children() as started,
    ):
        settings = bench_settings(Path(tmp), schemas)
        container = build(settings, fast_passwords=True)
        container.start(projectors=False)
        try:
            per_client = int(args.seconds * 40) + 20
            began = time.perf_counter()
            actors = setup(container, args.clients, per_client)
            print(
                f"set up {args.clients} buyer/seller pairs with {per_client} listings each "
                f"in {time.perf_counter() - began:.1f} s"
            )
            log = (Path(tmp) / "servers.log").open("wb")
            base = start_production_api(settings, 2, log, started)
            # the projector process catches up with the set-up before the clock starts
            deadline = time.monotonic() + 120
            head = container.app.recorder.max_notification_id() or 0
            while min(container.store.positions().values()) < head:
                assert time.monotonic() < deadline, "projector did not catch up"
                time.sleep(0.2)
            checkpoint()
            tallies = [Tally() for _ in actors]
            start = time.perf_counter() + args.warmup
            window = (start, start + args.seconds)

            procs = {child.name: child.proc.pid for child in started}
            meter = CpuMeter(api_pid=procs["api"], projector_pid=procs["projector"])

            async def measure() -> None:
                await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
                meter.start()
                await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
                meter.stop()

            async def everyone() -> None:
                await asyncio.gather(
                    measure(),
                    *(
                        client_loop(base, b, s, ls, window, t)
                        for (b, s, ls), t in zip(actors, tallies)
                    ),
                )

            print(
                f"measuring: {args.clients} clients, {args.warmup:g} s warm-up + {args.seconds:g} s"
            )
            asyncio.run(everyone())
            for child in started:
                child.stop()
            head = container.app.recorder.max_notification_id() or 0
            container.start()  # projectors in this process for the audit's comparison
            container.board.wait_for(head, 60)
            audit = run_audit(container.app.recorder, container.app.mapper, container.store)
            return tallies, args.seconds, audit, meter
        finally:
            container.close()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.purchases", description=__doc__)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--warmup", type=float, default=2.0)
    add_pgbench_options(p)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    header("purchase flow over HTTP (production shape) vs pgbench TPC-B")
    pgbench = Pgbench(scale=args.pgbench_scale)
    try:
        pgbench.initialise()
        tallies, seconds, audit, meter = run(args)
        checkpoint()
        baseline = pgbench.run(args.pgbench_clients, args.pgbench_jobs, args.pgbench_seconds)
    finally:
        pgbench.drop()
    flows = sum(t.flows for t in tallies)
    errors: dict[str, int] = {}
    for t in tallies:
        for k, n in t.errors.items():
            errors[k] = errors.get(k, 0) + n
    commands = flows * len(STEPS)
    print(f"completed purchases: {flows} in {seconds:g} s -> {flows / seconds:.1f} purchases/s")
    print(f"commands:            {commands} -> {commands / seconds:.1f} commands/s")
    print(f"errors:              {sum(errors.values())} {errors or ''}".rstrip())
    for step in STEPS:
        lat = [x * 1000 for t in tallies for x in t.latencies[step]]
        print(f"  {step:9s} p50 {percentile(lat, 50):6.1f} ms  p99 {percentile(lat, 99):6.1f} ms")
    print(meter.report(commands))
    print(f"audit: {'PASS' if audit.ok else 'FAIL'} ({audit.ledger.events} money events)")
    print(
        f"pgbench tps:         {baseline.tps:.1f} (TPC-B, {baseline.clients} clients, "
        f"{baseline.threads} threads, {baseline.seconds} s)"
    )
    print(f"ratio purchases/s / pgbench tps = {flows / seconds / baseline.tps:.3f}")
    print(f"ratio commands/s / pgbench tps = {commands / seconds / baseline.tps:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
