"""Uploads: images checked and cleaned, stored, and thumbnailed by a task.

Only a user uploads (the platform owns no files). A stored image belongs to nothing until a
command that checks its own actor (a listing's images, a profile's avatar) refers to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import msgspec

from application.actor import Actor
from application.ports import CleanImage, Clock, ImageProcessor, ImageRejected, MediaStore


class UploadedImage(msgspec.Struct, frozen=True):
    url: str
    thumbnail_url: str
    width: int
    height: int
    size: int
    content_type: str
    name: str
    thumbnail_name: str


class RefusedImage(msgspec.Struct, frozen=True):
    """One file of several that was not stored, and why (ImageRejected's message)."""

    reason: str


class Uploads:
    """Nothing half-written: an image whose thumbnail task cannot be queued (the queue is
    down) is removed again and the error raised, and so are the others of the same request."""

    def __init__(
        self,
        *,
        clock: Clock,
        media: MediaStore,
        images: ImageProcessor,
        request_thumbnail: Callable[[str, str], None],
    ) -> None:
        self.clock = clock
        self.media = media
        self.images = images
        self.request_thumbnail = request_thumbnail

    def upload_image(self, actor: Actor, raw: bytes) -> UploadedImage:
        """Store a cleaned copy of an uploaded image; its thumbnail is made by a task.
        ImageRejected when it is not an image we take."""
        actor.id()  # a user: the platform uploads nothing
        return self.store_image(self.check_image(raw))

    def check_image(self, raw: bytes) -> CleanImage:
        """The cleaned image, or ImageRejected: nothing is stored yet."""
        return self.images.clean(raw, self.clock.now().date())

    def store_image(self, image: CleanImage) -> UploadedImage:
        url = self.media.save(image.name, image.data)
        try:
            self.request_thumbnail(image.name, image.thumbnail_name)
        except BaseException:
            self.media.delete(image.name)
            raise
        return UploadedImage(
            url=url,
            thumbnail_url=self.media.url(image.thumbnail_name),
            width=image.width,
            height=image.height,
            size=len(image.data),
            content_type=image.content_type,
            name=image.name,
            thumbnail_name=image.thumbnail_name,
        )

    def upload_images(self, actor: Actor, raws: list[bytes]) -> list[UploadedImage | RefusedImage]:
        """Each image stored, or why it was refused; all or none when storing fails."""
        actor.id()
        with self.kept_only_if_done() as stored:
            outcomes: list[UploadedImage | RefusedImage] = []
            for raw in raws:
                try:
                    image = self.store_image(self.check_image(raw))
                except ImageRejected as e:
                    outcomes.append(RefusedImage(reason=e.message))
                    continue
                stored.append(image)
                outcomes.append(image)
            return outcomes

    @contextmanager
    def kept_only_if_done(self) -> Iterator[list[UploadedImage]]:
        """Images stored inside (appended to the yielded list) are removed again, with their
        thumbnails, when what follows fails."""
        stored: list[UploadedImage] = []
        try:
            yield stored
        except BaseException:
            for image in stored:
                self.media.delete(image.name)
                self.media.delete(image.thumbnail_name)
            raise

    def make_thumbnail(self, name: str, thumbnail_name: str) -> str:
        """The task's work: the thumbnail of a stored image, and its URL; "" when the image is
        gone (its upload was rolled back)."""
        try:
            original = self.media.read(name)
        except FileNotFoundError:
            return ""
        return self.media.save(thumbnail_name, self.images.thumbnail(original))
