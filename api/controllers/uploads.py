"""CONTRACT §5 uploads and L9 listing images: multipart in, cleaned images out."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import msgspec
from anyio.to_thread import run_sync
from litestar import Controller, Request, delete, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody

from api.auth import authenticate, container_of
from api.errors import ApiError
from api.listing_schemas import ListingImage
from api.schemas import Body, absolute
from application.actor import Actor
from application.images import MAX_BYTES, ImageRejected
from application.listings import ListingImage as StoredImage
from application.uploads import RefusedImage

Req = Request[Any, Any, Any]
MAX_FILES = 5
MULTIPART = {"multipart": True}


class Uploaded(msgspec.Struct):
    id: str
    url: str
    thumbnail_url: str | None
    width: int
    height: int
    size: int
    content_type: str


class Failure(msgspec.Struct):
    index: int
    filename: str
    error: str


class UploadedMany(msgspec.Struct):
    uploaded: list[Uploaded]
    failed: list[Failure]
    total_uploaded: int
    total_failed: int


class ListingImages(msgspec.Struct):
    success: bool
    message: str
    data: list[ListingImage]


class RemoveImage(Body):
    image_id: str


async def files_of(request: Req, field: str, limit: int) -> list[UploadFile]:
    form = await request.form()
    files = [f for f in form.getall(field) if isinstance(f, UploadFile)] if field in form else []
    if not files:
        raise ApiError(
            400, "INVALID", f"{field}: No file was submitted.", {field: ["No file was submitted."]}
        )
    if len(files) > limit:
        raise ApiError(
            400,
            "INVALID",
            f"{field}: At most {limit} files at once.",
            {field: [f"At most {limit} files at once."]},
        )
    return files


async def read_bounded(file: UploadFile) -> bytes:
    """At most one byte past the limit, so a huge file is refused without reading it all."""
    return await file.read(MAX_BYTES + 1)


class UploadController(Controller):
    path = "/api/v1/upload"
    tags = ["uploads"]

    @post(
        "/image/",
        status_code=201,
        operation_id="upload_image",
        opt=MULTIPART,
        request_max_body_size=MAX_BYTES + 64 * 1024,
    )
    async def image(self, request: Req) -> Uploaded:
        user = await run_sync(authenticate, request)
        file = (await files_of(request, "image", 1))[0]
        raw = await read_bounded(file)
        try:
            stored = await run_sync(
                container_of(request).uploads.upload_image, Actor.user(user.id), raw
            )
        except ImageRejected as e:
            raise ApiError(400, "INVALID", e.message, {"image": [e.message]}) from e
        return _uploaded(request, stored)

    @post(
        "/images/",
        status_code=201,
        operation_id="upload_images",
        opt=MULTIPART,
        request_max_body_size=MAX_FILES * MAX_BYTES + 256 * 1024,
    )
    async def images(self, request: Req) -> UploadedMany:
        user = await run_sync(authenticate, request)
        files = await files_of(request, "images", MAX_FILES)
        raws = [await read_bounded(file) for file in files]
        outcomes = await run_sync(
            container_of(request).uploads.upload_images, Actor.user(user.id), raws
        )
        uploaded, failed = [], []
        for index, (file, outcome) in enumerate(zip(files, outcomes, strict=True)):
            if isinstance(outcome, RefusedImage):
                failed.append(Failure(index=index, filename=file.filename, error=outcome.reason))
            else:
                uploaded.append(_uploaded(request, outcome))
        if not uploaded:
            raise ApiError(
                400,
                "INVALID",
                failed[0].error,
                {"images": [f"{f.filename}: {f.error}" for f in failed]},
            )
        return UploadedMany(
            uploaded=uploaded, failed=failed, total_uploaded=len(uploaded), total_failed=len(failed)
        )


def _uploaded(request: Req, stored: Any) -> Uploaded:
    base = str(request.base_url)
    return Uploaded(
        id=str(uuid.uuid4()),
        url=absolute(stored.url, base) or stored.url,
        thumbnail_url=absolute(stored.thumbnail_url, base),
        width=stored.width,
        height=stored.height,
        size=stored.size,
        content_type=stored.content_type,
    )


class ListingImagesController(Controller):
    path = "/api/v1/listings"
    tags = ["listings"]

    @post(
        "/{listing_id:uuid}/images/",
        status_code=201,
        operation_id="add_listing_images",
        opt=MULTIPART,
        request_max_body_size=10 * MAX_BYTES + 512 * 1024,
    )
    async def add(self, request: Req, listing_id: FromPath[UUID]) -> ListingImages:
        user = await run_sync(authenticate, request)
        files = await files_of(request, "images", 10)
        raws = [await read_bounded(f) for f in files]
        container = container_of(request)

        def attach() -> list[StoredImage]:
            with container.read_your_writes():
                return container.listings.attach_listing_images(
                    Actor.user(user.id), listing_id, raws
                )

        try:
            added = await run_sync(attach)
        except ImageRejected as e:
            raise ApiError(400, "INVALID", e.message, {"images": [e.message]}) from e
        base = str(request.base_url)
        data = [
            ListingImage(
                id=i.id,
                image=absolute(i.url, base) or i.url,
                is_primary=i.is_primary,
                sort_order=i.sort_order,
            )
            for i in added
        ]
        return ListingImages(success=True, message=f"{len(data)} image(s) uploaded.", data=data)

    @delete(
        "/{listing_id:uuid}/images/",
        status_code=200,
        operation_id="remove_listing_image",
        sync_to_thread=True,
    )
    def remove(
        self, request: Req, listing_id: FromPath[UUID], data: JSONBody[RemoveImage]
    ) -> dict[str, Any]:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes():
            container.listings.remove_listing_image(Actor.user(user.id), listing_id, data.image_id)
        return {"success": True, "message": "Image deleted."}
