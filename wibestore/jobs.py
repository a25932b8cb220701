"""The jobs the application hands to the task queue: each one's name, its retries and what it
does. Both ways of running a job read this module: a Celery worker (workers/tasks.py registers
each name with these retries and calls ``Work``) and the API process itself in the embedded
default (adapters/task_queue.py's InProcessTaskQueue, serving ``Work.handlers()``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.task_queue import Job, Jobs, celery_config
from adapters.webhooks import Webhooks
from application.ports import Email, Mailer
from application.uploads import Uploads
from projections.runtime import DATABASE_DOWN
from wibestore.settings import Settings

JOBS = Jobs(
    send_email=Job("wibestore.send_email", (OSError,), max_retries=5),
    make_thumbnail=Job("wibestore.make_thumbnail", (OSError,), max_retries=5),
    # a restarting database must not lose a payment
    deliver_webhook=Job("wibestore.deliver_webhook", (OSError, *DATABASE_DOWN), max_retries=8),
)


def in_process(settings: Settings) -> bool:
    """Jobs run in the calling process without a broker, or when CELERY_EAGER says so."""
    return settings.celery_eager or settings.redis_url is None


def worker_config(settings: Settings) -> dict[str, Any]:
    """The worker's Celery configuration (workers/celery_app.py)."""
    return celery_config(
        settings.redis_url,
        settings.redis_timeout,
        eager=in_process(settings),
        key_prefix=settings.redis_key_prefix,
    )


class Work:
    """What each job does, wherever it runs: a call to an adapter or the application."""

    def __init__(self, mailer: Mailer, uploads: Uploads, webhooks: Webhooks) -> None:
        self.mailer, self.uploads, self.webhooks = mailer, uploads, webhooks

    def send_email(self, to: str, subject: str, body: str) -> None:
        self.mailer.send(Email(to=to, subject=subject, body=body))

    def make_thumbnail(self, name: str, thumbnail_name: str) -> str:
        """The thumbnail's URL; "" when the image is gone (its upload was rolled back)."""
        return self.uploads.make_thumbnail(name, thumbnail_name)

    def deliver_webhook(self, provider: str, body: str, signature: str) -> int:
        """A provider's webhook, handed to the same handler as POST /payments/webhooks/
        {provider}/ (the sandbox provider sends its reports this way). Returns the HTTP status
        it got."""
        status, _ = self.webhooks.handle(provider, body.encode(), signature)
        return status

    def handlers(self) -> dict[str, Callable[..., object]]:
        return {
            JOBS.send_email.name: self.send_email,
            JOBS.make_thumbnail.name: self.make_thumbnail,
            JOBS.deliver_webhook.name: self.deliver_webhook,
        }
