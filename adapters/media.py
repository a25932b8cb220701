"""Uploaded files on local disk (MEDIA_ROOT, served at /media/): the MediaStore port
(application/ports.py). An S3 adapter would implement the same four methods."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class LocalMediaStore:
    def __init__(self, root: Path, base_url: str = "/media/") -> None:
        self.root = root.resolve()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"unsafe media name: {name!r}")
        return self.root.joinpath(*relative.parts)

    def save(self, name: str, data: bytes) -> str:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file
        return self.url(name)

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def url(self, name: str) -> str:
        return self.base_url + name
