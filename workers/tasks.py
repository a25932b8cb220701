"""Tasks: each one hands its work to a port or the application.

A task runs wherever Celery puts it: inside the API process (eager, the embedded default) or in
a worker process. Either way it uses that process's composition root: the API registers its
container; a worker builds one from the environment the first time a task needs it.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from celery.schedules import crontab

from application.actor import Actor
from application.images import thumbnail
from application.ports import Email
from domain.errors import DomainError
from projections.runtime import DATABASE_DOWN
from workers.celery_app import celery

if TYPE_CHECKING:
    from api.bootstrap import Container

ARCHIVE_AFTER = timedelta(days=180)
ESCROW_TIMER = Actor.platform("escrow-timer")
RENEWALS = Actor.platform("subscription-renewals")
_container: Container | None = None
_lock = threading.Lock()


def use_container(container: Container) -> None:
    global _container
    _container = container


def runtime() -> Container:
    global _container
    with _lock:
        if _container is None:
            from api.bootstrap import build

            _container = build()
        return _container


@celery.task(
    name="wibestore.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_email(to: str, subject: str, body: str) -> None:
    runtime().mailer.send(Email(to=to, subject=subject, body=body))


@celery.task(
    name="wibestore.make_thumbnail", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def make_thumbnail(name: str, thumbnail_name: str) -> str:
    """The thumbnail's URL; "" when the image is gone (its upload was rolled back)."""
    media = runtime().media
    try:
        original = media.read(name)
    except FileNotFoundError:
        return ""
    return media.save(thumbnail_name, thumbnail(original))


@celery.task(name="wibestore.archive_stale_listings")
def archive_stale_listings() -> int:
    """Active listings unsold 180 days after creation are archived (daily, CONTRACT §3.2)."""
    from projections.listing_queries import stale_active_ids

    container = runtime()
    cutoff = container.clock.now() - ARCHIVE_AFTER
    with container.store.engine.connect() as conn:
        stale = stale_active_ids(conn, cutoff)
    for listing_id in stale:
        container.listings.archive_listing(listing_id)  # idempotent: skips one no longer active
    return len(stale)


@celery.task(
    name="wibestore.deliver_webhook",
    autoretry_for=(OSError, *DATABASE_DOWN),  # a restarting database must not lose a payment
    retry_backoff=True,
    max_retries=8,
)
def deliver_webhook(provider: str, body: str, signature: str) -> int:
    """A provider's webhook, handed to the same handler as POST /payments/webhooks/{provider}/
    (the sandbox provider sends its reports this way). Returns the HTTP status it got."""
    status, _ = runtime().webhooks.handle(provider, body.encode(), signature)
    return status


@celery.task(name="wibestore.run_escrow_timers")
def run_escrow_timers() -> dict[str, int]:
    """Refund purchases the seller did not deliver in time, release deliveries the buyer left
    unconfirmed. Every command is idempotent, so overlapping runs settle each escrow once."""
    from projections.money_queries import due_escrows

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
    from projections.money_queries import due_members

    container = runtime()
    with container.store.reader.connect() as conn:
        due = due_members(conn, container.clock.now())
    outcomes: dict[str, int] = {}
    for user_id in due:
        outcome = container.subscriptions.renew_or_expire(RENEWALS, user_id)
        if outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


celery.conf.beat_schedule = {
    "archive-stale-listings": {
        "task": "wibestore.archive_stale_listings",
        "schedule": crontab(hour=5, minute=0),
    },
    "escrow-timers": {"task": "wibestore.run_escrow_timers", "schedule": 60.0},
    "renew-subscriptions": {
        "task": "wibestore.renew_subscriptions",
        "schedule": crontab(minute=0),
    },
}
