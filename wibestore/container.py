"""The composition root: settings -> adapters -> application -> projections, built once per
process. The API (api/app.py), the workers (workers/tasks.py) and the `wibestore` command
(wibestore/cli.py) all call ``build``; this is the one place that knows every layer, and it
imports neither entry point.

The container wires the parts and runs their lifecycle (migrate, start, close); what they do
is theirs: read-your-writes is projections/freshness.py's, projection lag sits by the runners.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import redis
import structlog
from psycopg.conninfo import make_conninfo
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from adapters.channels import RedisPublisher, Relay, wire_name
from adapters.google import GoogleAuthClient
from adapters.group_commit import wrap_recorder
from adapters.idempotency import MemoryRecords, RedisRecords
from adapters.images import PillowImages
from adapters.mail import ConsoleMailer, FileMailer, SmtpMailer
from adapters.media import LocalMediaStore
from adapters.passwords import Passwords
from adapters.presence import MemoryPresence, RedisPresence
from adapters.request_counts import RequestCounts
from adapters.sandbox import PROVIDERS, SandboxProvider, Signer
from adapters.sms import ConsoleSms, FileSms
from adapters.task_queue import CeleryTaskQueue, InProcessTaskQueue
from adapters.throttle import FallbackLoginThrottle, MemoryLoginThrottle, RedisLoginThrottle
from adapters.tokens import Tokens
from adapters.vault import Vault
from adapters.webhooks import Webhooks
from application.marketplace import Marketplace
from application.ports import (
    Clock,
    GoogleIdentity,
    IdempotencyRecords,
    LoginThrottle,
    Mailer,
    Presence,
    SmsSender,
    SystemClock,
)
from application.services import compose
from projections.freshness import ReadYourWrites
from projections.registry import PROJECTORS
from projections.runtime import (
    PgListener,
    PositionBoard,
    ProjectionRunner,
    ReadStore,
    Wakeup,
    projection_lag,
    run_all,
)
from wibestore.jobs import JOBS, Work, in_process
from wibestore.logs import configure_logging
from wibestore.settings import Settings

log = structlog.get_logger(__name__)


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        google: GoogleIdentity | None = None,
        fast_passwords: bool = False,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        # --- adapters ---------------------------------------------------------------------
        self.redis = connect_redis(settings)
        self.task_queue = task_queue(settings)
        self.request_counts = RequestCounts(
            settings.redis_url, settings.redis_timeout, settings.redis_key_prefix
        )
        self.mailer = build_mailer(settings)
        self.media = LocalMediaStore(settings.media_dir)
        self.google: GoogleIdentity = google or GoogleAuthClient(
            settings.google_client_ids, settings.google_certs_url, settings.google_userinfo_url
        )
        self.login_throttle = login_throttle(settings, self.redis)
        self.idempotency: IdempotencyRecords = (
            RedisRecords(self.redis, settings.redis_key_prefix)
            if self.redis is not None
            else MemoryRecords()
        )
        # realtime: who watches which chat room, and where projectors publish (adapters/)
        self.presence: Presence = (
            RedisPresence(self.redis, settings.redis_key_prefix)
            if self.redis is not None
            else MemoryPresence()
        )
        self.publisher: RedisPublisher | Relay = (
            RedisPublisher(self.redis, settings.redis_key_prefix)
            if self.redis is not None
            else Relay(settings.redis_key_prefix)
        )
        signer = Signer(settings.payment_webhook_secret)
        self.payment_provider: SandboxProvider | None = (
            SandboxProvider(signer) if settings.payment_provider == "sandbox" else None
        )
        # --- application ------------------------------------------------------------------
        self.app = Marketplace(settings.event_store_env(), wrap_recorder=wrap_recorder)
        self.services = compose(
            self.app,
            clock=self.clock,
            passwords=Passwords(fast=fast_passwords),
            tokens=Tokens(settings.jwt_secret, settings.access_minutes, settings.refresh_minutes),
            throttle=self.login_throttle,
            tasks=self.task_queue,
            frontend_url=settings.frontend_url,
            vault=Vault(settings.credentials_key),
            media=self.media,
            images=PillowImages(),
            delivery_window=timedelta(hours=settings.escrow_delivery_hours),
            confirmation_window=timedelta(hours=settings.escrow_auto_release_hours),
            sms=build_sms(settings),
            code_digest_key=settings.jwt_secret,
            telegram_bot_secret=settings.telegram_bot_secret,
            telegram_code_lifetime=timedelta(minutes=settings.telegram_code_minutes),
            sms_code_lifetime=timedelta(minutes=settings.sms_code_minutes),
            presence=self.presence,
        )
        self.accounts = self.services.accounts
        self.phone_codes = self.services.phone_codes
        self.saved_searches = self.services.saved_searches
        self.fraud = self.services.fraud
        self.catalogue = self.services.catalogue
        self.uploads = self.services.uploads
        self.listings = self.services.listings
        self.payments = self.services.payments
        self.subscriptions = self.services.subscriptions
        self.escrows = self.services.escrows
        self.reports = self.services.reports
        self.reviews = self.services.reviews
        self.chats = self.services.chats
        self.tokens = self.accounts.tokens
        self.webhooks = Webhooks(
            self.payments, signer, providers=PROVIDERS if self.payment_provider is not None else ()
        )
        self.work = Work(self.mailer, self.uploads, self.webhooks)
        if isinstance(self.task_queue, InProcessTaskQueue):
            self.task_queue.serve(self.work.handlers())
        # --- projections ------------------------------------------------------------------
        self.store = ReadStore(
            settings.read_model_url(),
            settings.read_schema,
            pool_size=settings.read_pool_size,
            max_overflow=settings.read_max_overflow,
        )
        self.board = PositionBoard()
        self.wakeup = Wakeup()
        self.runners = [
            ProjectionRunner(
                [p() for p in PROJECTORS],
                self.app.recorder,
                self.app.mapper,
                self.store,
                self.board,
                batch_size=settings.projection_batch_size,
                publish=self.publisher,
            )
        ]
        self.app.saved_listeners.append(self.wakeup.ring)
        # ``with container.read_your_writes() as written:`` around a command
        self.read_your_writes = ReadYourWrites(
            self.app.tracking_position, self.board, settings.read_your_writes_timeout
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: PgListener | None = None

    def degraded(self) -> dict[str, str]:
        """What runs on per-process counters because Redis is unreachable (health)."""
        outages = [self.request_counts.outage]
        if isinstance(self.login_throttle, FallbackLoginThrottle):
            outages.append(self.login_throttle.outage)
        if isinstance(self.presence, RedisPresence):
            outages.append(self.presence.outage)
        if isinstance(self.publisher, RedisPublisher):
            outages.append(self.publisher.outage)
        return {o.name: o.status for o in outages}

    def channel(self, name: str) -> str:
        """A realtime channel's name on the wire (``room:<id>`` -> ``<prefix>ws:room:<id>``)."""
        return wire_name(self.settings.redis_key_prefix, name)

    def projection_lag(self) -> dict[str, Any]:
        return projection_lag(self.runners, self.store)

    # --- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create the read-model schema and (re)build read models whose version changed."""
        self.store.create_schema()
        for runner in self.runners:
            runner.ensure_schema()

    def start(self, *, projectors: bool | None = None) -> None:
        if self.settings.sandbox_payments_in_production:
            log.warning(
                "payments.sandbox_in_production",
                detail="ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION is set: the sandbox checkout "
                "credits deposits without a payment; this deployment's money is not real",
            )
        self.migrate()
        if self.store.is_postgres:
            self._listener = PgListener(
                self._conninfo(),
                {
                    self.app.recorder.channel_name: self.wakeup.ring,  # type: ignore[attr-defined]
                    self.store.positions_channel: self._position_notified,
                },
            )
            self._listener.start()
        run = self.settings.run_projectors if projectors is None else projectors
        if run:
            for runner in self.runners:
                runner.catch_up()
            self._threads = run_all(self.runners, self.wakeup, self._stop)

    def _position_notified(self, payload: str) -> None:
        if not payload:  # (re)connected: take the positions as they stand
            for name, position in self.store.positions().items():
                self.board.advance([name], position)
            return
        names, _, reached = payload.rpartition(":")  # "users,games,listings,money:1234"
        self.board.advance(names.split(","), int(reached))

    def _conninfo(self) -> str:
        env = self.settings.event_store_env()
        return make_conninfo(  # quotes what needs quoting (a password with spaces, say)
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
        )

    def close(self) -> None:
        self._stop.set()
        self.wakeup.ring()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        self.app.close()
        self.store.dispose()
        self.task_queue.close()
        if self.redis is not None:
            self.redis.close()

    def stop_projectors(self) -> None:
        """Stop this process's projector threads (what a crashed projector looks like)."""
        self._stop.set()
        self.wakeup.ring()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []


