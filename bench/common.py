"""What every benchmark needs: fresh PostgreSQL schemas, settings and process environments
pointing at them, a pgbench baseline, child processes that are always stopped, percentiles.

Everything targets 127.0.0.1 only, and everything a benchmark creates (schemas, the pgbench
database, processes) is removed in ``finally`` blocks, also when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import psycopg

from wibestore.settings import Settings

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/bin"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
CORES = os.cpu_count() or 1
ROOT = Path(__file__).resolve().parents[1]


def require_local(url: str) -> None:
    """Benchmarks load the machine hard: never point them at anything but this machine."""
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"benchmarks only target 127.0.0.1, not {host!r}")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so ``finally`` blocks clean up schemas and processes."""

    def _exit(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


# --- PostgreSQL schemas and settings ---------------------------------------------------------
class Schemas:
    """A fresh pair of schemas (events, read models) for one benchmark, dropped afterwards."""

    def __init__(self, prefix: str = "bench") -> None:
        suffix = uuid.uuid4().hex[:10]
        self.events = f"{prefix}_es_{suffix}"
        self.read = f"{prefix}_rm_{suffix}"

    def create(self) -> None:
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.events}"')

    def drop(self) -> None:
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.events}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.read}" CASCADE')


@contextlib.contextmanager
def fresh_schemas() -> Iterator[Schemas]:
    require_local(DATABASE_URL)
    schemas = Schemas()
    schemas.create()
    try:
        yield schemas
    finally:
        schemas.drop()
        print(f"dropped schemas {schemas.events}, {schemas.read}")


def bench_settings(tmp: Path, schemas: Schemas, **overrides: Any) -> Settings:
    """Production storage (PostgreSQL + Redis) in the given schemas; mail goes to files."""
    require_local(REDIS_URL)
    values: dict[str, Any] = {
        "environment": "production",
        "allow_sandbox_payments_in_production": True,  # the benches' deposits are play money
        "data_dir": tmp / "var",
        "database_url": DATABASE_URL,
        "database_schema": schemas.events,
        "read_schema": schemas.read,
        "redis_url": REDIS_URL,
        "celery_eager": True,
        "jwt_secret": "bench-secret-" + "x" * 40,
        "credentials_key": "bench-credentials-key-0123456789",
        "payment_webhook_secret": "bench-webhook-secret-0123456789",
        "mailer": "file",
        "mail_dir": tmp / "mail",
        "frontend_url": "https://wibestore.test",
    }
    values.update(overrides)
    return Settings(**values)


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a ``wibestore`` process use the storage of ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "READ_"))}
    env.update(
        {
            "WIBESTORE_ENV": settings.environment,
            "WIBESTORE_DATA_DIR": str(settings.data_dir),
            "JWT_SECRET": settings.jwt_secret,
            "CREDENTIALS_KEY": settings.credentials_key,
            "PAYMENT_WEBHOOK_SECRET": settings.payment_webhook_secret,
            "MAILER": settings.mailer,
            "MAIL_DIR": str(settings.mail_dir or settings.data_dir / "mail"),
            "CELERY_EAGER": "true" if settings.celery_eager else "false",
            "PYTHONUNBUFFERED": "1",
            # Throttling stays on (every request pays its Redis count) but never refuses:
            # the load generator sends everything from one address and one user.
            "RATE_LIMITS": (
                "anon=1000000000,user=1000000000,uploads=1000000000,auth=1000000000,chat=1000000000"
            ),
        }
    )
    if settings.database_url:
        env.update(
            {
                "DATABASE_URL": settings.database_url,
                "DATABASE_SCHEMA": settings.database_schema,
                "READ_SCHEMA": settings.read_schema,
            }
        )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


# --- pgbench, the baseline for writes ---------------------------------------------------------
@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    latency_ms: float
    clients: int
    threads: int
    seconds: int


