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

from application.images import thumbnail
from application.ports import Email
from workers.celery_app import celery

if TYPE_CHECKING:
    from api.bootstrap import Container

ARCHIVE_AFTER = timedelta(days=180)
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
    media = runtime().media
    return media.save(thumbnail_name, thumbnail(media.read(name)))


@celery.task(name="wibestore.archive_stale_listings")
def archive_stale_listings() -> int:
    """Active listings unsold 180 days after creation are archived (daily, CONTRACT §3.2)."""
    from projections.listing_queries import stale_active_ids

    container = runtime()
    cutoff = container.clock.now() - ARCHIVE_AFTER
    with container.store.engine.connect() as conn:
        stale = stale_active_ids(conn, cutoff)
    for listing_id in stale:
        container.app.archive_listing(listing_id)  # idempotent: skips one no longer active
    return len(stale)


celery.conf.beat_schedule = {
    "archive-stale-listings": {
        "task": "wibestore.archive_stale_listings",
        "schedule": crontab(hour=5, minute=0),
    },
}
