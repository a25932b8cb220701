"""One upload raises a worker's peak memory by less than 100 MB, whatever the file: measured in
a fresh process per file (bench/image_memory.py), the hostile animations and the largest that
are still accepted."""

from __future__ import annotations

from adapters.images import MAX_ANIMATION_PIXELS
from bench.image_memory import BOUND_MB, measure, noisy_animation
from tests.images import growing_animation, tiny_animation


def test_no_upload_raises_a_workers_peak_memory_by_more_than_100_mb() -> None:
    full_frames = MAX_ANIMATION_PIXELS // (1920 * 1080)
    files = {
        "the issue's 200 frames of 1920x1080": tiny_animation(200),
        "the largest accepted animation, noise": noisy_animation(full_frames, (1920, 1080)),
        "a 100x100 GIF whose frames grow the canvas to 8000x8000": growing_animation(),
        "a 100x100 GIF whose frames grow the canvas to 1900x1000": growing_animation(far=1899),
    }
    for name, data in files.items():
        result = measure(data)
        assert result["peak_growth_mb"] < BOUND_MB, (name, result)
