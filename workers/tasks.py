"""Tasks: each one hands its work to a port or the application."""

from __future__ import annotations

from application.images import thumbnail
from application.media import LocalMediaStore, MediaStore
from application.ports import Email, Mailer
from workers.celery_app import celery

_mailer: Mailer | None = None
_media: MediaStore | None = None


def use_mailer(mailer: Mailer) -> None:
    """Set by the composition root of whichever process runs the tasks."""
    global _mailer
    _mailer = mailer


def use_media(media: MediaStore) -> None:
    global _media
    _media = media


def _current_media() -> MediaStore:
    global _media
    if _media is None:
        from application.settings import Settings

        _media = LocalMediaStore(Settings.from_env().media_dir)
    return _media


def _current_mailer() -> Mailer:
    global _mailer
    if _mailer is None:
        from application.mail import build_mailer
        from application.settings import Settings

        _mailer = build_mailer(Settings.from_env())
    return _mailer


@celery.task(
    name="wibestore.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_email(to: str, subject: str, body: str) -> None:
    _current_mailer().send(Email(to=to, subject=subject, body=body))


@celery.task(
    name="wibestore.make_thumbnail", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def make_thumbnail(name: str, thumbnail_name: str) -> str:
    media = _current_media()
    return media.save(thumbnail_name, thumbnail(media.read(name)))
