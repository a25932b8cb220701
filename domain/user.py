"""The User aggregate: a person who buys and sells on WibeStore."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

Language = Literal["uz", "ru", "en"]
LANGUAGES = frozenset(get_args(Language))
PROFILE_FIELDS = frozenset(
    {
        "username",
        "full_name",
        "phone_number",
        "language",
        "timezone",
        "avatar",
        "bio",
        "telegram_username",
    }
)
PASSWORD_HISTORY = 5
TELEGRAM_EMAIL_DOMAIN = "telegram.wibestore.local"
REFERRAL_CODE_LENGTH = 10
_REFERRAL_CODE = re.compile(f"[A-Z2-7]{{{REFERRAL_CODE_LENGTH}}}")
_PHONE = re.compile(r"^(?:\+?998)?((?:9\d|6[1-9]|7\d|3\d)\d{7})$")


def display_name(full_name: str | None, username: str | None, email: str) -> str:
    """How a user is shown to others: the full name, else the username, else the e-mail's
    local part."""
    return full_name or username or email.split("@", 1)[0]


def referral_code(user_id: UUID) -> str:
    """A user's referral code: 10 upper-case URL-safe characters (CONTRACT §2.2), derived from
    the id, so every user has one without anything stored and it never changes."""
    digest = hashlib.sha256(b"wibestore-referral:" + user_id.bytes).digest()
    return base64.b32encode(digest).decode()[:REFERRAL_CODE_LENGTH]


def telegram_email(telegram_id: int) -> str:
    """The placeholder e-mail of a user who signed up through Telegram (CONTRACT §2.0)."""
    return f"tg_{telegram_id}@{TELEGRAM_EMAIL_DOMAIN}"


def check_email_not_reserved(email: str) -> None:
    """Nobody registers an address of the Telegram placeholder domain: it would take the
    e-mail a Telegram user's first sign-in gets."""
    if email.strip().lower().endswith("@" + TELEGRAM_EMAIL_DOMAIN):
        raise DomainError("Enter a valid email address.", field="email")


def normalise_phone(raw: str) -> str:
    """An Uzbek phone number as +998XXXXXXXXX, or InvalidPhoneNumber."""
    digits = re.sub(r"[\s\-()]", "", raw)
    match = _PHONE.match(digits)
    if match is None:
        raise InvalidPhoneNumber
    return "+998" + match.group(1)


