"""Tasks: each one hands its work to the application or an adapter (no business logic).

A worker builds its composition root from the environment the first time a task needs it
(``runtime``). The jobs the API enqueues are registered under the names and with the retries of
wibestore/jobs.py, and do what its ``Work`` does; the API process, in the embedded default,
runs the same ``Work`` itself (adapters/task_queue.py).
"""

from __future__ import annotations

import threading
from datetime import timedelta

from application.actor import Actor
from domain.errors import DomainError
from domain.subscription import EXPIRY_NOTICE
from projections.escrows import due_escrows
from projections.listings.queries import stale_active_ids
from projections.notifications import prune_read
from projections.subscriptions import due_members, ending_members
from wibestore.container import Container, build
from wibestore.jobs import JOBS
from workers.celery_app import celery

ARCHIVE_AFTER = timedelta(days=180)
READ_NOTIFICATIONS_KEPT = timedelta(days=90)
ESCROW_TIMER = Actor.platform("escrow-timer")
RENEWALS = Actor.platform("subscription-renewals")
_container: Container | None = None
_lock = threading.Lock()


def use_container(container: Container) -> None:
    """Run this process's tasks on ``container`` (a test, or a process that embeds a worker)."""
    global _container
    _container = container


def runtime() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = build()
        return _container


@celery.task(
    name=JOBS.send_email.name,
    autoretry_for=JOBS.send_email.retry_for,
    retry_backoff=True,
    max_retries=JOBS.send_email.max_retries,
)
def send_email(to: str, subject: str, body: str) -> None:
    runtime().work.send_email(to, subject, body)


@celery.task(
    name=JOBS.make_thumbnail.name,
    autoretry_for=JOBS.make_thumbnail.retry_for,
    retry_backoff=True,
    max_retries=JOBS.make_thumbnail.max_retries,
)
def make_thumbnail(name: str, thumbnail_name: str) -> str:
    return runtime().work.make_thumbnail(name, thumbnail_name)


@celery.task(
    name=JOBS.deliver_webhook.name,
    autoretry_for=JOBS.deliver_webhook.retry_for,
    retry_backoff=True,
    max_retries=JOBS.deliver_webhook.max_retries,
)
def deliver_webhook(provider: str, body: str, signature: str) -> int:
    return runtime().work.deliver_webhook(provider, body, signature)


@celery.task(name="wibestore.archive_stale_listings")
def archive_stale_listings() -> int:
    """Active listings unsold 180 days after creation are archived (daily, CONTRACT §3.2)."""
    container = runtime()
    cutoff = container.clock.now() - ARCHIVE_AFTER
    with container.store.engine.connect() as conn:
        stale = stale_active_ids(conn, cutoff)
    archiver = Actor.platform("listing-archiver")
    for listing_id in stale:
        # idempotent: skips one no longer active
        container.listings.archive_listing(archiver, listing_id)
    return len(stale)


@celery.task(name="wibestore.run_escrow_timers")
def run_escrow_timers() -> dict[str, int]:
    """Refund purchases the seller did not deliver in time, release deliveries the buyer left
    unconfirmed. Every command is idempotent, so overlapping runs settle each escrow once."""
    container = runtime()
    with container.store.reader.connect() as conn:
        due = due_escrows(conn, container.clock.now())
    outcomes: dict[str, int] = {}
    for escrow_id in due:
        try:
            outcome = container.escrows.run_escrow_timers(ESCROW_TIMER, escrow_id)
        except DomainError:  # settled meanwhile by the buyer or staff
            continue
        if outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@celery.task(name="wibestore.renew_subscriptions")
def renew_subscriptions() -> dict[str, int]:
    """Hourly: subscriptions at their end date renew from the wallet or expire."""
    container = runtime()
    with container.store.reader.connect() as conn:
        due = due_members(conn, container.clock.now())
    outcomes: dict[str, int] = {}
    for user_id in due:
        outcome = container.subscriptions.renew_or_expire(RENEWALS, user_id)
        if outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@celery.task(name="wibestore.notice_expiring_subscriptions")
def notice_expiring_subscriptions() -> int:
    """Daily: members whose subscription ends within three days are told, once a period."""
    container = runtime()
    with container.store.reader.connect() as conn:
        ending = ending_members(conn, container.clock.now(), EXPIRY_NOTICE)
    return sum(container.subscriptions.notice_expiry(RENEWALS, user_id) for user_id in ending)


@celery.task(name="wibestore.prune_read_notifications")
def prune_read_notifications() -> int:
    """Daily: read notifications older than 90 days are deleted (CONTRACT §3.9)."""
    container = runtime()
    with container.store.writing() as conn:
        return prune_read(conn, container.clock.now() - READ_NOTIFICATIONS_KEPT)
