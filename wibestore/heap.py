"""A long-running process's heap, settled once it has started.

What a process builds while it starts (modules, the app and its routes, pools, compiled
statements) lives as long as the process. CPython's full collections walk every tracked object
each time, and in an API process holding 500 sockets they took 270-280 ms, freezing every
request and socket of that process meanwhile (bench/realtime.py: the chat's p99 spikes, both
API processes at the same moment). ``gc.freeze()`` moves what exists now out of the
collector's sight, so that a full collection walks only what came since.
"""

from __future__ import annotations

import gc

import structlog

log = structlog.get_logger(__name__)


def settle() -> None:
    """Collect once, then freeze what survives. Servers only: a process that builds and drops
    many apps (the test suite) would keep each one's frozen leftovers for ever."""
    gc.collect()
    gc.freeze()
    log.info("heap.frozen", objects=gc.get_freeze_count())
