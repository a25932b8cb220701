"""The ``wibestore`` command: serve, migrate, seed, project, audit, user create, telegram-code."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import psycopg

from application.actor import Actor
from domain.errors import DomainError
from projections.audit import run_audit
from projections.runtime import ProjectionRunner, run_all
from wibestore import heap
from wibestore.container import build
from wibestore.seed import GAMES, seed_games, seed_users
from wibestore.settings import Settings


def migrate(args: argparse.Namespace) -> int:
    container = build(args.settings)
    try:
        container.migrate()
        print("event store and read models ready")
    finally:
        container.close()
    return 0


def seed(args: argparse.Namespace) -> int:
    """Demo data for the embedded default: the games catalogue and two users (idempotent).

    Refused in production: the demo staff account's password is published (it is printed here
    and in the README) and the demo user's balance is money nobody paid."""
    settings: Settings = args.settings
    if settings.is_production:
        print(
            "error: `wibestore seed` creates demo accounts with published passwords and is "
            "refused in production; use `wibestore seed-catalogue` for the games and categories "
            "and `wibestore user create --staff` for staff",
            file=sys.stderr,
        )
        return 2
    container = build(settings)
    try:
        container.start()
        with container.read_your_writes():
            added = seed_games(container.catalogue)
            accounts = seed_users(container.services)
        print(f"games: {added} added, {len(GAMES)} in the catalogue")
        for email, password, staff in accounts:
            print(f"{'staff' if staff else 'user '}  {email}  password: {password}")
    finally:
        container.close()
    return 0


def seed_catalogue(args: argparse.Namespace) -> int:
    """The games catalogue and its categories, and nothing else (idempotent; production too)."""
    container = build(args.settings)
    try:
        container.start()
        with container.read_your_writes():
            added = seed_games(container.catalogue)
        print(f"games: {added} added, {len(GAMES)} in the catalogue")
    finally:
        container.close()
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings: Settings = args.settings
    uvicorn.run(
        "api.app:create_app",  # each worker process builds its own container
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.web_concurrency,
        log_level="info",
        proxy_headers=True,
        # uvicorn trusts 127.0.0.1 by default: a local client could then spoof its address.
        forwarded_allow_ips=list(settings.trusted_proxies),
    )
    return 0


def wait_for_database(settings: Settings, stop: threading.Event) -> bool:
    """Wait until PostgreSQL answers (a restart of the server and the projector together),
    instead of exiting; False if told to stop first."""
    if settings.database_url is None:
        return True
    delay = 0.5
    while True:
        try:
            psycopg.connect(settings.database_url, connect_timeout=2).close()
            return True
        except psycopg.Error as e:
            first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
            print(f"database unreachable ({first_line}); retrying in {delay:g} s", file=sys.stderr)
        if stop.wait(delay):
            return False
        delay = min(delay * 2, 5.0)


def project(args: argparse.Namespace) -> int:
    """Run the projectors as their own process (production), or rebuild read models."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not wait_for_database(args.settings, stop):
        return 0
    container = build(args.settings)
    try:
        container.migrate()
        runner = container.runners[0]
        unknown = set(args.only) - set(runner.names)
        if unknown:
            print(
                f"error: unknown projection {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(runner.names)}",
                file=sys.stderr,
            )
            return 2
        if args.rebuild:
            runner.rebuild_schema(args.only or None)
            print(f"{', '.join(args.only or runner.names)}: rebuilt {runner.catch_up()} events")
            return 0
        if args.only:
            runner = ProjectionRunner(
                [p for p in runner.projectors if p.name in args.only],
                runner.recorder,
                runner.mapper,
                runner.store,
                container.board,
                runner.batch_size,
            )
        container.start(projectors=False)
        threads = run_all([runner], container.wakeup, stop)
        heap.settle()
        print(f"projecting {', '.join(runner.names)}", flush=True)
        stop.wait()
        container.wakeup.ring()
        for thread in threads:
            thread.join(timeout=5)
    finally:
        container.close()
    return 0


def audit(args: argparse.Namespace) -> int:
    """Replay the ledger from position 0; exit 0 only when every invariant holds and the read
    models agree with the replay."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    container = build(args.settings)
    try:
        container.migrate()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=args.quiet,
            transient=False,
        ) as bar:
            task = bar.add_task("replaying the event log", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            production = (
                container.settings.production_ledger
                if args.production_ledger is None
                else args.production_ledger
            )
            result = run_audit(
                container.app.recorder,
                container.app.mapper,
                container.store,
                progress,
                production=production,
            )
        out = Path(args.out)
        result.write(out)
        print(result.summary(), end="")
        print(
            f"wrote {out / 'audit-report.json'}, {out / 'audit-summary.txt'}, "
            f"{out / 'escrow-ledger.csv'}"
        )
    finally:
        container.close()
    return 0 if result.ok else 1


def user_create(args: argparse.Namespace) -> int:
    container = build(args.settings)
    try:
        container.start()
        with container.read_your_writes():
            user_id = container.accounts.create_user(
                Actor.platform("operator"), args.email, args.password, staff=args.staff
            )
    except DomainError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(user_id)
    return 0


def telegram_code(args: argparse.Namespace) -> int:
    """Stand in for the Telegram bot (CONTRACT A13): a sign-in code for a phone, so that the
    website's Telegram login can be tried without a bot. It uses the bot's secret, so it works
    wherever the bot would."""
    container = build(args.settings)
    try:
        container.start()
        issued = container.phone_codes.issue_telegram_code(
            container.settings.telegram_bot_secret, args.telegram_id, args.phone, args.name
        )
    except DomainError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(f"{issued.code}  (valid until {issued.expires_at:%H:%M:%S} UTC)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wibestore", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the API with uvicorn")
    s.add_argument("--host", help="default: HOST (127.0.0.1)")
    s.add_argument("--port", type=int, help="default: PORT (8000)")
    s.add_argument("--workers", type=int, help="default: WEB_CONCURRENCY (1)")
    s.set_defaults(func=serve)
    sub.add_parser("migrate", help="create the event store and read-model schema").set_defaults(
        func=migrate
    )
    sub.add_parser(
        "seed", help="create the demo users and the catalogue (refused in production)"
    ).set_defaults(func=seed)
    sub.add_parser(
        "seed-catalogue", help="create the games catalogue and its categories"
    ).set_defaults(func=seed_catalogue)
    pr = sub.add_parser("project", help="run projectors (or --rebuild read models)")
    pr.add_argument("--rebuild", action="store_true")
    pr.add_argument("only", nargs="*", help="projector names (default: all)")
    pr.set_defaults(func=project)
    a = sub.add_parser("audit", help="replay the ledger and check its invariants")
    a.add_argument("--out", default=".", help="directory for the report files")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.add_argument(
        "--production-ledger",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail on sandbox- or demo-credited deposits (default: PRODUCTION_LEDGER)",
    )
    a.set_defaults(func=audit)
    u = sub.add_parser("user", help="manage users")
    usub = u.add_subparsers(dest="user_command", required=True)
    c = usub.add_parser("create")
    c.add_argument("--email", required=True)
    c.add_argument("--password", required=True)
    c.add_argument("--staff", action="store_true")
    c.set_defaults(func=user_create)
    t = sub.add_parser("telegram-code", help="a Telegram sign-in code, as the bot would get")
    t.add_argument("--phone", required=True, help="e.g. +998901234567")
    t.add_argument("--telegram-id", type=int, required=True)
    t.add_argument("--name", default="", help="the full name a new user gets")
    t.set_defaults(func=telegram_code)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.settings = Settings.from_env()  # once; bad configuration fails here, clearly
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
