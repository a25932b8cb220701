"""Realtime in the production shape: two API processes (uvicorn, one worker each), a projector
process, PostgreSQL, and a Redis of this test's own (so it can be restarted without disturbing
anything else). A client on each process sees the same messages in the same (commit) order, none
lost and none twice, also across a Redis restart: the sockets stay open and fetch what was sent
while Redis was away from the read model once it is back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import PgSchemas, make_settings, production_env, require_postgres
from tests.test_http_server import free_port, wait_until_serving

PASSWORD = "Sup3r-Secret!"
WAIT = 20.0  # seconds a frame may take on a loaded machine (they take milliseconds)


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise TimeoutError("redis did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Cluster(NamedTuple):
    bases: tuple[str, str]
    redis: Redis


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    require_postgres()
    redis = Redis(free_port())
    redis.start()
    schemas = PgSchemas()
    schemas.create()
    settings = make_settings(
        "postgres", tmp_path, schemas, redis_url=f"redis://127.0.0.1:{redis.port}/0"
    )
    env = production_env(settings, READ_YOUR_WRITES_TIMEOUT="10")
    subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    log = (tmp_path / "server.log").open("wb")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "wibestore.cli", "project"], env=env, stdout=log, stderr=log
        )
    ]
    ports = (free_port(), free_port())
    while ports[1] == ports[0]:  # the OS may offer a port twice before anyone binds it
        ports = (ports[0], free_port())
    for port in ports:
        procs.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
                    *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
                ],
                env=env,
                stdout=log,
                stderr=log,
            )
        )
    bases = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
    try:
        for base, proc in zip(bases, procs[1:], strict=True):
            wait_until_serving(base, proc)
        yield Cluster(bases, redis)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        redis.stop()
        schemas.drop()


def register(http: httpx.Client, email: str) -> tuple[str, str]:
    """(user id, access token)."""
    r = http.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    return data["user"]["id"], data["tokens"]["access"]


def socket(sockets: ExitStack, base: str, room: str, token: str) -> ClientConnection:
    url = f"{base.replace('http', 'ws')}/ws/chat/{room}/?token={token}"
    ws = sockets.enter_context(connect(url, open_timeout=WAIT))
    ws.send(json.dumps({"type": "ping"}))  # answered once the socket follows its channels
    assert json.loads(ws.recv(timeout=WAIT)) == {"type": "pong"}
    return ws


def contents(ws: ClientConnection, n: int) -> list[str]:
    got: list[str] = []
    while len(got) < n:
        frame = json.loads(ws.recv(timeout=WAIT))
        if frame.get("type") == "message":
            got.append(frame["content"])
    return got


def nothing_more(ws: ClientConnection) -> None:
    """No message follows within a second (no repeat of what was already delivered)."""
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            return
        assert frame.get("type") != "message", frame


@pytest.mark.slow
def test_clients_on_two_processes_see_one_stream_also_across_a_redis_restart(
    cluster: Cluster,
) -> None:
    a, b = cluster.bases
    with (
        httpx.Client(base_url=a, timeout=20) as http_a,
        httpx.Client(base_url=b, timeout=20) as http_b,
        ExitStack() as sockets,
    ):
        seller_id, seller = register(http_a, "seller@example.uz")
        _, buyer = register(http_b, "buyer@example.uz")
        auth_a = {"Authorization": f"Bearer {buyer}"}
        auth_b = {"Authorization": f"Bearer {seller}"}
        room = http_b.post(
            "/api/v1/chats/create/", json={"participant_id": seller_id}, headers=auth_a
        )
        assert room.status_code == 201, room.text
        room_id = room.json()["data"]["id"]
        on_a, on_b = socket(sockets, a, room_id, buyer), socket(sockets, b, room_id, seller)

        def post(http: httpx.Client, auth: dict[str, str], text: str) -> None:
            r = http.post(f"/api/v1/chats/{room_id}/send/", json={"content": text}, headers=auth)
            assert r.status_code == 201, r.text

        # REST on either process and a socket on each, interleaved
        sent = []
        for i in range(10):
            post(http_a, auth_a, f"a{i}")
            post(http_b, auth_b, f"b{i}")
            on_a.send(json.dumps({"content": f"sa{i}"}))
            on_b.send(json.dumps({"content": f"sb{i}"}))
            sent += [f"a{i}", f"b{i}", f"sa{i}", f"sb{i}"]
        seen_a, seen_b = contents(on_a, len(sent)), contents(on_b, len(sent))
        assert seen_a == seen_b  # one order for everyone: the commit order
        assert sorted(seen_a) == sorted(sent)  # none lost, none twice
        for client in ("a", "b"):  # each client's own REST messages in the order it sent them
            mine = [c for c in seen_a if c.startswith(client) and c[1:].isdigit()]
            assert mine == [f"{client}{i}" for i in range(10)]

        # Redis goes away: messages are still taken (REST), and reach both sockets once it is
        # back, followed by what is sent afterwards
        cluster.redis.stop()
        during = [f"down{i}" for i in range(5)]
        for i, text in enumerate(during):
            post(http_a if i % 2 else http_b, auth_a if i % 2 else auth_b, text)
        cluster.redis.start()
        assert contents(on_a, 5) == during
        assert contents(on_b, 5) == during
        time.sleep(1.5)  # the projector retries Redis each second
        post(http_b, auth_b, "after")
        assert contents(on_a, 1) == ["after"]
        assert contents(on_b, 1) == ["after"]
        nothing_more(on_a)