class User(Aggregate):
    class Registered(Aggregate.Created):
        email: str
        password_hash: str | None
        at: datetime
        username: str | None
        full_name: str
        phone_number: str | None
        language: str
        is_verified: bool
        via: str

    class LoggedIn(Aggregate.Event):
        at: datetime

    class ProfileUpdated(Aggregate.Event):
        changes: dict[str, Any]

    class PasswordChanged(Aggregate.Event):
        password_hash: str

    class PasswordResetRequested(Aggregate.Event):
        token_hash: str
        expires_at: datetime

    class PasswordReset(Aggregate.Event):
        password_hash: str
        at: datetime

    class VerificationRequested(Aggregate.Event):
        token_hash: str
        expires_at: datetime
        at: datetime

    class Verified(Aggregate.Event):
        pass

    class Referred(Aggregate.Event):
        """Signed up through another user's referral link (its code, as given)."""

        code: str

    class TelegramLinked(Aggregate.Event):
        telegram_id: int

    class PhoneVerified(Aggregate.Event):
        phone_number: str

    # Staff actions name the staff member (``by``); None is the platform (the operator's
    # command line, the seed) and what events stored before ``by`` existed read as.
    class StaffGranted(Aggregate.Event):
        by: UUID | None = None

    class StaffRevoked(Aggregate.Event):
        by: UUID | None = None

    class Banned(Aggregate.Event):
        reason: str
        at: datetime
        by: UUID | None = None

    class Unbanned(Aggregate.Event):
        at: datetime | None = None
        by: UUID | None = None

    class Deleted(Aggregate.Event):
        at: datetime

    @event(Registered)
    def __init__(
        self,
        email: str,
        password_hash: str | None,
        at: datetime,
        username: str | None = None,
        full_name: str = "",
        phone_number: str | None = None,
        language: str = "ru",
        is_verified: bool = False,
        via: str = "email",
    ) -> None:
        self.email = email.strip().lower()
        self.password_hash = password_hash
        self.password_history: list[str] = [password_hash] if password_hash else []
        self.username = username
        self.full_name = full_name
        self.phone_number = phone_number
        self.language = language
        self.timezone = "Asia/Tashkent"
        self.avatar: str | None = None
        self.bio = ""
        self.telegram_username: str | None = None
        self.telegram_id: int | None = None
        self.verified_phone: str | None = None
        self.referred_by_code: str | None = None
        self.is_verified = is_verified
        self.is_staff = False
        self.is_banned = False
        self.deleted_at: datetime | None = None
        self.created_at = at
        self.last_login: datetime | None = None
        self.verify_token_hash: str | None = None
        self.verify_expires_at: datetime | None = None
        self.verification_requested_at: datetime | None = None
        self.reset_token_hash: str | None = None
        self.reset_expires_at: datetime | None = None
        self.tokens_valid_after: datetime | None = None

    # --- rules -------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return not self.is_banned and self.deleted_at is None

    @property
    def has_usable_password(self) -> bool:
        return self.password_hash is not None

    def check_can_sign_in(self) -> None:
        if not self.is_active:
            raise AccountInactive

    def accepts_tokens_issued_at(self, at: datetime) -> bool:
        """Tokens (and sign-ins) from before a password reset, ban or deletion are void."""
        return self.tokens_valid_after is None or at >= self.tokens_valid_after

    def check_password_not_reused(self, reused: bool) -> None:
        if reused:
            raise PasswordReused

    # --- commands ----------------------------------------------------------------------
    def log_in(self, at: datetime) -> None:
        self.check_can_sign_in()
        self._logged_in(at)

    @event(LoggedIn)
    def _logged_in(self, at: datetime) -> None:
        self.last_login = at

    def update_profile(self, changes: dict[str, Any]) -> None:
        self.check_can_sign_in()
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise DomainError(f"Unknown profile field: {sorted(unknown)[0]}.")
        if changes.get("language") is not None and changes["language"] not in LANGUAGES:
            raise DomainError(
                f"Language must be one of {', '.join(get_args(Language))}.", field="language"
            )
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._profile_updated(effective)

    @event(ProfileUpdated)
    def _profile_updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def change_password(self, new_hash: str, *, reused: bool) -> None:
        self.check_can_sign_in()
        self.check_password_not_reused(reused)
        self._password_changed(new_hash)

    @event(PasswordChanged)
    def _password_changed(self, password_hash: str) -> None:
        self._set_password(password_hash)

    @event(PasswordResetRequested)
    def request_password_reset(self, token_hash: str, expires_at: datetime) -> None:
        self.reset_token_hash = token_hash
        self.reset_expires_at = expires_at

    def check_reset_token(self, token_hash: str, at: datetime) -> None:
        if (
            not self.is_active
            or self.reset_token_hash is None
            or self.reset_token_hash != token_hash
            or self.reset_expires_at is None
            or at >= self.reset_expires_at
        ):
            raise InvalidResetToken

    def reset_password(self, token_hash: str, new_hash: str, at: datetime, *, reused: bool) -> None:
        self.check_reset_token(token_hash, at)
        self.check_password_not_reused(reused)
        self._password_reset(new_hash, at)

    @event(PasswordReset)
    def _password_reset(self, password_hash: str, at: datetime) -> None:
        self._set_password(password_hash)
        self.reset_token_hash = None
        self.reset_expires_at = None
        self.tokens_valid_after = at

    def _set_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.password_history = [password_hash, *self.password_history][:PASSWORD_HISTORY]

    def request_verification(self, token_hash: str, expires_at: datetime, at: datetime) -> None:
        """A new e-mail verification link; the one before it stops working."""
        if self.is_verified:
            raise AlreadyVerified
        self._verification_requested(token_hash, expires_at, at)

    @event(VerificationRequested)
    def _verification_requested(self, token_hash: str, expires_at: datetime, at: datetime) -> None:
        self.verify_token_hash = token_hash
        self.verify_expires_at = expires_at
        self.verification_requested_at = at

    def verify_email(self, token_hash: str, at: datetime) -> None:
        """The link mailed last, within its lifetime, once."""
        if (
            self.is_verified
            or not self.is_active
            or self.verify_token_hash is None
            or not hmac.compare_digest(self.verify_token_hash, token_hash)
            or self.verify_expires_at is None
            or at >= self.verify_expires_at
        ):
            raise InvalidVerificationToken
        self.verify()

    @event(Verified)
    def verify(self) -> None:
        self.is_verified = True
        self.verify_token_hash = None
        self.verify_expires_at = None

    def note_referral(self, code: str) -> None:
        """The referral code the user signed up with; one that cannot be a code (or the
        user's own) is not recorded."""
        code = code.strip().upper()
        if _REFERRAL_CODE.fullmatch(code) and code != referral_code(self.id):
            self._referred(code)

    @event(Referred)
    def _referred(self, code: str) -> None:
        self.referred_by_code = code

    def link_telegram(self, telegram_id: int) -> None:
        """The Telegram account the user signs in with (CONTRACT A14); set once."""
        if self.telegram_id is None:
            self._telegram_linked(telegram_id)
        elif self.telegram_id != telegram_id:
            raise TelegramAlreadyLinked

    @event(TelegramLinked)
    def _telegram_linked(self, telegram_id: int) -> None:
        self.telegram_id = telegram_id

    @property
    def phone_verified(self) -> bool:
        """Whether the phone number on the profile is one the user proved to hold."""
        return self.phone_number is not None and self.phone_number == self.verified_phone

    def verify_phone(self, phone_number: str) -> None:
        """The user proved to hold ``phone_number`` (a code sent to it came back)."""
        if self.verified_phone != phone_number:
            self._phone_verified(phone_number)

    @event(PhoneVerified)
    def _phone_verified(self, phone_number: str) -> None:
        self.verified_phone = phone_number

    def grant_staff(self, by: UUID | None = None) -> None:
        if not self.is_staff:
            self._staff_granted(by)

    @event(StaffGranted)
    def _staff_granted(self, by: UUID | None) -> None:
        self.is_staff = True

    def revoke_staff(self, by: UUID | None = None) -> None:
        if by == self.id:
            raise CannotChangeOwnStaff
        if self.is_staff:
            self._staff_revoked(by)

    @event(StaffRevoked)
    def _staff_revoked(self, by: UUID | None) -> None:
        self.is_staff = False

    def check_can_be_banned_by(self, staff_id: UUID | None) -> None:
        if staff_id == self.id:
            raise CannotBanYourself

    def ban(self, reason: str, at: datetime, *, by: UUID | None = None) -> None:
        """Banned by the staff member ``by``, or by the platform (None); banning a banned
        user changes nothing."""
        self.check_can_be_banned_by(by)
        if not self.is_banned:
            self._banned(reason, at, by)

    @event(Banned)
    def _banned(self, reason: str, at: datetime, by: UUID | None) -> None:
        self.is_banned = True
        self.tokens_valid_after = at

    def unban(self, at: datetime, *, by: UUID | None = None) -> None:
        """The ban is lifted; tokens issued before it stay void (they were revoked). A deleted
        account stays deleted."""
        if self.deleted_at is not None:
            raise AccountInactive
        if self.is_banned:
            self._unbanned(at, by)

    @event(Unbanned)
    def _unbanned(self, at: datetime | None, by: UUID | None) -> None:
        self.is_banned = False

    def delete(self, at: datetime) -> None:
        if self.deleted_at is not None:
            raise AccountInactive
        self._deleted(at)

    @event(Deleted)
    def _deleted(self, at: datetime) -> None:
        self.deleted_at = at
        self.tokens_valid_after = at


