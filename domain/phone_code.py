"""One-time codes sent to a phone: Telegram sign-in codes (CONTRACT §3.12) and SMS
verification codes (A11/A12).

A ``PhoneCode`` is one phone's current code for one purpose; its id is derived from both, so
two commands that use the same code write the same aggregate and the event store lets one of
them win: a code is used at most once. The aggregate keeps only a keyed digest of the code,
never the code. Issuing a new code replaces the previous one; a code goes void when it is
used, when it expires, after ``MAX_FAILED_ATTEMPTS`` wrong guesses, or when the Telegram
account it was issued to asks for a code for another phone (``TelegramChat``).
"""

from __future__ import annotations

import hmac
import re
import uuid
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.user import InvalidPhoneNumber, normalise_phone

NAMESPACE = uuid.UUID("a0f3b8e2-6c1d-4f7a-9e25-3d8c5b7a1f40")
MAX_FAILED_ATTEMPTS = 5
CODE_LENGTH = 6


class Purpose(StrEnum):
    TELEGRAM = "telegram"  # sign-in with a code the Telegram bot hands out (A13/A14)
    SMS = "sms"  # proof that a phone number is the caller's (A11/A12)


def normalise_any_phone(raw: str) -> str:
    """A phone as ``+<digits>``: an Uzbek number as ``normalise_phone`` has it (9 digits
    starting with an operator code get +998), any other number of 9 digits or more as its
    digits with a plus (the Telegram bot's users are not all in Uzbekistan)."""
    try:
        return normalise_phone(raw)
    except InvalidPhoneNumber:
        pass
    digits = re.sub(r"\D", "", raw)
    if not 9 <= len(digits) <= 15 or re.fullmatch(r"\+?[\d\s\-()]+", raw.strip()) is None:
        raise InvalidPhoneNumber
    return "+" + digits


class PhoneCode(Aggregate):
    @staticmethod
    def create_id(purpose: str, phone: str) -> UUID:
        return code_id(purpose, phone)

    class Opened(Aggregate.Created):
        purpose: str
        phone: str

    class Issued(Aggregate.Event):
        digest: str
        at: datetime
        expires_at: datetime
        telegram_id: int | None
        full_name: str

    class GuessFailed(Aggregate.Event):
        at: datetime

    class Used(Aggregate.Event):
        at: datetime

    class Voided(Aggregate.Event):
        at: datetime

    @event(Opened)
    def __init__(self, purpose: str, phone: str) -> None:
        self.purpose = purpose
        self.phone = phone
        self.digest: str | None = None
        self.issued_at: datetime | None = None
        self.expires_at: datetime | None = None
        self.telegram_id: int | None = None
        self.full_name = ""
        self.failed_attempts = 0
        self.is_spent = False  # used, voided or guessed at too often

    # --- rules -------------------------------------------------------------------------
    @property
    def is_pending(self) -> bool:
        return self.digest is not None and not self.is_spent

    def seconds_since_issued(self, at: datetime) -> float | None:
        return None if self.issued_at is None else (at - self.issued_at).total_seconds()

    # --- commands ----------------------------------------------------------------------
    @event(Issued)
    def issue(
        self,
        digest: str,
        at: datetime,
        expires_at: datetime,
        telegram_id: int | None = None,
        full_name: str = "",
    ) -> None:
        """A new code for this phone; the one before it, if any, is void from now on."""
        self.digest = digest
        self.issued_at = at
        self.expires_at = expires_at
        self.telegram_id = telegram_id
        self.full_name = full_name
        self.failed_attempts = 0
        self.is_spent = False

    def check(self, digest: str, at: datetime) -> None:
        """Whether ``digest`` is of the pending code: InvalidCode when there is none or the
        guess is wrong (a wrong guess is recorded: save the aggregate before you report it),
        CodeExpired when the right code came too late."""
        if not self.is_pending or self.digest is None:
            raise InvalidCode(self.purpose)
        if not hmac.compare_digest(self.digest, digest):
            self._guess_failed(at)
            raise InvalidCode(self.purpose)
        if self.expires_at is None or at >= self.expires_at:
            raise CodeExpired(self.purpose)

    def use(self, digest: str, at: datetime) -> None:
        self.check(digest, at)
        self._used(at)

    @event(GuessFailed)
    def _guess_failed(self, at: datetime) -> None:
        self.failed_attempts += 1
        if self.failed_attempts >= MAX_FAILED_ATTEMPTS:
            self.is_spent = True

    @event(Used)
    def _used(self, at: datetime) -> None:
        self.is_spent = True

    def void(self, at: datetime) -> None:
        if self.is_pending:
            self._voided(at)

    @event(Voided)
    def _voided(self, at: datetime) -> None:
        self.is_spent = True


class TelegramChat(Aggregate):
    """The phone a Telegram account last asked the bot for a code for: a new request for
    another phone voids the code that phone still holds (CONTRACT A13)."""

    @staticmethod
    def create_id(telegram_id: int) -> UUID:
        return uuid.uuid5(NAMESPACE, f"telegram-chat:{telegram_id}")

    @event("Started")
    def __init__(self, telegram_id: int) -> None:
        self.telegram_id = telegram_id
        self.phone: str | None = None

    def ask_code_for(self, phone: str) -> str | None:
        """Record ``phone`` as the one asked for; the phone asked for before, if another."""
        previous = self.phone
        if previous != phone:
            self._phone_changed(phone)
        return previous if previous != phone else None

    @event("PhoneChanged")
    def _phone_changed(self, phone: str) -> None:
        self.phone = phone


def code_id(purpose: str, phone: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"{purpose}:{phone}")


MESSAGES = {
    Purpose.TELEGRAM: (
        "Kod noto'g'ri yoki allaqachon ishlatilgan.",
        "Kod muddati tugagan. Botdan yangi kod oling.",
    ),
    Purpose.SMS: ("Invalid or expired OTP code.", "Invalid or expired OTP code."),
}


class InvalidCode(DomainError):
    """No pending code, or not this one (the contract's messages, per purpose)."""

    def __init__(self, purpose: str) -> None:
        super().__init__(MESSAGES[Purpose(purpose)][0])


class CodeExpired(DomainError):
    def __init__(self, purpose: str) -> None:
        super().__init__(MESSAGES[Purpose(purpose)][1])
