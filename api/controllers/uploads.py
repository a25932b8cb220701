"""CONTRACT §5 uploads: multipart in, cleaned images out; and how a route takes files
(``files``, ``files_of``, ``read_bounded``), which a listing's images (L9, in
api/controllers/listings.py) share.

A file that is not an image we take raises ImageRejected, which api/errors.py answers 400
under the form field the route reads its files from (``opt["files"]``).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from anyio.to_thread import run_sync
from litestar import Controller, Request, post
from litestar.datastructures import UploadFile

from api.dependencies import Inject, signed_in
from api.errors import ApiError
from api.schemas import absolute
from application.actor import Actor
from application.ports import MAX_IMAGE_BYTES as MAX_BYTES
from application.uploads import RefusedImage, UploadedImage, Uploads

Req = Request[Any, Any, Any]
MAX_FILES = 5


def files(field: str) -> dict[str, Any]:
    """A route's ``opt``: it takes multipart, its files come in form field ``field``."""
    return {"multipart": True, "files": field}


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


async def files_of(request: Req, limit: int) -> list[UploadFile]:
    """The files of the route's form field (``opt["files"]``): at least one, at most ``limit``."""
    field = request.route_handler.opt["files"]
    form = await request.form()
    found = [f for f in form.getall(field) if isinstance(f, UploadFile)] if field in form else []
    if not found:
        raise ApiError(
            400, "INVALID", f"{field}: No file was submitted.", {field: ["No file was submitted."]}
        )
    if len(found) > limit:
        raise ApiError(
            400,
            "INVALID",
            f"{field}: At most {limit} files at once.",
            {field: [f"At most {limit} files at once."]},
        )
    return found


async def read_bounded(file: UploadFile) -> bytes:
    """At most one byte past the limit, so a huge file is refused without reading it all."""
    return await file.read(MAX_BYTES + 1)


class UploadController(Controller):
    path = "/api/v1/upload"
    tags = ["uploads"]
    guards = [signed_in]

    @post(
        "/image/",
        status_code=201,
        operation_id="upload_image",
        opt=files("image"),
        request_max_body_size=MAX_BYTES + 64 * 1024,
    )
    async def image(self, request: Req, actor: Inject[Actor], uploads: Inject[Uploads]) -> Uploaded:
        raw = await read_bounded((await files_of(request, 1))[0])
        stored = await run_sync(uploads.upload_image, actor, raw)
        return _uploaded(request, stored)

    @post(
        "/images/",
        status_code=201,
        operation_id="upload_images",
        opt=files("images"),
        request_max_body_size=MAX_FILES * MAX_BYTES + 256 * 1024,
    )
    async def images(
        self, request: Req, actor: Inject[Actor], uploads: Inject[Uploads]
    ) -> UploadedMany:
        given = await files_of(request, MAX_FILES)
        raws = [await read_bounded(file) for file in given]
        outcomes = await run_sync(uploads.upload_images, actor, raws)
        uploaded, failed = [], []
        for index, (file, outcome) in enumerate(zip(given, outcomes, strict=True)):
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


def _uploaded(request: Req, stored: UploadedImage) -> Uploaded:
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
