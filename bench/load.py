"""HTTP load at fixed concurrency for a fixed time: wrk when installed, else Python asyncio.

The Python fallback keeps one HTTP/1.1 keep-alive connection per client on asyncio streams
(``--loadgen python``); ``--loadgen httpx`` does the same through httpx.AsyncClient, which costs
about a millisecond of client CPU per request and so mostly measures itself on a small machine.
Whatever the tool, it runs on the same machine as the server and takes CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
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
async def run_python(
    url: str, headers: dict[str, str], *, seconds: float, connections: int
) -> LoadResult:
    """Keep-alive HTTP/1.1 over asyncio streams: a few microseconds of client CPU per request."""
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    lines = [f"GET {target.path or '/'} HTTP/1.1", f"Host: {target.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (began := time.perf_counter()) < end:
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = _content_length(head)
                    if length is None:
                        raise ConnectionError("response without content-length")
                    await reader.readexactly(length)
                    ok = head[9:12] == b"200"
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                done = time.perf_counter()
                if done >= end:
                    break
                if ok:
                    latencies.append(done - began)
                else:
                    errors += 1
        finally:
            writer.close()

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
