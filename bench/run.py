"""Run every benchmark in sequence, each in its own process, then list their ratios.

    python -m bench.run [commands http_me projection_lag listings realtime]

Each benchmark cleans up its own schemas, databases and servers; a benchmark that fails or
overruns its time limit is stopped (SIGTERM, which runs its clean-up) and the others still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from bench.common import ROOT, stop_on_sigterm

BENCHMARKS = ("commands", "http_me", "projection_lag", "listings", "realtime")
TIME_LIMIT = 120.0  # seconds per benchmark; each normally takes 10-35 s
TIME_LIMITS = {
    "listings": 360.0,  # seeds 10,000 listings first; normally about 3 minutes
    "realtime": 300.0,  # 1,000 sockets, then 2 x 1,000 sends at 20/s; about 2.5 minutes
}


def run_one(name: str) -> tuple[int, str]:
    """Stream the benchmark's output; return its exit code and its last ``ratio`` line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    ratio = "(no ratio)"
    overran = threading.Event()

    def stop() -> None:
        overran.set()
        proc.terminate()  # the benchmark turns SIGTERM into its clean-up

    limit = TIME_LIMITS.get(name, TIME_LIMIT)
    watchdog = threading.Timer(limit, stop)
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("ratio"):
                ratio = line.strip()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.terminate()
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    if overran.is_set():
        print(f"{name}: stopped after {limit:.0f} s")
    return code, ratio


def main(argv: Sequence[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    stop_on_sigterm()
    results: list[tuple[str, int, str, float]] = []
    for name in names:
        began = time.monotonic()
        code, ratio = run_one(name)
        results.append((name, code, ratio, time.monotonic() - began))
        print()
    print("== summary ==")
    for name, code, ratio, seconds in results:
        status = "ok" if code == 0 else f"exit {code}"
        print(f"{name:<16}{status:<9}{seconds:>6.0f} s  {ratio}")
    return max((code for _, code, _, _ in results), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
