"""Accounts: registration, sign-in, sessions and tokens, profile, passwords.

Who may do what:
- signing up and signing in (``register``, ``log_in``, ``sign_in_with_google``, ``refresh``,
  ``request_password_reset``, ``reset_password``) take no actor: nobody is signed in yet, and the
  credential the command carries (password, Google token, refresh or reset token) is the
  authority. ``start_session`` follows a registration the same way.
- ``verify_email`` takes no actor either: the mailed token is the authority.
- the caller's own account (``resend_verification``, ``update_profile``, ``change_avatar``,
  ``change_password``, ``delete_account``, ``log_out``) takes the acting user and acts on them
  only: there is no other user to name, and the platform, which owns no account, is refused.
- staff and operator commands (``create_user``, ``ban``, ``unban``, ``set_staff``) take the
  actor and check, against the event store, that they are active staff or the platform itself
  (the CLI, the seed).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.actor import Actor, staff_or_system
from application.errors import (
    AuthenticationFailed,
    IncorrectPassword,
    InvalidToken,
    ServiceUnavailable,
    Throttled,
    TokenInvalid,
)
from application.marketplace import Marketplace
from application.ports import (
    Clock,
    Email,
    GoogleAccount,
    ImageRejected,
    LoginThrottle,
    PasswordHasher,
    TokenIssuer,
)
from application.uploads import Uploads
from domain.errors import Conflict, DomainError, NotFound
from domain.session import Outcome, Session, SessionRevoked
from domain.unique import KeyTaken, UniqueKey, key_id
from domain.user import (
    TELEGRAM_EMAIL_DOMAIN,
    AccountInactive,
    AlreadyVerified,
    InvalidResetToken,
    InvalidVerificationToken,
    User,
    check_email_not_reserved,
    check_password_strength,
    normalise_phone,
    referral_code,
)

RESET_TOKEN_LIFETIME = timedelta(hours=1)
VERIFY_TOKEN_LIFETIME = timedelta(hours=24)
VERIFY_RESEND_AFTER = timedelta(minutes=1)
UNIQUE_FIELDS = ("username", "phone_number")


class TokenPair(msgspec.Struct, frozen=True):
    access: str
    refresh: str


class SignedIn(msgspec.Struct, frozen=True):
    user_id: UUID
    tokens: TokenPair


class ReferralLink(msgspec.Struct, frozen=True):
    code: str
    url: str


class SessionEnded(msgspec.Struct, frozen=True):
    session_id: UUID
    at: datetime


class Profile(msgspec.Struct, frozen=True):
    """A user's own fields as the event store has them. (The users read model adds what other
    aggregates feed it: rating, sales, balance, plan.)"""

    id: UUID
    email: str
    username: str | None
    full_name: str
    phone_number: str | None
    telegram_username: str | None
    telegram_id: int | None
    avatar: str | None
    bio: str
    is_verified: bool
    language: str
    timezone: str
    created_at: datetime
    last_login: datetime | None
    is_staff: bool


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
        referral_code: str | None = None,
    ) -> UUID:
        check_email_not_reserved(email)
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
        if referral_code:
            user.note_referral(referral_code)
        secret = secrets.token_urlsafe(32)
        now = self.clock.now()
        user.request_verification(_digest(secret), now + VERIFY_TOKEN_LIFETIME, now)
        self._save_claiming(
            user, {"email": user.email, "username": user.username, "phone_number": phone}
        )
        # Mailed after the save: a registration that committed is never answered with an error.
        # With the queue down the user asks for another link (A10) once it is back.
        with suppress(ServiceUnavailable):
            self._mail_verification(user, secret, welcome=True)
        return user.id

    def log_in(self, email: str, password: str, client: str) -> SignedIn:
        """Check the credentials, then record the sign-in and start its session in one save.
        Its access tokens carry the profile claims the contract gives login tokens."""
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
        session, tokens = self.new_session(user.id, _login_claims(user))
        self.app.save(user, session)
        return SignedIn(user.id, tokens)

    def sign_in_with_google(self, account: GoogleAccount) -> SignedIn:
        """The Google account's user, created on first sight, signed in with a new session."""
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
            session, tokens = self.new_session(user.id)
            self._save_claiming(user, {"email": user.email}, also=[session])
            return SignedIn(user.id, tokens)
        user.check_can_sign_in()
        if not user.is_verified:
            user.verify()
        user.log_in(self.clock.now())
        session, tokens = self.new_session(user.id)
        self.app.save(user, session)
        return SignedIn(user.id, tokens)

    def create_user(
        self, actor: Actor, email: str, password: str, *, staff: bool = False, full_name: str = ""
    ) -> UUID:
        """The operator's way in (``wibestore user create``, the seed): verified, optionally
        staff. Only staff and the platform create users this way."""
        staff_or_system(self.app, actor)
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
    def start_session(self, user_id: UUID) -> TokenPair:
        """A session for the user just registered: their first pair of tokens."""
        session, tokens = self.new_session(user_id)
        self.app.save(session)
        return tokens

    def new_session(
        self, user_id: UUID, claims: dict[str, Any] | None = None
    ) -> tuple[Session, TokenPair]:
        """A new session for the user and its first tokens, to be saved with the sign-in."""
        now = self.clock.now()
        session = Session(user_id=user_id, token_id=self.tokens.new_token_id(), at=now)
        return session, TokenPair(
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
        self, actor: Actor, refresh_token: str | None, session_id: UUID | None = None
    ) -> SessionEnded | None:
        """End the actor's session: the refresh token's or, without one, ``session_id`` (the
        access token's). Its access tokens are refused from then on, as is its refresh. A
        refresh token of someone else's session is an invalid token; someone else's
        ``session_id`` ends nothing. The session ended, if any."""
        user_id = actor.id()
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
        return SessionEnded(session.id, session.modified_on)

    # --- profile and password -------------------------------------------------------------
    def update_profile(self, actor: Actor, changes: dict[str, Any]) -> None:
        user = self._own(actor)
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

    def change_avatar(self, actor: Actor, raw: bytes, changes: dict[str, Any]) -> None:
        """The new avatar and the other profile changes in one save: a refused change (a
        taken username, say) keeps neither the avatar nor its file."""
        actor.id()  # the platform has no avatar: refused before anything is stored
        with self.uploads.kept_only_if_done() as stored:
            try:
                stored.append(self.uploads.upload_image(actor, raw))
            except ImageRejected as e:
                raise AvatarRejected(e.message) from e
            self.update_profile(actor, {**changes, "avatar": stored[0].url})

    def change_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        user = self._own(actor)
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

    # --- referral -----------------------------------------------------------------------------
    def referral_link(self, actor: Actor) -> ReferralLink:
        """The caller's referral code and the website link that carries it (``?ref=``); a
        sign-up that names the code is counted for them (the referrals read model)."""
        code = referral_code(actor.id())
        return ReferralLink(code=code, url=f"{self.frontend_url}/?ref={code}")

    # --- e-mail verification ----------------------------------------------------------------
    def resend_verification(self, actor: Actor) -> None:
        """A new verification link for the caller (the earlier one stops working); at most
        one a minute."""
        user = self._own(actor)
        if user.is_verified or user.email.endswith("@" + TELEGRAM_EMAIL_DOMAIN):
            raise AlreadyVerified
        now = self.clock.now()
        if user.verification_requested_at is not None:
            waited = (now - user.verification_requested_at).total_seconds()
            if waited < VERIFY_RESEND_AFTER.total_seconds():
                raise Throttled(math.ceil(VERIFY_RESEND_AFTER.total_seconds() - waited))
        secret = secrets.token_urlsafe(32)
        user.request_verification(_digest(secret), now + VERIFY_TOKEN_LIFETIME, now)
        self._mail_verification(user, secret)  # queued before it is saved, as a reset link is
        self.app.save(user)

    def verify_email(self, token: str) -> None:
        user_hex, _, secret = token.partition(".")
        try:
            user = self.user(UUID(hex=user_hex))
        except (ValueError, NotFound) as e:
            raise InvalidVerificationToken from e
        user.verify_email(_digest(secret), self.clock.now())
        self.app.save(user)

    def _mail_verification(self, user: User, secret: str, *, welcome: bool = False) -> None:
        link = f"{self.frontend_url}/verify-email?token={user.id.hex}.{secret}"
        greeting = "Welcome to WibeStore!\n\n" if welcome else ""
        self.send_email(
            Email(
                to=user.email,
                subject="Verify your WibeStore e-mail",
                body=f"{greeting}Open this link within 24 hours to verify your e-mail:\n{link}\n",
            )
        )

    def delete_account(self, actor: Actor, password: str) -> None:
        user = self._own(actor)
        if user.has_usable_password and not self.passwords.matches(user.password_hash, password):
            raise IncorrectPassword("Invalid password.", field="password")
        user.delete(self.clock.now())
        keys = [
            self._released(kind, value)
            for kind, value in (
                ("email", user.email),
                ("username", user.username),
                ("phone_number", user.phone_number),
                ("telegram_id", str(user.telegram_id) if user.telegram_id else None),
            )
            if value
        ]
        self.app.save(user, *keys)

    # --- staff ----------------------------------------------------------------------------
    def ban(self, actor: Actor, user_id: UUID, reason: str = "") -> None:
        """Staff or the platform ban a user: their tokens and sign-ins are void from now on,
        their listings leave the catalogue; their open escrows stay for staff to settle."""
        self.change_standing(actor, user_id, active=False, reason=reason)

    def unban(self, actor: Actor, user_id: UUID) -> None:
        """Staff or the platform lift a ban; the tokens it voided stay void."""
        self.change_standing(actor, user_id, active=True)

    def set_staff(self, actor: Actor, user_id: UUID, is_staff: bool) -> None:
        """Staff or the platform grant or revoke staff; nobody revokes their own."""
        self.change_standing(actor, user_id, staff=is_staff)

    def change_standing(
        self,
        actor: Actor,
        user_id: UUID,
        *,
        active: bool | None = None,
        staff: bool | None = None,
        reason: str = "",
    ) -> None:
        """Ban (``active=False``) or unban, and grant or revoke staff, in one save: a refused
        part (banning yourself, say) writes nothing of the rest."""
        by = staff_or_system(self.app, actor)
        user = self.user(user_id)
        now = self.clock.now()
        if active is False:
            user.ban(reason, now, by=by)
        elif active is True:
            user.unban(now, by=by)
        if staff is True:
            user.grant_staff(by)
        elif staff is False:
            user.revoke_staff(by)
        self.app.save(user)

    # --- loading --------------------------------------------------------------------------
    def user(self, user_id: UUID) -> User:
        return self.app.load(user_id, User, "User not found.")

    def profile(self, user_id: UUID) -> Profile:
        user = self.user(user_id)
        return Profile(**{name: getattr(user, name) for name in Profile.__struct_fields__})

    def _own(self, actor: Actor) -> User:
        """The acting user's own User (the platform has none)."""
        return self.user(actor.id())

    def find_user_by_email(self, email: str) -> User | None:
        return self.find_user_by_key("email", email)

    def find_user_by_key(self, kind: str, value: str) -> User | None:
        """The user who holds this unique key (an e-mail, a phone number, a Telegram id)."""
        index = self.app.find(key_id(kind, value), UniqueKey)
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

    def claimed(self, kind: str, value: str, owner_id: UUID) -> UniqueKey:
        """The unique key ``kind``/``value`` claimed for ``owner_id`` (KeyTaken if another
        holds it), to be saved with the owner."""
        key = self.app.find(key_id(kind, value), UniqueKey)
        if key is None:
            return UniqueKey(kind, value, owner_id)
        key.claim(owner_id)
        return key

    def _save_claiming(
        self, owner: User, keys: dict[str, str | None], also: Sequence[Aggregate] = ()
    ) -> None:
        """Save ``owner`` with its unique keys claimed, all in one transaction."""
        claimed = [self.claimed(kind, value, owner.id) for kind, value in keys.items() if value]
        try:
            self.app.save(owner, *also, *claimed)
        except IntegrityError as e:
            # A concurrent command claimed one of the keys (or changed the owner) first.
            for kind, value in keys.items():
                if value:
                    try:
                        self.claimed(kind, value, owner.id)
                    except KeyTaken:
                        raise KeyTaken(kind) from e
            raise Conflict("This record was changed by another request; try again.") from e


def _key_moved(kind: str, old: str | None, new: str | None) -> bool:
    """Whether a profile change moves a unique key to another index aggregate."""
    return (key_id(kind, old) if old else None) != (key_id(kind, new) if new else None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _login_claims(user: User) -> dict[str, Any]:
    """What tokens issued by a password sign-in carry besides the standard claims."""
    return {
        "email": user.email,
        "username": user.username,
        "full_name": user.full_name,
        "is_verified": user.is_verified,
        "is_staff": user.is_staff,
    }


class AvatarRejected(DomainError):
    """The uploaded avatar is not an image we keep (too large, not an image...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="avatar")


__all__ = [
    "AccountInactive",
    "Accounts",
    "AvatarRejected",
    "Profile",
    "SessionEnded",
    "SignedIn",
    "TokenPair",
]
