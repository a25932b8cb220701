"""Audit replay rate against a raw scan of the event table, on PostgreSQL, in one run.

Set-up: a marketplace's worth of money events made through the Marketplace's own commands
(8 threads, group commit): per trade a deposit, a listing approved, a purchase, a delivery and
a confirmation (or a dispute refunded); the read models catch up. Then, each timed:

- baseline: ``SELECT * FROM <events> ORDER BY notification_id`` through psycopg, every row
  fetched (the rows the audit has to look at, at the speed the database hands them over);
- ``run_audit``: the whole log replayed from position 0 through the Ledger, invariants checked,
  read models compared.

Printed last: audit events/s / raw scan rows/s (target >= 0.5).

    python -m bench.audit [--trades 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from application.actor import Actor
from bench.common import DATABASE_URL, bench_settings, checkpoint, fresh_schemas, header
from projections.audit import run_audit
from wibestore.container import build
from wibestore.seed import seed_games

PASSWORD = "Qz7!mountain-Ledger"
UZS = 100


def trade_all(container: Any, trades: int) -> None:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@bench.uz", PASSWORD, staff=True
    )
    pairs = [
        (
            container.accounts.register(f"s{i}@bench.uz", PASSWORD),
            container.accounts.register(f"b{i}@bench.uz", PASSWORD),
        )
        for i in range(16)
    ]

    def trade(n: int) -> None:
        seller, buyer = pairs[n % len(pairs)]
        container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 50_000 * UZS)
        listing = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": f"T{n}", "description": "D", "price": 40_000 * UZS},
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        escrow = container.escrows.purchase(Actor.user(buyer), listing)
        if n % 4 == 3:
            container.escrows.dispute(Actor.user(buyer), escrow.id, "wrong")
            container.escrows.resolve_dispute(Actor.user(staff), escrow.id, "refund", "refund")
        else:
            container.escrows.deliver(
                Actor.user(seller), escrow.id, {"account_email": "a@b.uz", "account_password": "p"}
            )
            container.escrows.confirm_purchase(Actor.user(buyer), escrow.id)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(trade, range(trades)))


def raw_scan(schema: str, table: str) -> tuple[int, float]:
    began = time.perf_counter()
    rows = 0
    with psycopg.connect(DATABASE_URL) as conn, conn.cursor(name="scan") as cur:
        cur.itersize = 5000
        cur.execute(
            sql.SQL("SELECT * FROM {}.{} ORDER BY notification_id").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        for _ in cur:
            rows += 1
    return rows, time.perf_counter() - began


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    p.add_argument("--trades", type=int, default=3000)
    args = p.parse_args(argv)
    header("audit replay vs raw scan of the event table")
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp, fresh_schemas() as schemas:
        settings = bench_settings(Path(tmp), schemas)
        container = build(settings, fast_passwords=True)
        container.start(projectors=False)
        try:
            began = time.perf_counter()
            trade_all(container, args.trades)
            head = container.app.recorder.max_notification_id() or 0
            print(f"{args.trades} trades, {head} events in {time.perf_counter() - began:.1f} s")
            container.runners[0].catch_up()
            checkpoint()
            table = container.app.recorder.events_table_name  # type: ignore[attr-defined]
            raw_scan(schemas.events, table)  # warm the cache for both contenders
            rows, scan_seconds = raw_scan(schemas.events, table)
            audit = run_audit(container.app.recorder, container.app.mapper, container.store)
        finally:
            container.close()
    scan_rate = rows / scan_seconds
    print(f"raw scan:  {rows} rows in {scan_seconds:.3f} s -> {scan_rate:,.0f} rows/s")
    print(
        f"audit:     {audit.scanned} events ({audit.ledger.events} money events replayed) in "
        f"{audit.seconds:.3f} s -> {audit.rate:,.0f} events/s, {'PASS' if audit.ok else 'FAIL'}"
    )
    print(f"ratio audit events/s / raw scan rows/s = {audit.rate / scan_rate:.3f}")
    return 0 if audit.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
