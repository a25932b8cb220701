"""Image uploads (CONTRACT §5) with Pillow (the ImageProcessor port), checked by what the bytes
are, not by what the client says.

Every accepted image is decoded and encoded again: EXIF orientation is applied, metadata is
dropped, and anything hidden after or around the image data (a polyglot's other half) is gone.
A file whose header announces more pixels than allowed is refused before it is decoded, so a
decompression bomb never expands in memory. The same holds for animations: a GIF of a few KB can
announce 200 full-screen frames, and decoding them all took 3 GB and 12 s. So an animation's
frames x width x height is bounded before any frame is decoded (``MAX_ANIMATION_PIXELS``), and
frames are re-encoded one at a time; one upload raises a worker's peak memory by well under
100 MB (``python -m bench.image_memory``, BENCHMARKS.md). A GIF's header does not bound its
frames, though: a frame drawn outside the screen grows the decoder's canvas (a 100x100 GIF took
1.3 GB and 17 s this way). So every frame's canvas is checked as the decoder reaches it, against
the same size limit and the same budget, and Pillow's own bomb check is set to our size limit.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Iterator
from datetime import date

from PIL import Image, ImageOps, UnidentifiedImageError

from application.ports import MAX_IMAGE_BYTES, CleanImage, ImageRejected

MAX_BYTES = MAX_IMAGE_BYTES
MAX_WIDTH, MAX_HEIGHT = 1920, 1080
MAX_FRAMES = 200
MAX_ANIMATION_PIXELS = 16_000_000  # frames x width x height: 7 full-size frames, 200 of 282x282
# Pillow warns above this many pixels (an error inside ``clean``) and refuses twice as many; it
# checks on open and whenever a GIF frame grows the canvas, before the canvas is allocated.
Image.MAX_IMAGE_PIXELS = MAX_WIDTH * MAX_HEIGHT
THUMBNAIL_SIZE = (400, 400)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}


def clean(raw: bytes, today: date) -> CleanImage:
    """Check an upload and return its re-encoded, metadata-free version."""
    if not raw:
        raise ImageRejected("The file is empty.")
    if len(raw) > MAX_BYTES:
        raise ImageRejected("File too large: the limit is 5 MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in FORMATS:
                raise ImageRejected("Unsupported image type: use JPEG, PNG, WebP or GIF.")
            width, height = image.size
            if width > MAX_WIDTH or height > MAX_HEIGHT:
                raise ImageRejected(f"Image too large: at most {MAX_WIDTH}x{MAX_HEIGHT} pixels.")
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_FRAMES:
                raise ImageRejected("Too many animation frames.")
            if image.format == "GIF" and frames * width * height > MAX_ANIMATION_PIXELS:
                raise ImageRejected(
                    "Animation too large: use fewer frames or a smaller size "
                    f"(at most {MAX_ANIMATION_PIXELS:,} pixels over all frames)."
                )
            data, size = _reencode(image)
    except ImageRejected:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ) as e:
        raise ImageRejected("The file is not a valid image.") from e
    ext, content_type = FORMATS[image.format]
    stem = uuid.uuid4().hex
    day = today.strftime("%Y/%m/%d")
    return CleanImage(
        name=f"uploads/{day}/{stem}.{ext}",
        thumbnail_name=f"uploads/thumbnails/{day}/thumb_{stem}.jpg",
        data=data,
        width=size[0],
        height=size[1],
        content_type=content_type,
    )


def _reencode(image: Image.Image) -> tuple[bytes, tuple[int, int]]:
    fmt = image.format or "PNG"
    out = io.BytesIO()
    if fmt == "GIF" and getattr(image, "n_frames", 1) > 1:
        frames = _frames(image)
        first = next(frames)
        first.save(
            out,
            format="GIF",
            save_all=True,
            append_images=frames,  # decoded one by one, as the encoder asks for them
            loop=image.info.get("loop", 0),
            duration=image.info.get("duration", 100),
        )
        return out.getvalue(), first.size
    upright = ImageOps.exif_transpose(image)  # applies the orientation, then forgets EXIF
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    upright.save(out, format=fmt, **options)  # no exif=, no icc_profile=: metadata is dropped
    return out.getvalue(), upright.size


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    spent = 0
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)  # may grow the canvas: the header's size bounds nothing here
        width, height = image.size
        spent += width * height
        if width > MAX_WIDTH or height > MAX_HEIGHT or spent > MAX_ANIMATION_PIXELS:
            raise ImageRejected(
                "Animation too large: use fewer frames or a smaller size "
                f"(at most {MAX_ANIMATION_PIXELS:,} pixels over all frames)."
            )
        yield image.convert("RGBA")


def thumbnail(data: bytes) -> bytes:
    """An RGB JPEG (quality 85) fitted inside 400x400."""
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        small = image.convert("RGB")
        small.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=85)
        return out.getvalue()


class PillowImages:
    """The ImageProcessor port (application/ports.py)."""

    @staticmethod
    def clean(raw: bytes, today: date) -> CleanImage:
        return clean(raw, today)

    @staticmethod
    def thumbnail(data: bytes) -> bytes:
        return thumbnail(data)
