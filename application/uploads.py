"""Uploads: images checked and cleaned, stored, and thumbnailed by a task."""

from __future__ import annotations

import msgspec

from application.core import Core
from application.images import CleanImage, clean


class UploadedImage(msgspec.Struct, frozen=True):
    url: str
    thumbnail_url: str
    width: int
    height: int
    size: int
    content_type: str


class Uploads(Core):
    def upload_image(self, raw: bytes) -> UploadedImage:
        """Store a cleaned copy of an uploaded image; its thumbnail is made by a task."""
        return self.upload_images([raw])[0]

    def upload_images(self, raws: list[bytes]) -> list[UploadedImage]:
        """Every file is checked before any is stored: one refused file leaves none on disk."""
        today = self.clock.now().date()
        images = [clean(raw, today) for raw in raws]
        return [self._store(image) for image in images]

    def _store(self, image: CleanImage) -> UploadedImage:
        url = self.media.save(image.name, image.data)
        self.request_thumbnail(image.name, image.thumbnail_name)
        return UploadedImage(
            url=url,
            thumbnail_url=self.media.url(image.thumbnail_name),
            width=image.width,
            height=image.height,
            size=len(image.data),
            content_type=image.content_type,
        )
