"""The production shape, for real: uvicorn with 2 workers and a separate projector process,
on PostgreSQL and Redis, driven over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    REDIS_URL,
    PgSchemas,
    make_settings,
    process_env,
    require_postgres,
    require_redis,
)

PASSWORD = "Sup3r-Secret!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(base: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


@pytest.fixture
def production(tmp_path: Path) -> Iterator[str]:
    require_postgres()
    require_redis()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    schemas = PgSchemas()
    schemas.create()
    settings = make_settings("postgres", tmp_path, schemas)
    env = process_env(
        settings, WIBESTORE_ENV="production", RUN_PROJECTORS="false", CELERY_EAGER="true"
    )
    subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    projector = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "project"], env=env, stdout=log, stderr=log
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_serving(base, server)
        yield base
    finally:
        for proc in (server, projector):
            proc.terminate()
        for proc in (server, projector):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        schemas.drop()


@pytest.mark.slow
def test_register_login_me_refresh_and_reuse_over_real_http(production: str) -> None:
    with httpx.Client(base_url=production, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register/",
            json={"email": "real@example.uz", "password": PASSWORD, "name": "Real Person"},
        )
        assert registered.status_code == 201, registered.text
        user = registered.json()["data"]["user"]
        assert user["full_name"] == "Real Person"  # read-your-writes across processes

        login = http.post(
            "/api/v1/auth/login/", json={"email": "real@example.uz", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens = login.json()["data"]["tokens"]

        for _ in range(4):  # both workers answer, both see the projected user
            me = http.get(
                "/api/v1/auth/me/", headers={"Authorization": f"Bearer {tokens['access']}"}
            )
            assert me.status_code == 200
            assert me.json()["id"] == user["id"]
            assert me.json()["last_login"] is not None

        rotated = http.post("/api/v1/auth/refresh/", json={"refresh": tokens["refresh"]})
        assert rotated.status_code == 200
        new = rotated.json()

        reused = http.post("/api/v1/auth/refresh/", json={"refresh": tokens["refresh"]})
        assert reused.status_code == 401
        assert reused.json()["error"]["code"] == "TOKEN_NOT_VALID"
        family_gone = http.post("/api/v1/auth/refresh/", json={"refresh": new["refresh"]})
        assert family_gone.status_code == 401

        # The refreshes do not wait for read models (they answer from the event store), so the
        # projector may still be applying the last one: the lag must drain to zero promptly.
        deadline = time.monotonic() + 5
        while True:
            health = http.get("/health/detailed/")
            assert health.status_code == 200
            checks = health.json()["checks"]
            assert checks["database"] == "ok"
            assert checks["cache"] == "ok"
            lag = checks["projections"]["users"]["lag_events"]
            if lag == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert lag == 0
