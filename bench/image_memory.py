"""Memory of one image upload: how much one call of ``adapters.images.clean`` raises a
process's peak RSS (``ru_maxrss``), for ordinary and hostile files.

Each file is cleaned in a fresh child process that has already imported Pillow and cleaned a
small image (so imports and first-use allocations are not counted): the growth of its peak
RSS is what that upload cost a worker. The issue's bound: 100 MB per upload.

    python -m bench.image_memory              # the table of BENCHMARKS.md
    python -m bench.image_memory --child F    # one measurement, as JSON (the tests use it)
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BOUND_MB = 100


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """This process's peak RSS. Not ``ru_maxrss``: Linux carries that over ``exec`` from the
    parent, so a child of a big parent would start at the parent's peak and show no growth.
    VmHWM belongs to this process's own memory map, and writing 5 to clear_refs resets it."""
    return _status_mb("VmHWM")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child(path: Path) -> dict[str, Any]:
    from adapters.images import ImageRejected, clean
    from tests.images import encoded

    today = date(2026, 1, 1)
    clean(encoded("PNG"), today)  # warm: Pillow's plugins loaded, allocator primed
    raw = path.read_bytes()
    ru_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    _reset_peak()
    peak = rss = _rss_mb()
    started = time.perf_counter()
    try:
        clean(raw, today)
        outcome = "accepted"
    except ImageRejected as e:
        outcome = f"refused: {e.message}"
    return {
        "bytes": len(raw),
        "outcome": outcome,
        "seconds": round(time.perf_counter() - started, 3),
        "peak_growth_mb": round(_peak_mb() - peak, 1),
        "ru_maxrss_growth_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - ru_maxrss, 1
        ),
        "rss_growth_after_mb": round(_rss_mb() - rss, 1),
    }


def measure(data: bytes) -> dict[str, Any]:
    """``child`` on ``data``, in a fresh interpreter."""
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(
            [sys.executable, "-m", "bench.image_memory", "--child", f.name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def noisy_animation(frames: int, size: tuple[int, int]) -> bytes:
    """Black-and-white noise: every pixel of every frame differs, the worst real content that
    still fits in 5 MB at 11 full-size frames."""
    from PIL import Image

    rng = random.Random(0)
    images = [
        Image.frombytes("L", size, bytes(b & 1 and 255 for b in rng.randbytes(size[0] * size[1])))
        for _ in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=50)
    return out.getvalue()


def cases() -> dict[str, bytes]:
    from adapters.images import MAX_ANIMATION_PIXELS
    from tests.images import animated_gif, encoded, growing_animation, tiny_animation

    full = MAX_ANIMATION_PIXELS // (1920 * 1080)  # full-size frames within the budget
    side = int((MAX_ANIMATION_PIXELS / 200) ** 0.5)  # 200 frames of side x side
    return {
        "JPEG 1920x1080": encoded("JPEG", size=(1920, 1080)),
        "PNG 1920x1080": encoded("PNG", size=(1920, 1080)),
        "animated GIF, 4 frames 40x40": animated_gif(4),
        f"animated GIF, {full} frames 1920x1080 (at the budget)": tiny_animation(full),
        f"animated GIF, {full} frames 1920x1080 of noise (at the budget)": noisy_animation(
            full, (1920, 1080)
        ),
        f"animated GIF, 200 frames {side}x{side} (at the budget)": tiny_animation(
            200, (side, side)
        ),
        f"animated GIF, 200 frames {side}x{side} of noise (at the budget)": noisy_animation(
            200, (side, side)
        ),
        f"animated GIF, {full + 1} frames 1920x1080": tiny_animation(full + 1),
        "animated GIF, 200 frames 800x600": tiny_animation(200, (800, 600)),
        "animated GIF, 200 frames 1920x1080 (the issue's)": tiny_animation(200),
        "animated GIF, 100x100 screen, frames growing the canvas to 8000x8000": (
            growing_animation()
        ),
        "animated GIF, 100x100 screen, frames growing the canvas to 1900x1000": (
            growing_animation(far=1899)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    print("| file | bytes | outcome | seconds | peak RSS growth MB | RSS growth after MB |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name, data in cases().items():
        r = measure(data)
        worst = max(worst, r["peak_growth_mb"])
        print(
            f"| {name} | {r['bytes']:,} | {r['outcome']} | {r['seconds']} "
            f"| {r['peak_growth_mb']} | {r['rss_growth_after_mb']} |"
        )
    print(
        f"worst peak growth {worst} MB; bound {BOUND_MB} MB; ratio {BOUND_MB / max(worst, 0.1):.2f}"
    )


if __name__ == "__main__":
    main()