class InvalidPhoneNumber(DomainError):
    def __init__(self) -> None:
        super().__init__("Enter a valid Uzbek phone number.", field="phone_number")


class AccountInactive(DomainError):
    def __init__(self) -> None:
        super().__init__("This account is inactive.")


class CannotBanYourself(DomainError):
    def __init__(self) -> None:
        super().__init__("You cannot ban yourself.")


class CannotChangeOwnStaff(DomainError):
    def __init__(self) -> None:
        super().__init__("You cannot revoke your own staff status.")


class TelegramAlreadyLinked(DomainError):
    def __init__(self) -> None:
        super().__init__("This account is linked to another Telegram account.")


class PasswordReused(DomainError):
    def __init__(self) -> None:
        super().__init__("You cannot reuse one of your last 5 passwords.")


class AlreadyVerified(DomainError):
    def __init__(self) -> None:
        super().__init__("Your email is already verified.")


class InvalidVerificationToken(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid or expired verification token.")


class InvalidResetToken(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid or expired reset token.")


_COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "11111111",
        "00000000",
        "iloveyou",
        "admin123",
        "welcome1",
        "abc12345",
        "passw0rd",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "letmein1",
        "trustno1",
    }
)


def check_password_strength(password: str, email: str = "") -> None:
    """The password policy: 8+ characters, not all digits, not common, not the e-mail."""
    if len(password) < 8:
        raise WeakPassword("This password is too short. It must contain at least 8 characters.")
    if password.isdigit():
        raise WeakPassword("This password is entirely numeric.")
    if password.lower() in _COMMON_PASSWORDS:
        raise WeakPassword("This password is too common.")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and (local in password.lower() or password.lower() in email.lower()):
        raise WeakPassword("The password is too similar to the email.")


class WeakPassword(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="password")