def connect_redis(settings: Settings) -> redis.Redis | None:
    if not settings.redis_url:
        return None
    return redis.Redis.from_url(  # short timeouts, one retry: Redis down answers within 1 s
        settings.redis_url,
        retry=Retry(ExponentialBackoff(cap=0.1), 1),
        health_check_interval=30,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )


def task_queue(settings: Settings) -> CeleryTaskQueue | InProcessTaskQueue:
    """Celery on the Redis broker; this process when there is none or CELERY_EAGER says so."""
    if in_process(settings) or settings.redis_url is None:
        return InProcessTaskQueue(JOBS)
    return CeleryTaskQueue(
        JOBS, settings.redis_url, settings.redis_timeout, settings.redis_key_prefix
    )


def login_throttle(settings: Settings, client: redis.Redis | None) -> LoginThrottle:
    """Counted in Redis (every API process) while it answers, else in this process."""
    limits = (
        settings.login_max_failures,
        settings.login_lock_seconds,
        settings.login_account_max_failures,
    )
    local = MemoryLoginThrottle(*limits)
    if client is None:
        return local
    shared = RedisLoginThrottle(client, *limits, key_prefix=settings.redis_key_prefix)
    return FallbackLoginThrottle(shared, local)


def build_sms(settings: Settings) -> SmsSender:
    if settings.sms_sender == "file":
        return FileSms(settings.sms_dir or settings.data_dir / "sms")
    return ConsoleSms(show_text=not settings.is_production)


def build_mailer(settings: Settings) -> Mailer:
    if settings.mailer == "smtp" and settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.mailer == "file":
        return FileMailer(settings.mail_dir or settings.data_dir / "mail", settings.mail_from)
    return ConsoleMailer(settings.mail_from, show_body=not settings.is_production)


def build(settings: Settings | None = None, **kwargs: Any) -> Container:
    """The container of this process; settings from the environment unless given."""
    configure_logging()  # every process (API, projectors, workers, CLI) builds here
    return Container(settings or Settings.from_env(), **kwargs)
