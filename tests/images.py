"""Image files made in the test run: ordinary ones, hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def encoded(
    fmt: str, size: tuple[int, int] = (120, 80), mode: str = "RGB", **options: object
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (30, 120, 200) if mode == "RGB" else 0).save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_exif(orientation: int = 6, size: tuple[int, int] = (160, 90)) -> bytes:
    """A JPEG whose EXIF says 'rotate me' and carries personal metadata."""
    image = Image.new("RGB", size, (250, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    images = [
        Image.new("RGB", (40, 40), (i * 60 % 256, 255 - i * 50 % 256, 90)) for i in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=50)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few hundred bytes whose header promises ten billion pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 64
    idat = zlib.compress(row * 64, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


POLYGLOT_MARKER = b"<script>alert('polyglot')</script>"


def polyglot_gif() -> bytes:
    """A valid GIF with an HTML payload riding after its trailer."""
    return encoded("GIF", mode="P") + POLYGLOT_MARKER + b"PK\x03\x04zipzipzip"


def tiny_animation(frames: int = 200, size: tuple[int, int] = (1920, 1080)) -> bytes:
    """A few KB of GIF that decode to ``frames`` full-size frames: each frame draws one pixel
    on a ``size`` screen, and a decoder expands every frame to the whole screen."""
    width, height = size
    header = (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 3 + b"\xff" * 3
    )
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    body = b""
    for i in range(frames):
        control = b"\x21\xf9\x04\x04" + struct.pack("<H", 5) + b"\x00\x00"
        x, y = (i * 7) % width, (i * 3) % height
        descriptor = b"\x2c" + struct.pack("<HHHHB", x, y, 1, 1, 0)
        pixel = b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2: clear, index 0, end
        body += control + descriptor + pixel
    return header + loop + body + b"\x3b"


def growing_animation(frames: int = 20, far: int = 7999) -> bytes:
    """A GIF whose screen is 100x100 and whose later frames are drawn at ``(far, far)``: a
    decoder grows its canvas to hold them, so the header's size says nothing of the cost."""
    header = b"GIF89a" + struct.pack("<HHBBB", 100, 100, 0x80, 0, 0) + b"\x00" * 3 + b"\xff" * 3
    body = b""
    for i in range(frames):
        at = 0 if i == 0 else far
        control = b"\x21\xf9\x04\x04" + struct.pack("<H", 5) + b"\x00\x00"
        descriptor = b"\x2c" + struct.pack("<HHHHB", at, at, 1, 1, 0)
        body += control + descriptor + b"\x02\x02\x44\x01\x00"
    return header + body + b"\x3b"
