"""Uploads: images checked and cleaned, stored, and thumbnailed by a task."""

from __future__ import annotations

import msgspec

from application.core import Core
from application.images import clean


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
        image = clean(raw, self.clock.now().date())
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
