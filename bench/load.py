"""HTTP load at fixed concurrency for a fixed time: wrk when installed, else Python asyncio.

The Python fallback keeps one HTTP/1.1 keep-alive connection per client on asyncio streams
(``--loadgen python``); ``--loadgen httpx`` does the same through httpx.AsyncClient, which costs
about a millisecond of client CPU per request and so mostly measures itself on a small machine.
Whatever the tool, it runs on the same machine as the server and takes CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import percentile

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


def available_tool(preference: str) -> str:
    """``wrk``, ``python`` or ``httpx``; ``auto`` takes wrk when it is on the PATH."""
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --loadgen python")
    return preference


def describe(tool: str, threads: int, connections: int, seconds: float) -> str:
    if tool == "wrk":
        return f"wrk -t{threads} -c{connections} -d{seconds:g}s --latency"
    client = "httpx.AsyncClient" if tool == "httpx" else "asyncio streams, HTTP/1.1"
    return f"python ({client}), {connections} keep-alive connections, {seconds:g} s, 1 process"


def generate(
    tool: str,
    url: str,
    headers: dict[str, str],
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 2,
) -> LoadResult:
    if tool == "wrk":
        return run_wrk(url, headers, seconds=seconds, connections=connections, threads=threads)
    run = run_httpx if tool == "httpx" else run_python
    return asyncio.run(run(url, headers, seconds=seconds, connections=connections))


# --- wrk ----------------------------------------------------------------------------------------
def run_wrk(
    url: str, headers: dict[str, str], *, seconds: float, connections: int, threads: int
) -> LoadResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if total is None or rate is None:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(
        tool="wrk",
        requests=int(total.group(1)),
        errors=errors,
        seconds=float(total.group(2)) * UNITS[total.group(3)] / 1000,
        per_second=float(rate.group(1)),
        p50_ms=_wrk_percentile(out, "50"),
        p99_ms=_wrk_percentile(out, "99"),
    )


def _wrk_percentile(out: str, p: str) -> float:
    found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    return float(found.group(1)) * UNITS[found.group(2)] if found else float("nan")


# --- python -------------------------------------------------------------------------------------
class KeepAlive:
    """One HTTP/1.1 keep-alive connection over asyncio streams: a few microseconds of client
    CPU per request, where httpx spends about a millisecond. Responses must carry a
    Content-Length (ours do); on a broken connection the next request reconnects."""

    def __init__(self, base: str) -> None:
        target = urlsplit(base)
        self.host, self.port = target.hostname or "127.0.0.1", target.port or 80
        self.netloc = target.netloc
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def encode(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        return head + body if body else head

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send an encoded request; return the status and the body."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            if length is None:
                raise ConnectionError("response without content-length")
            return int(head[9:12]), await reader.readexactly(length)
        except BaseException:
            self.close()
            raise

    async def request(
        self, method: str, path: str, headers: dict[str, str], payload: Any = None
    ) -> tuple[int, Any]:
        """A JSON request; return the status and the decoded JSON body."""
        body = None if payload is None else json.dumps(payload).encode()
        status, raw = await self.send(self.encode(method, path, headers, body))
        return status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def run_python(
    url: str, headers: dict[str, str], *, seconds: float, connections: int
) -> LoadResult:
    """GETs over KeepAlive connections, the request encoded once."""
    target = urlsplit(url)
    base = f"{target.scheme}://{target.netloc}"
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal errors
        connection = KeepAlive(base)
        request = connection.encode("GET", target.path or "/", headers)
        try:
            while (began := time.perf_counter()) < end:
                try:
                    ok = (await connection.send(request))[0] == 200
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    ok = False
                done = time.perf_counter()
                if done >= end:
                    break
                if ok:
                    latencies.append(done - began)
                else:
                    errors += 1
        finally:
            connection.close()

    await asyncio.gather(*(client_loop() for _ in range(connections)))
    return _summary("python", latencies, errors, seconds)


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


async def run_httpx(
    url: str, headers: dict[str, str], *, seconds: float, connections: int
) -> LoadResult:
    """One httpx.AsyncClient per connection (a shared pool is slower still). httpx spends about
    a millisecond of CPU per request, so on a small machine this measures mostly itself."""
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal errors
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while (began := time.perf_counter()) < end:
                try:
                    ok = (await client.get(url)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                done = time.perf_counter()
                if done >= end:
                    break
                if ok:
                    latencies.append(done - began)
                else:
                    errors += 1

    await asyncio.gather(*(client_loop() for _ in range(connections)))
    return _summary("httpx", latencies, errors, seconds)


def _summary(tool: str, latencies: list[float], errors: int, seconds: float) -> LoadResult:
    ms = [x * 1000 for x in latencies]
    return LoadResult(
        tool=tool,
        requests=len(ms) + errors,
        errors=errors,
        seconds=seconds,
        per_second=(len(ms) + errors) / seconds,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
    )


def add_load_options(p: argparse.ArgumentParser) -> None:
    """The command-line options every HTTP benchmark shares (argparse parser ``p``)."""
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python", "httpx"), default="auto")
