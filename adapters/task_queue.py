"""The TaskQueue port (application/ports.py): Celery with a broker (Redis), or this process.

With a broker, a job is sent by name to the worker's registered task (workers/tasks.py), which
keeps its retry options; the API process never imports the worker's code. In the embedded
default (no broker, CELERY_EAGER) a job runs at once, in the calling thread, as Celery's eager
mode ran it: retried at once on its ``retry_for`` errors, at most ``max_retries`` times, and
then its error propagates to the caller.

Either way a job the queue cannot take raises ServiceUnavailable (503) before anything is
committed, within about a second (``celery_config`` bounds publish retries and timeouts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import redis
from celery import Celery
from kombu.exceptions import KombuError

from application.errors import ServiceUnavailable
from application.ports import Email

QUEUE = "wibestore"


class Job(NamedTuple):
    """A task as the worker registers it: its name and what it is retried on."""

    name: str
    retry_for: tuple[type[BaseException], ...] = ()
    max_retries: int = 0


class Jobs(NamedTuple):
    """The jobs the application enqueues (one per TaskQueue method)."""

    send_email: Job
    make_thumbnail: Job
    deliver_webhook: Job


def celery_config(
    broker_url: str | None, timeout: float, *, eager: bool, key_prefix: str = ""
) -> dict[str, Any]:
    """One configuration for the worker's Celery app and the producer's. ``key_prefix``
    (settings.redis_key_prefix) goes before every key the broker writes: queues, bindings,
    the workers' control channels."""
    transport: dict[str, Any] = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    if key_prefix:
        transport["global_keyprefix"] = key_prefix
    return {
        "broker_url": broker_url or "memory://",
        "result_backend": broker_url if not eager else None,
        "task_always_eager": eager,
        "task_eager_propagates": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "timezone": "Asia/Tashkent",
        "broker_connection_retry_on_startup": True,
        "task_default_queue": QUEUE,
        # Enqueueing must fail fast when Redis is down (the API answers 503): one retry,
        # short socket timeouts. Nothing reads task results, and the result backend's
        # reconnect loop alone held a failing enqueue for ~19 s.
        "task_ignore_result": True,
        "task_publish_retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.1,
            "interval_max": 0.1,
        },
        "broker_transport_options": transport,
    }


class _Queue:
    """The port's methods, each one job with plain (JSON-able) arguments."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def send_email(self, email: Email) -> None:
        self.enqueue(self.jobs.send_email, email.to, email.subject, email.body)

    def make_thumbnail(self, name: str, thumbnail_name: str) -> None:
        self.enqueue(self.jobs.make_thumbnail, name, thumbnail_name)

    def deliver_webhook(self, provider: str, body: bytes, signature: str) -> None:
        self.enqueue(self.jobs.deliver_webhook, provider, body.decode(), signature)

    def enqueue(self, job: Job, *args: Any) -> None:
        raise NotImplementedError


class CeleryTaskQueue(_Queue):
    in_process = False

    def __init__(self, jobs: Jobs, broker_url: str, timeout: float, key_prefix: str = "") -> None:
        super().__init__(jobs)
        self.celery = Celery("wibestore", set_as_current=False)
        self.celery.conf.update(
            celery_config(broker_url, timeout, eager=False, key_prefix=key_prefix)
        )

    def enqueue(self, job: Job, *args: Any) -> None:
        with _enqueueing():
            # nothing reads results: no result-backend subscription (its reconnect loop held
            # a failing enqueue for ~19 s)
            self.celery.send_task(job.name, args=args, queue=QUEUE, ignore_result=True)

    def ping(self, timeout: float) -> list[Any]:
        """The workers that answered within ``timeout`` seconds."""
        replies: list[Any] = self.celery.control.ping(timeout=timeout)
        return replies

    def close(self) -> None:
        self.celery.close()


class InProcessTaskQueue(_Queue):
    in_process = True

    def __init__(self, jobs: Jobs) -> None:
        super().__init__(jobs)
        self._handlers: Mapping[str, Callable[..., object]] = {}

    def ping(self, timeout: float) -> list[Any]:
        """No workers: jobs run in this process."""
        return []

    def serve(self, handlers: Mapping[str, Callable[..., object]]) -> None:
        """What each job does (by name); set once the parts it needs are built."""
        self._handlers = handlers

    def enqueue(self, job: Job, *args: Any) -> None:
        run = self._handlers[job.name]
        for attempt in range(job.max_retries + 1):
            try:
                run(*args)
                return
            except job.retry_for:
                if attempt == job.max_retries:
                    raise

    def close(self) -> None:
        pass


@contextmanager
def _enqueueing() -> Iterator[None]:
    try:
        yield
    except (KombuError, redis.RedisError) as e:
        raise ServiceUnavailable("task queue", 5) from e