def add_pgbench_options(p: argparse.ArgumentParser) -> None:
    """The TPC-B baseline's knobs, the same for every benchmark that compares with it."""
    p.add_argument("--pgbench-scale", type=int, default=10)
    p.add_argument("--pgbench-clients", type=int, default=8)
    p.add_argument("--pgbench-jobs", type=int, default=2)
    p.add_argument("--pgbench-seconds", type=int, default=10)


class Pgbench:
    """TPC-B (pgbench's default script) in a database of its own, created and dropped here."""

    def __init__(self, scale: int = 10) -> None:
        require_local(DATABASE_URL)
        url = urlsplit(DATABASE_URL)
        self.host = url.hostname or "127.0.0.1"
        self.port = str(url.port or 5432)
        self.user = url.username or "postgres"
        self.dbname = f"wibestore_bench_{uuid.uuid4().hex[:8]}"
        self.scale = scale
        self.created = False

    def _run(self, tool: str, *args: str, timeout: float) -> str:
        conn = ["-h", self.host, "-p", self.port, "-U", self.user]
        done = subprocess.run(
            [str(PG_BIN / tool), *conn, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout + done.stderr

    def initialise(self) -> None:
        self._run("createdb", self.dbname, timeout=30)
        self.created = True
        self._run("pgbench", "-i", "-q", "-s", str(self.scale), self.dbname, timeout=120)
        checkpoint()

    def run(self, clients: int = 8, threads: int = 2, seconds: int = 10) -> PgbenchResult:
        args = ["-c", str(clients), "-j", str(threads), "-T", str(seconds), "-n", self.dbname]
        out = self._run("pgbench", *args, timeout=seconds + 60)
        tps = re.search(r"^tps = ([\d.]+)", out, re.MULTILINE)
        latency = re.search(r"^latency average = ([\d.]+) ms", out, re.MULTILINE)
        if tps is None:
            raise RuntimeError(f"cannot read tps from pgbench output:\n{out}")
        return PgbenchResult(
            tps=float(tps.group(1)),
            latency_ms=float(latency.group(1)) if latency else float("nan"),
            clients=clients,
            threads=threads,
            seconds=seconds,
        )

    def drop(self) -> None:
        if self.created:
            self._run("dropdb", "--if-exists", "--force", self.dbname, timeout=60)
            self.created = False
            print(f"dropped database {self.dbname}")


def checkpoint() -> None:
    """Flush dirty buffers so one phase's writes do not slow the next one's."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


# --- child processes --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A child process in its own session, stopped (SIGTERM, then SIGKILL) by ``stop``."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: IO[bytes]):
        self.name = name
        self.proc = subprocess.Popen(
            list(argv), env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this Child started
            self.proc.wait(timeout=5)


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    """Collects the children started inside; all are stopped on the way out."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def uvicorn_argv(app: str, port: int, workers: int = 2) -> list[str]:
    """The one set of server flags both the product and the hello-world baseline get."""
    return python_module(
        "uvicorn",
        app,
        "--factory",
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    )


def wait_for_http(url: str, child: Child, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not answer {url} within {timeout:.0f}s")


# --- figures ----------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def header(title: str) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"== {title} ==")
    print(f"machine: {CORES} cores shared by PostgreSQL, the servers and the load; load avg {load}")


def start_production_api(
    settings: Settings, workers: int, log: IO[bytes], started: list[Child], **env: str
) -> str:
    """Migrate, then start a projector process and uvicorn with ``workers`` in the production
    shape (PostgreSQL + Redis, projectors out of the API); return the API's base URL."""
    return start_production_servers(settings, 1, workers, log, started, **env)[0]


def start_production_servers(
    settings: Settings,
    servers: int,
    workers: int,
    log: IO[bytes],
    started: list[Child],
    **env: str,
) -> list[str]:
    """``start_production_api`` with ``servers`` uvicorn processes on ports of their own (a
    client then knows which process serves it); their children are named ``api`` (one
    server) or ``api-1``, ``api-2``, ... Returns the base URLs in that order."""
    environ = process_env(
        settings,
        WIBESTORE_ENV="production",
        PAYMENT_PROVIDER="sandbox",  # the benches' deposits are play money, declared as such
        ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION="true",
        RUN_PROJECTORS="false",
        **env,
    )
    subprocess.run(
        python_module("wibestore.cli", "migrate"),
        env=environ,
        cwd=ROOT,
        check=True,
        stdout=log,
        stderr=log,
        timeout=60,
    )
    started.append(Child("projector", python_module("wibestore.cli", "project"), environ, log))
    bases: list[tuple[str, Child]] = []
    taken: set[int] = set()
    for n in range(1, servers + 1):
        port = free_port()
        while port in taken:  # the OS may offer a port twice before anyone binds it
            port = free_port()
        taken.add(port)
        name = "api" if servers == 1 else f"api-{n}"
        server = Child(name, uvicorn_argv("api.app:create_app", port, workers), environ, log)
        started.append(server)
        bases.append((f"http://127.0.0.1:{port}", server))
    try:
        for base, server in bases:
            wait_for_http(f"{base}/health/", server)
    except RuntimeError:  # a server died starting: show why before the log is deleted
        log.flush()
        print(Path(log.name).read_text(errors="replace")[-4000:])
        raise
    return [base for base, _ in bases]


# --- where the CPU goes ----------------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def _process_times() -> dict[int, tuple[str, int, float]]:
    """pid -> (command line, parent pid, CPU seconds used so far) for every live process."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        found[int(entry.name)] = (
            cmdline or name,
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / TICK,
        )
    return found


def _machine_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


class CpuMeter:
    """CPU seconds each group of processes used between ``start`` and ``stop`` (Linux /proc).

    Groups: this process (the load generator), the API's uvicorn processes (each server on
    its own when ``api_pid`` lists several), the projector process, PostgreSQL's backends,
    Redis, and everything else.
    """

    def __init__(self, api_pid: int | Sequence[int], projector_pid: int) -> None:
        self.api_pids = [api_pid] if isinstance(api_pid, int) else list(api_pid)
        self.projector_pid = projector_pid
        self.before: dict[int, tuple[str, int, float]] = {}
        self.used: dict[str, float] = {}
        self.machine_busy = 0.0
        self.wall = 0.0

    def start(self) -> None:
        self.before = _process_times()
        self.machine_before = _machine_times()
        self.began = time.perf_counter()

    def stop(self) -> None:
        after = _process_times()
        busy, total = _machine_times()
        self.wall = time.perf_counter() - self.began
        self.machine_busy = (busy - self.machine_before[0]) / (total - self.machine_before[1])
        used: dict[str, float] = {}
        for pid, (cmdline, ppid, seconds) in after.items():
            group = self._group(pid, cmdline, ppid)
            used[group] = used.get(group, 0.0) + seconds - self.before.get(pid, ("", 0, 0.0))[2]
        self.used = {k: v for k, v in sorted(used.items(), key=lambda kv: -kv[1]) if v > 0}

    def _group(self, pid: int, cmdline: str, ppid: int) -> str:
        if pid == os.getpid():
            return "load generator"
        for n, api in enumerate(self.api_pids, 1):
            if api in (pid, ppid):
                return "api (uvicorn)" if len(self.api_pids) == 1 else f"api {n} (uvicorn)"
        if pid == self.projector_pid:
            return "projector"
        if cmdline.startswith("postgres"):
            return "postgresql"
        if cmdline.startswith("redis-server"):
            return "redis"
        return "other"

    def report(self, commands: int) -> str:
        lines = [f"CPU in the window: machine {self.machine_busy:.0%} busy of {CORES} cores"]
        for group, seconds in self.used.items():
            share = seconds / self.wall
            per = f"{1000 * seconds / commands:6.2f} ms/command" if commands else ""
            lines.append(f"  {group:15s} {share:5.0%} of a core  {per}")
        return "\n".join(lines)
