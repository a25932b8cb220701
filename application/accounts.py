"""Accounts: registration, sign-in, sessions and tokens, profile, passwords."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError

from application.actor import Actor
from application.errors import (
    AuthenticationFailed,
    IncorrectPassword,
    InvalidToken,
    Throttled,
    TokenInvalid,
)
from application.marketplace import Marketplace
from application.ports import (
    Clock,
    Email,
    GoogleAccount,
    LoginThrottle,
    PasswordHasher,
    TokenIssuer,
)
from application.uploads import Uploads
from domain.errors import Conflict, NotFound
from domain.session import Outcome, Session, SessionRevoked
from domain.unique import KeyTaken, UniqueKey, key_id
from domain.user import (
    AccountInactive,
    InvalidResetToken,
    User,
    check_password_strength,
    normalise_phone,
)

RESET_TOKEN_LIFETIME = timedelta(hours=1)
UNIQUE_FIELDS = ("username", "phone_number")


class TokenPair(msgspec.Struct, frozen=True):
    access: str
    refresh: str


class Accounts:
    def __init__(
        self,
        app: Marketplace,
        *,
        clock: Clock,
        passwords: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        send_email: Callable[[Email], None],
        frontend_url: str,
        uploads: Uploads,
    ) -> None:
        self.app = app
        self.clock = clock
        self.passwords = passwords
        self.tokens = tokens
        self.throttle = throttle
        self.send_email = send_email
        self.frontend_url = frontend_url.rstrip("/")
        self.uploads = uploads

    # --- registration and sign-in --------------------------------------------------------
    def register(
        self,
        email: str,
        password: str,
        *,
        username: str | None = None,
        full_name: str = "",
        phone_number: str | None = None,
        language: str = "ru",
    ) -> UUID:
        check_password_strength(password, email)
        phone = normalise_phone(phone_number) if phone_number else None
        user = User(
            email=email,
            password_hash=self.passwords.hash(password),
            at=self.clock.now(),
            username=username or None,
            full_name=full_name,
            phone_number=phone,
            language=language,
        )
        self._save_claiming(
            user, {"email": user.email, "username": user.username, "phone_number": phone}
        )
        return user.id

    def log_in(self, email: str, password: str, client: str) -> UUID:
        locked_for = self.throttle.attempt(email, client)  # counted as failed until it is not
        if locked_for:
            raise Throttled(locked_for)
        user = self.find_user_by_email(email)
        if user is None or not user.is_active or not user.has_usable_password:
            self.passwords.matches(None, password)
            raise AuthenticationFailed
        if not self.passwords.matches(user.password_hash, password):
            raise AuthenticationFailed
        self.throttle.succeeded(email, client)
        user.log_in(self.clock.now())
        self.app.save(user)
        return user.id

    def sign_in_with_google(self, account: GoogleAccount) -> UUID:
        user = self.find_user_by_email(account.email)
        if user is None:
            user = User(
                email=account.email,
                password_hash=None,
                at=self.clock.now(),
                full_name=account.name[:150],
                is_verified=True,
                via="google",
            )
            self._save_claiming(user, {"email": user.email})
            return user.id
        user.check_can_sign_in()
        if not user.is_verified:
            user.verify()
        user.log_in(self.clock.now())
        self.app.save(user)
        return user.id

    def create_user(
        self, email: str, password: str, *, staff: bool = False, full_name: str = ""
    ) -> UUID:
        """The operator's way in (``wibestore user create``): verified, optionally staff."""
        check_password_strength(password, email)
        user = User(
            email=email,
            password_hash=self.passwords.hash(password),
            at=self.clock.now(),
            full_name=full_name,
            is_verified=True,
            via="operator",
        )
        if staff:
            user.grant_staff()
        self._save_claiming(user, {"email": user.email})
        return user.id

    # --- sessions and tokens --------------------------------------------------------------
    def start_session(self, user_id: UUID, claims: dict[str, Any] | None = None) -> TokenPair:
        now = self.clock.now()
        session = Session(user_id=user_id, token_id=self.tokens.new_token_id(), at=now)
        self.app.save(session)
        return TokenPair(
            access=self.tokens.access(user_id, now, claims, session.id),
            refresh=self.tokens.refresh(user_id, session.id, session.token_id, now),
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.tokens.decode(refresh_token, "refresh")
        session = self._session(claims.session_id)
        if session.user_id != claims.user_id:
            raise TokenInvalid()
        user = self.user(claims.user_id)
        if not user.is_active:
            session.end("inactive")
            self.app.save(session)
            raise TokenInvalid("User is inactive")
        if not user.accepts_tokens_issued_at(session.started_at):  # e.g. a password reset since
            session.end("signed_out")
            self.app.save(session)
            raise TokenInvalid("Token is no longer valid")
        new_token_id = self.tokens.new_token_id()
        try:
            outcome = session.rotate(claims.jti, new_token_id)
        except SessionRevoked as e:
            raise TokenInvalid("Token is blacklisted") from e
        try:
            self.app.save(session)
        except IntegrityError as e:  # a concurrent refresh of the same token won
            raise TokenInvalid("Token is blacklisted") from e
        if outcome is Outcome.REUSE_DETECTED:
            raise TokenInvalid("Token is blacklisted")
        now = self.clock.now()
        return TokenPair(
            access=self.tokens.access(user.id, now, session_id=session.id),
            refresh=self.tokens.refresh(user.id, session.id, new_token_id, now),
        )

    def log_out(
        self, user_id: UUID, refresh_token: str | None, session_id: UUID | None = None
    ) -> Session | None:
        """End the refresh token's session or, without one, ``session_id`` (the access
        token's): the session's access tokens are refused from then on, as is its refresh.
        The session ended, if any."""
        if refresh_token:
            try:
                claims = self.tokens.decode(refresh_token, "refresh")
                session = self._session(claims.session_id)
            except TokenInvalid as e:
                raise InvalidToken from e
            if claims.user_id != user_id or session.user_id != user_id:
                raise InvalidToken
        elif session_id is not None:
            found = self.app.find(session_id, Session)
            if found is None or found.user_id != user_id:
                return None
            session = found
        else:
            return None
        session.end("logout")
        self.app.save(session)
        return session

    # --- profile and password -------------------------------------------------------------
    def update_profile(self, user_id: UUID, changes: dict[str, Any]) -> None:
        user = self.user(user_id)
        if "phone_number" in changes:  # "" clears it, as null does
            raw = changes["phone_number"]
            changes["phone_number"] = normalise_phone(raw) if raw else None
        if "username" in changes:
            changes["username"] = changes["username"] or None
        old = {field: getattr(user, field) for field in UNIQUE_FIELDS}
        user.update_profile(changes)
        moved = {
            f: getattr(user, f) for f in UNIQUE_FIELDS if _key_moved(f, old[f], getattr(user, f))
        }
        released = [self._released(f, old[f]) for f in moved if old[f]]
        self._save_claiming(user, moved, also=released)

    def change_avatar(self, user_id: UUID, raw: bytes, changes: dict[str, Any]) -> None:
        """The new avatar and the other profile changes in one save: a refused change (a
        taken username, say) keeps neither the avatar nor its file."""
        with self.uploads.kept_only_if_done() as stored:
            stored.append(self.uploads.upload_image(Actor.user(user_id), raw))
            self.update_profile(user_id, {**changes, "avatar": stored[0].url})

    def change_password(self, user_id: UUID, old_password: str, new_password: str) -> None:
        user = self.user(user_id)
        if not self.passwords.matches(user.password_hash, old_password):
            raise IncorrectPassword(field="old_password")
        check_password_strength(new_password, user.email)
        user.change_password(
            self.passwords.hash(new_password),
            reused=self.passwords.matches_any(user.password_history, new_password),
        )
        self.app.save(user)

    def request_password_reset(self, email: str) -> None:
        """Mail a single-use link valid for an hour; silent when no such active user exists."""
        user = self.find_user_by_email(email)
        if user is None or not user.is_active:
            return
        secret = secrets.token_urlsafe(32)
        user.request_password_reset(_digest(secret), self.clock.now() + RESET_TOKEN_LIFETIME)
        token = f"{user.id.hex}.{secret}"
        # Mailed (queued) before it is saved: a queue that is down refuses the request with
        # nothing saved; a save lost after it mails a link that answers "invalid token".
        self.send_email(
            Email(
                to=user.email,
                subject="Reset your WibeStore password",
                body=f"Open this link within an hour to choose a new password:\n"
                f"{self.frontend_url}/reset-password?token={token}\n",
            )
        )
        self.app.save(user)

    def reset_password(self, token: str, new_password: str) -> None:
        user_hex, _, secret = token.partition(".")
        try:
            user = self.user(UUID(hex=user_hex))
        except (ValueError, NotFound) as e:
            raise InvalidResetToken from e
        user.check_reset_token(_digest(secret), self.clock.now())
        check_password_strength(new_password, user.email)
        user.reset_password(
            _digest(secret),
            self.passwords.hash(new_password),
            self.clock.now(),
            reused=self.passwords.matches_any(user.password_history, new_password),
        )
        self.app.save(user)

    def delete_account(self, user_id: UUID, password: str) -> None:
        user = self.user(user_id)
        if user.has_usable_password and not self.passwords.matches(user.password_hash, password):
            raise IncorrectPassword("Invalid password.", field="password")
        user.delete(self.clock.now())
        keys = [
            self._released(kind, value)
            for kind, value in (
                ("email", user.email),
                ("username", user.username),
                ("phone_number", user.phone_number),
            )
            if value
        ]
        self.app.save(user, *keys)

    # --- staff ----------------------------------------------------------------------------
    def grant_staff(self, user_id: UUID) -> None:
        user = self.user(user_id)
        user.grant_staff()
        self.app.save(user)

    def ban(self, user_id: UUID, reason: str) -> None:
        user = self.user(user_id)
        user.ban(reason, self.clock.now())
        self.app.save(user)

    # --- loading --------------------------------------------------------------------------
    def user(self, user_id: UUID) -> User:
        return self.app.load(user_id, User, "User not found.")

    def find_user_by_email(self, email: str) -> User | None:
        index = self.app.find(key_id("email", email), UniqueKey)
        if index is None or index.owner_id is None:
            return None
        return self.user(index.owner_id)

    def _session(self, session_id: UUID | None) -> Session:
        session = self.app.find(session_id, Session) if session_id is not None else None
        if session is None:
            raise TokenInvalid()
        return session

    def _released(self, kind: str, value: str) -> UniqueKey:
        key = self.app.load(key_id(kind, value), UniqueKey)
        key.release()
        return key

    def _claimed(self, kind: str, value: str, owner_id: UUID) -> UniqueKey:
        key = self.app.find(key_id(kind, value), UniqueKey)
        if key is None:
            return UniqueKey(kind, value, owner_id)
        key.claim(owner_id)
        return key

    def _save_claiming(
        self, owner: User, keys: dict[str, str | None], also: list[UniqueKey] | None = None
    ) -> None:
        """Save ``owner`` with its unique keys claimed, all in one transaction."""
        claimed = [self._claimed(kind, value, owner.id) for kind, value in keys.items() if value]
        try:
            self.app.save(owner, *(also or []), *claimed)
        except IntegrityError as e:
            # A concurrent command claimed one of the keys (or changed the owner) first.
            for kind, value in keys.items():
                if value:
                    try:
                        self._claimed(kind, value, owner.id)
                    except KeyTaken:
                        raise KeyTaken(kind) from e
            raise Conflict("This record was changed by another request; try again.") from e


def _key_moved(kind: str, old: str | None, new: str | None) -> bool:
    """Whether a profile change moves a unique key to another index aggregate."""
    return (key_id(kind, old) if old else None) != (key_id(kind, new) if new else None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


__all__ = ["AccountInactive", "Accounts", "TokenPair"]
