"""Requests/s of ``GET /api/v1/auth/me/`` against Litestar's hello world, served the same way.

The product runs in its production shape: ``uvicorn api.app:create_app --factory --workers 2``
on PostgreSQL + Redis with RUN_PROJECTORS=false and a separate ``python -m wibestore.cli project``
process, after ``python -m wibestore.cli migrate``. A user registered over HTTP gives the bearer
token; every request decodes it and reads the caller's row from the users read model.

Baseline, same run, same uvicorn flags: ``bench.hello:create_app`` (one async GET handler
returning {"hello": "world"}). Load: wrk -t2 -c32 -d10s when installed, else a Python asyncio
client at 32 keep-alive connections (bench/load.py); either shares the cores with the server.

    python -m bench.http_me [--seconds 10] [--loadgen auto|wrk|python|httpx]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.common import (
    CORES,
    Child,
    bench_settings,
    children,
    free_port,
    fresh_schemas,
    header,
    start_production_api,
    stop_on_sigterm,
    uvicorn_argv,
    wait_for_http,
)
from bench.load import LoadResult, add_load_options, available_tool, describe, generate

PASSWORD = "Qz7!mountain-Ledger"
ME = "/api/v1/auth/me/"


def load(args: argparse.Namespace, url: str, headers: dict[str, str]) -> LoadResult:
    """A discarded warm-up (both workers up, connections open), then the measured run."""
    options = {"connections": args.connections, "threads": args.threads}
    generate(args.tool, url, headers, seconds=args.warmup, **options)
    return generate(args.tool, url, headers, seconds=args.seconds, **options)


def sign_up(base: str) -> str:
    with httpx.Client(base_url=base, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register/",
            json={"email": "bench@example.uz", "password": PASSWORD, "name": "Bench Caller"},
        )
        if registered.status_code != 201:
            raise RuntimeError(f"register: {registered.status_code} {registered.text}")
        token: str = registered.json()["data"]["tokens"]["access"]
        for _ in range(8):  # both workers see the user before the load starts
            me = http.get(ME, headers={"Authorization": f"Bearer {token}"})
            if me.status_code != 200:
                raise RuntimeError(f"me: {me.status_code} {me.text}")
    return token


def measure_me(args: argparse.Namespace, tmp: Path) -> LoadResult:
    log_path = tmp / "api.log"
    try:
        with fresh_schemas() as schemas, log_path.open("wb") as log, children() as started:
            settings = bench_settings(tmp, schemas)
            base = start_production_api(settings, args.workers, log, started)
            token = sign_up(base)
            print(f"api up on {base} ({args.workers} workers) + projector process; measuring {ME}")
            return load(args, f"{base}{ME}", {"Authorization": f"Bearer {token}"})
    except Exception:
        print_log_tail(log_path)
        raise


def measure_hello(args: argparse.Namespace, tmp: Path) -> LoadResult:
    log_path = tmp / "hello.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        with log_path.open("wb") as log, children() as started:
            port = free_port()
            server = Child(
                "hello", uvicorn_argv("bench.hello:create_app", port, args.workers), env, log
            )
            started.append(server)
            base = f"http://127.0.0.1:{port}"
            wait_for_http(f"{base}/", server)
            print(f"hello world up on {base} ({args.workers} workers); measuring /")
            return load(args, f"{base}/", {})
    except Exception:
        print_log_tail(log_path)
        raise


def print_log_tail(path: Path, lines: int = 40) -> None:
    if path.exists():
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {path.name} ---", *tail, "---", sep="\n")


def row(name: str, r: LoadResult, width: int = 24) -> str:
    """One line of a results table: name, req/s, p50, p99, requests, errors."""
    return (
        f"{name:<{width}}{r.per_second:>10.1f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
        f"{r.requests:>10}{r.errors:>8}"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.http_me", description=__doc__)
    add_load_options(p)
    args = p.parse_args(argv)
    args.tool = available_tool(args.loadgen)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop_on_sigterm()
    header(f"GET {ME} vs Litestar hello world, uvicorn --workers {args.workers}")
    print(f"load generator: {describe(args.tool, args.threads, args.connections, args.seconds)}")
    print(f"note: the load generator shares the {CORES} cores with the servers and PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        hello = measure_hello(args, Path(tmp))
        me = measure_me(args, Path(tmp))
    print(f"{'':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    print(row("hello world (GET /)", hello))
    print(row("me (GET /auth/me/)", me))
    if hello.errors or me.errors:
        print("warning: some responses were errors (not 200); see the errors column")
    print(f"ratio me / hello = {me.per_second / hello.per_second:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
