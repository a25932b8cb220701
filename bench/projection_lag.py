"""Projection lag: from a command's commit until every read model has applied it.

One process, production storage (PostgreSQL events + read schema), in-process projectors
(``container.start()``). For each of N sequential ``update_profile`` commands:

- *commit*: the first ``saved_listener`` stamps the time; the Marketplace calls its listeners as
  soon as the recorder's transaction has committed, before ``save()`` returns;
- *saved*: ``update_profile`` (hence ``save()``) has returned;
- *projected*: ``PositionBoard.wait_for(position)`` returned, i.e. every projector's tracking
  row has reached the command's notification id (what read-your-writes waits for).

Lag = projected - commit (the DESIGN.md §6 figure), and projected - saved for reference. A
sample of commands is checked against the users read model afterwards (outside the timing).

    python -m bench.projection_lag [--commands 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from bench.common import bench_settings, fresh_schemas, header, percentile, stop_on_sigterm
from projections.users import user_row
from wibestore.container import Container, build

PASSWORD = "Qz7!mountain-Ledger"
TARGET_P99_MS = 20.0  # DESIGN.md §6: projection lag from commit to read model, p99 < 20 ms


@dataclass
class Lags:
    from_commit: list[float] = field(default_factory=list)
    from_saved: list[float] = field(default_factory=list)
    timeouts: int = 0
    checked: int = 0
    stale: int = 0


class CommitStamp:
    """A saved-listener that notes when the last save committed (first in the list)."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self, _position: int) -> None:
        self.at = time.perf_counter()


def measure(container: Container, users: list[UUID], commands: int, warmup: int) -> Lags:
    app, board = container.app, container.board
    stamp = CommitStamp()
    app.saved_listeners.insert(0, stamp)
    lags = Lags()
    for i in range(-warmup, commands):
        user_id = users[i % len(users)]
        name = f"Lag {i}"
        with app.tracking_position() as position:
            container.accounts.update_profile(user_id, {"full_name": name})
        saved = time.perf_counter()
        reached = position()
        if reached is None:
            raise RuntimeError("update_profile saved nothing")
        projected = board.wait_for(reached, 2.0)
        seen = time.perf_counter()
        if i < 0:
            continue
        if not projected:
            lags.timeouts += 1
            continue
        lags.from_commit.append(seen - stamp.at)
        lags.from_saved.append(seen - saved)
        if i % 25 == 0:  # the read model really has it (not timed)
            with container.store.engine.connect() as conn:
                row = user_row(conn, user_id)
            lags.checked += 1
            lags.stale += row is None or row.full_name != name
    return lags


def run(args: argparse.Namespace) -> Lags:
    with tempfile.TemporaryDirectory(prefix="bench-lag-") as tmp, fresh_schemas() as schemas:
        container = build(bench_settings(Path(tmp), schemas), fast_passwords=True)
        try:
            container.start()  # in-process projectors follow the event store
            names = [r.name for r in container.runners]
            with container.read_your_writes():
                users = [
                    container.accounts.register(
                        f"lag{i}@example.uz", PASSWORD, full_name=f"User {i}"
                    )
                    for i in range(args.users)
                ]
            print(
                f"projectors {', '.join(names)} running in-process; "
                f"{args.warmup} warm-up + {args.commands} sequential commands on {args.users} users"
            )
            return measure(container, users, args.commands, args.warmup)
        finally:
            container.close()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.projection_lag", description=__doc__)
    p.add_argument("--commands", type=int, default=500)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--users", type=int, default=50)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    header("projection lag: commit -> every read model (PositionBoard), PostgreSQL")
    lags = run(args)
    commit = [x * 1000 for x in lags.from_commit]
    saved = [x * 1000 for x in lags.from_saved]
    print(f"commands:         {len(commit)} measured, {lags.timeouts} timed out (> 2 s)")
    print(f"read model check: {lags.checked - lags.stale}/{lags.checked} sampled rows up to date")
    print(
        f"lag from commit:  p50 {percentile(commit, 50):.2f} ms  p99 {percentile(commit, 99):.2f}"
        f" ms  max {max(commit, default=float('nan')):.2f} ms"
    )
    print(
        f"lag from save():  p50 {percentile(saved, 50):.2f} ms  p99 {percentile(saved, 99):.2f}"
        f" ms  (after save() returned)"
    )
    p99 = percentile(commit, 99)
    print(f"target:           p99 < {TARGET_P99_MS:g} ms (DESIGN.md §6)")
    print(f"ratio target_p99 / measured_p99 = {TARGET_P99_MS / p99:.3f}")
    return 0 if lags.timeouts == 0 and lags.stale == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
