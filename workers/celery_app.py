"""The worker's Celery app (`celery -A workers.celery_app:celery worker|beat`).

Importing it reads nothing and writes nothing: its configuration (the broker from the
settings, the beat schedule) is made the first time Celery needs it. The API process does not
use this app; it sends jobs by name (adapters/task_queue.py).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

from wibestore.jobs import worker_config
from wibestore.settings import Settings

celery = Celery("wibestore", include=["workers.tasks"])

BEAT_SCHEDULE = {
    "archive-stale-listings": {
        "task": "wibestore.archive_stale_listings",
        "schedule": crontab(hour=5, minute=0),
    },
    "escrow-timers": {"task": "wibestore.run_escrow_timers", "schedule": 60.0},
    "notice-expiring-subscriptions": {  # CONTRACT §3.13: daily at 10:00
        "task": "wibestore.notice_expiring_subscriptions",
        "schedule": crontab(hour=10, minute=0),
    },
    "prune-read-notifications": {  # CONTRACT §3.13: daily at 03:00
        "task": "wibestore.prune_read_notifications",
        "schedule": crontab(hour=3, minute=0),
    },
    "renew-subscriptions": {
        "task": "wibestore.renew_subscriptions",
        "schedule": crontab(minute=0),
    },
}


def configuration() -> dict[str, Any]:
    return {**worker_config(Settings.from_env()), "beat_schedule": BEAT_SCHEDULE}


celery.add_defaults(configuration)  # evaluated when the configuration is first needed
