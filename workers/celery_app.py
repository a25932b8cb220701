"""The Celery app: Redis broker in production, eager (in-process) in the embedded default."""

from __future__ import annotations

from celery import Celery

from wibestore.settings import Settings

celery = Celery("wibestore", include=["workers.tasks"])


def configure(settings: Settings) -> Celery:
    eager = settings.celery_eager or settings.redis_url is None
    celery.conf.update(
        broker_url=settings.redis_url or "memory://",
        result_backend=settings.redis_url if not eager else None,
        task_always_eager=eager,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Asia/Tashkent",
        broker_connection_retry_on_startup=True,
        task_default_queue="wibestore",
        # Enqueueing must fail fast when Redis is down (the API answers 503): one retry,
        # short socket timeouts. Nothing reads task results, and the result backend's
        # reconnect loop alone held a failing enqueue for ~19 s.
        task_ignore_result=True,
        task_publish_retry_policy={
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.1,
            "interval_max": 0.1,
        },
        broker_transport_options={
            "socket_connect_timeout": settings.redis_timeout,
            "socket_timeout": settings.redis_timeout,
        },
    )
    # A process that reconfigures (the test suite does) must not keep producers and
    # connections bound to the previous broker: Celery caches them on first use.
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    return celery


configure(Settings.from_env())
