"""The application decides who may act on an account: a user on their own account only, staff
or the platform for the operator's commands (checked against the event store), and nothing is
written when it refuses."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest

from application.accounts import AvatarRejected
from application.actor import Actor, NotAllowed
from application.errors import InvalidToken
from domain.errors import DomainError, NotFound
from domain.session import Session
from domain.user import CannotBanYourself, User
from tests.images import encoded
from wibestore.container import Container

PASSWORD = "Sup3r-Secret!"
OPERATOR = Actor.platform("operator")


@contextmanager
def nothing_written(container: Container) -> Iterator[None]:
    before = container.app.recorder.max_notification_id()
    yield
    assert container.app.recorder.max_notification_id() == before


def refused(
    container: Container, error: type[Exception], command: Callable[..., Any], *args: Any
) -> DomainError:
    """``command(*args)`` raises ``error`` (a domain error) and writes nothing."""
    with nothing_written(container), pytest.raises(error) as caught:
        command(*args)
    assert isinstance(caught.value, DomainError)
    return caught.value


def banned_staff(container: Container) -> UUID:
    staff = container.accounts.create_user(OPERATOR, "banned@example.uz", PASSWORD, staff=True)
    container.accounts.ban(OPERATOR, staff, "fraud")
    return staff


def not_staff(container: Container) -> list[Actor]:
    return [
        Actor.user(container.accounts.register("ann@example.uz", PASSWORD)),  # a plain user
        Actor.user(uuid.uuid4()),  # nobody
        Actor.user(banned_staff(container)),  # staff once, banned since
    ]


# --- staff and operator commands ------------------------------------------------------------
def test_only_active_staff_or_the_platform_ban_a_user(container: Container) -> None:
    target = container.accounts.register("bob@example.uz", PASSWORD)
    for actor in not_staff(container):
        refused(container, NotAllowed, container.accounts.ban, actor, target, "spam")
    assert container.accounts.user(target).is_active

    staff = container.accounts.create_user(OPERATOR, "mod@example.uz", PASSWORD, staff=True)
    container.accounts.ban(Actor.user(staff), target, "spam")
    assert not container.accounts.user(target).is_active
    other = container.accounts.register("eve@example.uz", PASSWORD)
    container.accounts.ban(OPERATOR, other, "spam")
    assert not container.accounts.user(other).is_active


def test_staff_cannot_ban_themselves(container: Container) -> None:
    staff = container.accounts.create_user(OPERATOR, "mod@example.uz", PASSWORD, staff=True)
    refused(
        container,
        CannotBanYourself,
        lambda: container.accounts.ban(Actor.user(staff), staff, "oops"),
    )
    assert container.accounts.user(staff).is_active


def test_only_active_staff_or_the_platform_create_users(container: Container) -> None:
    for n, actor in enumerate(not_staff(container)):
        email = f"new{n}@example.uz"
        refused(container, NotAllowed, container.accounts.create_user, actor, email, PASSWORD)
        assert container.accounts.find_user_by_email(email) is None

    staff = container.accounts.create_user(OPERATOR, "mod@example.uz", PASSWORD, staff=True)
    assert container.accounts.user(staff).is_staff
    made = container.accounts.create_user(Actor.user(staff), "helper@example.uz", PASSWORD)
    assert container.accounts.user(made).is_verified


# --- the caller's own account ---------------------------------------------------------------
def test_a_profile_change_changes_the_actors_own_profile_only(container: Container) -> None:
    ann = container.accounts.register("ann@example.uz", PASSWORD, full_name="Ann")
    bob = container.accounts.register("bob@example.uz", PASSWORD, full_name="Bob")
    container.accounts.update_profile(Actor.user(ann), {"full_name": "Ann B."})
    assert container.accounts.user(ann).full_name == "Ann B."
    assert container.accounts.user(bob).full_name == "Bob"
    assert [type(e) for e in container.app.events.get(bob)] == [
        User.Registered,
        User.VerificationRequested,
    ]


def test_the_platform_owns_no_account_to_change(container: Container) -> None:
    container.accounts.register("ann@example.uz", PASSWORD)
    platform = Actor.platform("escrow-timer")
    accounts = container.accounts
    for command in (
        lambda: accounts.update_profile(platform, {"full_name": "Robot"}),
        lambda: accounts.change_avatar(platform, encoded("PNG"), {}),
        lambda: accounts.change_password(platform, PASSWORD, "An0ther-Secret!"),
        lambda: accounts.delete_account(platform, PASSWORD),
        lambda: accounts.log_out(platform, None, uuid.uuid4()),
    ):
        refused(container, NotAllowed, command)
    assert not any(container.settings.media_dir.rglob("*.*"))  # no avatar file was kept


def test_nobody_has_an_account_to_change(container: Container) -> None:
    nobody = Actor.user(uuid.uuid4())
    accounts = container.accounts
    for command in (
        lambda: accounts.update_profile(nobody, {"full_name": "Ghost"}),
        lambda: accounts.change_avatar(nobody, encoded("PNG"), {}),
        lambda: accounts.change_password(nobody, PASSWORD, "An0ther-Secret!"),
        lambda: accounts.delete_account(nobody, PASSWORD),
    ):
        refused(container, NotFound, command)
    assert not any(container.settings.media_dir.rglob("*.*"))


def test_a_rejected_avatar_is_a_field_error_and_changes_nothing(container: Container) -> None:
    ann = container.accounts.register("ann@example.uz", PASSWORD)
    error = refused(
        container,
        AvatarRejected,
        lambda: container.accounts.change_avatar(Actor.user(ann), b"not an image", {"bio": "x"}),
    )
    assert error.field == "avatar"
    assert container.accounts.user(ann).bio == ""


# --- sessions -------------------------------------------------------------------------------
def test_a_user_logs_out_of_their_own_sessions_only(container: Container) -> None:
    ann = container.accounts.register("ann@example.uz", PASSWORD)
    bob = Actor.user(container.accounts.register("bob@example.uz", PASSWORD))
    tokens = container.accounts.start_session(ann)
    session_id = container.tokens.decode(tokens.refresh, "refresh").session_id
    assert session_id is not None

    refused(container, InvalidToken, lambda: container.accounts.log_out(bob, tokens.refresh))
    with nothing_written(container):  # someone else's session id ends nothing
        assert container.accounts.log_out(bob, None, session_id) is None
    assert not container.app.load(session_id, Session).is_revoked

    ended = container.accounts.log_out(Actor.user(ann), tokens.refresh)
    assert ended is not None and ended.session_id == session_id
    assert container.app.load(session_id, Session).is_revoked
