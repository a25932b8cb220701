"""The composition root: builds the application, read store, projectors and adapters once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import redis
import structlog
from kombu.exceptions import KombuError
from psycopg.conninfo import make_conninfo
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from api.accepted import Written
from api.errors import ServiceUnavailable
from api.idempotency import MemoryStore, RedisStore
from api.idempotency import Store as IdempotencyStore
from api.logs import configure_logging
from api.proxies import TrustedProxies
from api.ratelimit import RateLimiter, parse_limits
from application.google import GoogleAuthClient
from application.mail import build_mailer
from application.marketplace import Marketplace
from application.media import LocalMediaStore
from application.passwords import Passwords
from application.ports import Clock, Email, GoogleIdentity, LoginThrottle, SystemClock
from application.sandbox import PROVIDERS, SandboxProvider, Signer
from application.services import compose
from application.throttle import (
    FallbackLoginThrottle,
    MemoryLoginThrottle,
    RedisLoginThrottle,
)
from application.tokens import Tokens
from application.vault import Vault
from application.webhooks import Webhooks
from projections.registry import PROJECTORS
from projections.runtime import (
    PgListener,
    PositionBoard,
    ProjectionRunner,
    ReadStore,
    Wakeup,
    run_all,
)
from wibestore.settings import Settings
from workers import tasks
from workers.celery_app import configure as configure_celery

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
        self.redis = (
            redis.Redis.from_url(  # short timeouts, one retry: Redis down answers within 1 s
                settings.redis_url,
                retry=Retry(ExponentialBackoff(cap=0.1), 1),
                health_check_interval=30,
                socket_timeout=settings.redis_timeout,
                socket_connect_timeout=settings.redis_timeout,
            )
            if settings.redis_url
            else None
        )
        self.celery = configure_celery(settings)
        self.rate_limiter = RateLimiter(
            parse_limits(settings.rate_limits), settings.redis_url, settings.redis_timeout
        )
        self.mailer = build_mailer(settings)
        self.media = LocalMediaStore(settings.media_dir)
        self.google: GoogleIdentity = google or GoogleAuthClient(
            settings.google_client_ids, settings.google_certs_url, settings.google_userinfo_url
        )
        limits = (
            settings.login_max_failures,
            settings.login_lock_seconds,
            settings.login_account_max_failures,
        )
        local_throttle = MemoryLoginThrottle(*limits)
        throttle: LoginThrottle = (
            FallbackLoginThrottle(RedisLoginThrottle(self.redis, *limits), local_throttle)
            if self.redis is not None
            else local_throttle
        )
        self.login_throttle = throttle
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.app = Marketplace(settings.event_store_env())
        self.services = compose(
            self.app,
            clock=self.clock,
            passwords=Passwords(fast=fast_passwords),
            tokens=Tokens(settings.jwt_secret, settings.access_minutes, settings.refresh_minutes),
            throttle=throttle,
            send_email=self._send_email,
            frontend_url=settings.frontend_url,
            vault=Vault(settings.credentials_key),
            media=self.media,
            request_thumbnail=self._request_thumbnail,
            delivery_window=timedelta(hours=settings.escrow_delivery_hours),
            confirmation_window=timedelta(hours=settings.escrow_auto_release_hours),
        )
        self.accounts = self.services.accounts
        self.catalogue = self.services.catalogue
        self.uploads = self.services.uploads
        self.listings = self.services.listings
        self.payments = self.services.payments
        self.subscriptions = self.services.subscriptions
        self.escrows = self.services.escrows
        self.tokens = self.accounts.tokens
        self.idempotency: IdempotencyStore = (
            RedisStore(self.redis) if self.redis is not None else MemoryStore()
        )
        signer = Signer(settings.payment_webhook_secret)
        self.payment_provider: SandboxProvider | None = (
            SandboxProvider(signer) if settings.payment_provider == "sandbox" else None
        )
        self.webhooks = Webhooks(
            self.payments, signer, providers=PROVIDERS if self.payment_provider is not None else ()
        )
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
            )
        ]
        self.app.saved_listeners.append(self.wakeup.ring)
        tasks.use_container(self)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: PgListener | None = None
        self._stalled: dict[str, int] | None = None  # positions when a wait last ran out

    # --- tasks: enqueued, or ServiceUnavailable (503) before anything is committed --------
    def _send_email(self, email: Email) -> None:
        with enqueueing():
            tasks.send_email.delay(email.to, email.subject, email.body)

    def send_webhook(self, provider: str, body: bytes, signature: str) -> None:
        with enqueueing():
            tasks.deliver_webhook.delay(provider, body.decode(), signature)

    @staticmethod
    def _request_thumbnail(name: str, thumbnail_name: str) -> None:
        with enqueueing():
            tasks.make_thumbnail.delay(name, thumbnail_name)

    def degraded(self) -> dict[str, str]:
        """What runs on per-process counters because Redis is unreachable (health)."""
        outages = [self.rate_limiter.outage]
        if isinstance(self.login_throttle, FallbackLoginThrottle):
            outages.append(self.login_throttle.outage)
        return {o.name: o.status for o in outages}

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
        if self.redis is not None:
            self.redis.close()

    def stop_projectors(self) -> None:
        """Stop this process's projector threads (what a crashed projector looks like)."""
        self._stop.set()
        self.wakeup.ring()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    # --- read-your-writes -----------------------------------------------------------------
    @contextmanager
    def read_your_writes(self, *, refusals_only: bool = False) -> Iterator[Written]:
        """Run a command, then wait (bounded) until every read model has its events.

        The yielded ``Written`` says afterwards whether they did: when they did not (a stopped
        or lagging projector), the command is committed all the same and its answer must come
        from what it saved, or be 202 Accepted (api/accepted.py), never from the read model.
        Once a wait has run out, commands do not wait again until a projector moves.
        ``refusals_only``: wait only when the command saved and then refused (a reused refresh
        token revokes its family), not when it succeeded with nothing the caller reads next.
        """
        written = Written()
        refused = False
        with self.app.tracking_position() as position:
            try:
                yield written
            except BaseException:
                refused = True
                raise
            finally:  # also when the command saved and then refused (a refresh token reused)
                reached = position()
                if reached is not None and (refused or not refusals_only):
                    written.caught_up = self._wait_for_read_models(reached)

    def _wait_for_read_models(self, reached: int) -> bool:
        # Projectors that have not moved since a wait last ran out are down, not slow: the
        # next commands do not wait for them again until they move.
        stalled = self._stalled is not None and self.board.snapshot() == self._stalled
        timeout = 0.0 if stalled else self.settings.read_your_writes_timeout
        if self.board.wait_for(reached, timeout):
            self._stalled = None
            return True
        self._stalled = self.board.snapshot()
        if not stalled:
            log.warning("read_your_writes.timeout", position=reached, positions=self._stalled)
        return False

    def projection_lag(self) -> dict[str, Any]:
        head = self.app.recorder.max_notification_id() or 0
        positions = self.store.positions()
        return {
            name: {
                "position": positions.get(name, 0),
                "head": head,
                "lag_events": max(head - positions.get(name, 0), 0),
                "failures": runner.failures,
            }
            for runner in self.runners
            for name in runner.names
        }


@contextmanager
def enqueueing() -> Iterator[None]:
    """A task the broker (Redis) cannot take: 503 with Retry-After, within about a second
    (workers/celery_app.py bounds the publish retries and socket timeouts)."""
    try:
        yield
    except (KombuError, redis.RedisError) as e:
        raise ServiceUnavailable("task queue", 5) from e


def build(settings: Settings | None = None, **kwargs: Any) -> Container:
    configure_logging()  # every process (API, projectors, workers, CLI) builds here
    return Container(settings or Settings.from_env(), **kwargs)
