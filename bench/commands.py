"""Command throughput: concurrent profile updates through the Marketplace on PostgreSQL.

T threads each update the profiles of their own users (no two threads touch one aggregate, so
there are no optimistic-concurrency conflicts) for a fixed time; every command loads a User and
saves one ``ProfileUpdated`` event in its own transaction. The container is shaped like a
production API worker: PostgreSQL event store, LISTEN connection, no in-process projectors.

Baseline, same server, same run: ``pgbench -i -s 10`` then ``pgbench -c 8 -j 2 -T 10 -n``
(TPC-B, five statements per transaction) in a database of its own.

    python -m bench.commands [--threads 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from application.accounts import Accounts
from bench.common import (
    Pgbench,
    add_pgbench_options,
    bench_settings,
    checkpoint,
    fresh_schemas,
    header,
    percentile,
    stop_on_sigterm,
)
from wibestore.container import build

PASSWORD = "Qz7!mountain-Ledger"


@dataclass
class Tally:
    """One thread's commands that completed inside the measured window."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Throughput:
    threads: int
    users: int
    seconds: float
    commands: int
    errors: dict[str, int]
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.commands / self.seconds


def register_users(accounts: Accounts, count: int, threads: int) -> list[UUID]:
    def one(i: int) -> UUID:
        return accounts.register(f"bench{i}@example.uz", PASSWORD, full_name=f"Bench User {i}")

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def update_profiles(
    accounts: Accounts, users: Sequence[UUID], window: tuple[float, float], tally: Tally
) -> None:
    """Update the given users round-robin until the window closes; tally what ends inside it."""
    start, end = window
    i = 0
    while (began := time.perf_counter()) < end:
        user_id = users[i % len(users)]
        error: str | None = None
        try:
            accounts.update_profile(user_id, {"full_name": f"Bench {user_id.hex[:6]} {i}"})
        except Exception as e:
            error = type(e).__name__
        done = time.perf_counter()
        if start <= done < end:
            if error is None:
                tally.latencies.append(done - began)
            else:
                tally.errors[error] = tally.errors.get(error, 0) + 1
        i += 1


def measure(
    accounts: Accounts, users: list[UUID], threads: int, seconds: float, warmup: float
) -> Throughput:
    tallies = [Tally() for _ in range(threads)]
    start = time.perf_counter() + warmup
    window = (start, start + seconds)
    workers = [
        threading.Thread(
            target=update_profiles,
            args=(accounts, users[t::threads], window, tallies[t]),
            name=f"bench-commands-{t}",
            daemon=True,
        )
        for t in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=warmup + seconds + 30)
    errors: dict[str, int] = {}
    for t in tallies:
        for name, n in t.errors.items():
            errors[name] = errors.get(name, 0) + n
    latencies = [lat for t in tallies for lat in t.latencies]
    return Throughput(threads, len(users), seconds, len(latencies), errors, latencies)


def run_commands(args: argparse.Namespace) -> Throughput:
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp, fresh_schemas() as schemas:
        settings = bench_settings(
            Path(tmp),
            schemas,
            postgres_pool_size=args.threads + 2,
            postgres_max_overflow=args.threads,
        )
        container = build(settings, fast_passwords=True)
        try:
            container.start(projectors=False)
            count = args.threads * args.users_per_thread
            began = time.perf_counter()
            users = register_users(container.accounts, count, args.threads)
            print(f"registered {count} users in {time.perf_counter() - began:.1f} s")
            checkpoint()
            print(
                f"measuring: {args.threads} threads x {args.users_per_thread} users each, "
                f"{args.warmup:g} s warm-up + {args.seconds:g} s"
            )
            return measure(container.accounts, users, args.threads, args.seconds, args.warmup)
        finally:
            container.close()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.commands", description=__doc__)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--users-per-thread", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=1.0)
    add_pgbench_options(p)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    header("commands/s: Marketplace.update_profile on PostgreSQL vs pgbench TPC-B")
    pgbench = Pgbench(scale=args.pgbench_scale)
    try:
        print(f"pgbench -i -s {args.pgbench_scale} into {pgbench.dbname}")
        pgbench.initialise()
        result = run_commands(args)
        checkpoint()
        print(
            f"pgbench -c {args.pgbench_clients} -j {args.pgbench_jobs} -T {args.pgbench_seconds} -n"
        )
        baseline = pgbench.run(args.pgbench_clients, args.pgbench_jobs, args.pgbench_seconds)
    finally:
        pgbench.drop()

    lat = [x * 1000 for x in result.latencies]
    print(f"threads:          {result.threads} (users: {result.users}, one event per command)")
    print(f"commands:         {result.commands} in {result.seconds:g} s")
    print(f"errors:           {sum(result.errors.values())} {result.errors or ''}".rstrip())
    print(f"commands/s:       {result.per_second:.1f}")
    print(
        f"latency:          p50 {percentile(lat, 50):.2f} ms  p99 {percentile(lat, 99):.2f} ms"
        f"  max {max(lat, default=float('nan')):.2f} ms"
    )
    print(
        f"pgbench tps:      {baseline.tps:.1f} (TPC-B, {baseline.clients} clients, "
        f"{baseline.threads} threads, {baseline.seconds} s, "
        f"avg latency {baseline.latency_ms:.2f} ms)"
    )
    print(f"ratio commands/s / pgbench tps = {result.per_second / baseline.tps:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
