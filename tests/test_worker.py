"""A real Celery worker on Redis makes the thumbnails (the production path of uploads)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.api.conftest import bearer, register
from tests.conftest import REDIS_URL, FixedClock, make_settings, process_env, require_redis
from tests.images import encoded
from wibestore.container import Container, build


@pytest.fixture
def with_worker(tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    require_redis()
    settings = make_settings(
        "sqlite", tmp_path, redis_url=REDIS_URL, celery_eager=False, media_root=tmp_path / "media"
    )
    env = process_env(settings, CELERY_EAGER="false", MEDIA_ROOT=str(tmp_path / "media"))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app:celery",
            "worker",
            "-Q",
            "wibestore",
            "--pool",
            "solo",
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{tmp_path.name}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("wb"),
    )
    container = build(settings, clock=clock, fast_passwords=True)
    container.start()
    try:
        deadline = time.monotonic() + 90
        while not container.task_queue.ping(timeout=0.5):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never answered"
        yield container
    finally:
        container.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.slow
def test_the_worker_makes_the_thumbnail_of_an_upload(with_worker: Container) -> None:
    client: TestClient[Any]
    with TestClient(create_app(with_worker)) as client:
        user = bearer(register(client)["tokens"]["access"])
        response = client.post(
            "/api/v1/upload/image/",
            headers=user,
            files={"image": ("a.png", encoded("PNG", size=(800, 600)), "image/png")},
        )
        assert response.status_code == 201, response.text
        thumb_path = response.json()["thumbnail_url"].split("/media/", 1)[1]
        thumb = with_worker.settings.media_dir / thumb_path
        deadline = time.monotonic() + 30
        while not thumb.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thumb.exists(), "the worker did not make the thumbnail"
        health = client.get("/health/detailed/").json()
        assert health["checks"]["celery"] == "ok"


def test_every_beat_entry_runs_a_registered_task() -> None:
    """A misspelt task name would be sent daily and never run."""
    import workers.tasks  # noqa: F401  (registers the tasks)
    from workers.celery_app import BEAT_SCHEDULE, celery

    registered = {entry["task"] for entry in BEAT_SCHEDULE.values()} - set(celery.tasks)
    assert registered == set()
    assert "wibestore.prune_read_notifications" in {e["task"] for e in BEAT_SCHEDULE.values()}
