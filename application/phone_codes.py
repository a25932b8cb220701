"""Phone codes: Telegram sign-in (CONTRACT A13/A14, §3.12) and SMS phone verification
(A11/A12).

Who may do what:
- ``issue_telegram_code`` is the Telegram bot's: its authority is the shared bot secret, which
  is compared here, in constant time; without a configured secret nobody issues codes.
- ``sign_in_with_telegram`` and ``request_code``/``verify_code`` take no actor: the code is the
  authority. ``verify_code`` records the verified phone on the signed-in caller's account
  when that account has this phone number; an anonymous proof verifies the phone only.

A code is six random digits; only an HMAC of it (keyed with a server secret) is stored, and a
guess is compared in constant time. Five wrong guesses spend the code (domain/phone_code.py),
so guessing a code is a five-in-a-million chance per code the bot hands out.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
from eventsourcing.domain import Aggregate

from application.accounts import Accounts, SignedIn
from application.actor import Actor
from application.errors import Throttled
from application.marketplace import Marketplace
from application.ports import Clock
from domain.errors import Forbidden
from domain.phone_code import (
    CODE_LENGTH,
    InvalidCode,
    PhoneCode,
    Purpose,
    TelegramChat,
    code_id,
    normalise_any_phone,
)
from domain.unique import KeyTaken
from domain.user import InvalidPhoneNumber, User, normalise_phone, telegram_email

SMS_RESEND_AFTER = timedelta(seconds=60)


class IssuedCode(msgspec.Struct, frozen=True):
    code: str
    expires_at: datetime
    lifetime: timedelta


class PhoneCodes:
    def __init__(
        self,
        app: Marketplace,
        *,
        accounts: Accounts,
        clock: Clock,
        send_sms: Callable[[str, str], None],
        digest_key: str,
        bot_secret: str,
        telegram_code_lifetime: timedelta,
        sms_code_lifetime: timedelta,
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.clock = clock
        self.send_sms = send_sms
        self._key = hashlib.sha256(b"phone-code:" + digest_key.encode()).digest()
        self._bot_secret = bot_secret.encode()
        self.telegram_code_lifetime = telegram_code_lifetime
        self.sms_code_lifetime = sms_code_lifetime

    # --- Telegram -------------------------------------------------------------------------
    def issue_telegram_code(
        self, bot_secret: str, telegram_id: int, phone_number: str, full_name: str = ""
    ) -> IssuedCode:
        """The bot asks for a sign-in code for the phone its user shared. The new code voids
        the phone's earlier one, and the code of the phone this Telegram account asked for
        before, if that was another."""
        if not self._bot_secret or not hmac.compare_digest(bot_secret.encode(), self._bot_secret):
            raise BotUnauthorized
        phone = normalise_any_phone(phone_number)
        code = _new_code()
        digest = self._digest(Purpose.TELEGRAM, phone, code)

        def issue() -> IssuedCode:
            now = self.clock.now()
            chat = self.app.find(TelegramChat.create_id(telegram_id), TelegramChat)
            chat = chat or TelegramChat(telegram_id)
            changed: list[Aggregate] = [chat]
            previous = chat.ask_code_for(phone)
            if previous is not None:
                old = self.app.find(code_id(Purpose.TELEGRAM, previous), PhoneCode)
                if old is not None and old.telegram_id == telegram_id:
                    old.void(now)
                    changed.append(old)
            pending = self._code(Purpose.TELEGRAM, phone)
            expires_at = now + self.telegram_code_lifetime
            pending.issue(digest, now, expires_at, telegram_id, full_name[:150])
            self.app.save(pending, *changed)
            return IssuedCode(code, expires_at, self.telegram_code_lifetime)

        return self.app.retrying(issue)

    def sign_in_with_telegram(self, phone: str, code: str) -> SignedIn:
        """Exchange the bot's code for tokens. The user is the one linked to the code's
        Telegram account, else the one with this phone number (now linked), else a new,
        verified user with the placeholder e-mail and no password (CONTRACT A14)."""
        try:
            phone = normalise_any_phone(phone)
        except InvalidPhoneNumber as e:  # no code was ever issued for it
            raise InvalidCode(Purpose.TELEGRAM) from e
        return self.app.retrying(lambda: self._sign_in_once(phone, code))

    def _sign_in_once(self, phone: str, code: str) -> SignedIn:
        try:
            return self._sign_in(phone, code)
        except KeyTaken:
            # A sign-in racing for the same code claimed the new user's keys first: the code is
            # used now, and this one is refused as any second use is.
            spent = self.app.find(code_id(Purpose.TELEGRAM, phone), PhoneCode)
            if spent is not None and not spent.is_pending:
                raise InvalidCode(Purpose.TELEGRAM) from None
            raise

    def _sign_in(self, phone: str, code: str) -> SignedIn:
        now = self.clock.now()
        pending = self._used_code(Purpose.TELEGRAM, phone, code, now)
        telegram_id = pending.telegram_id
        assert telegram_id is not None  # every Telegram code names its account
        keys: list[Aggregate] = []
        user = self.accounts.find_user_by_key("telegram_id", str(telegram_id))
        if user is None:
            user = self.accounts.find_user_by_key("phone_number", phone)
            if user is not None:
                user.link_telegram(telegram_id)
                keys.append(self.accounts.claimed("telegram_id", str(telegram_id), user.id))
        if user is None:
            user = User(
                email=telegram_email(telegram_id),
                password_hash=None,
                at=now,
                full_name=pending.full_name,
                phone_number=phone,
                is_verified=True,
                via="telegram",
            )
            user.link_telegram(telegram_id)
            keys += [
                self.accounts.claimed(kind, value, user.id)
                for kind, value in (
                    ("email", user.email),
                    ("phone_number", phone),
                    ("telegram_id", str(telegram_id)),
                )
            ]
        user.check_can_sign_in()
        user.verify_phone(phone)  # Telegram vouched for the phone the bot was given
        user.log_in(now)
        session, tokens = self.accounts.new_session(user.id)
        self.app.save(pending, user, session, *keys)
        return SignedIn(user.id, tokens)

    # --- SMS ------------------------------------------------------------------------------
    def request_code(self, phone_number: str) -> None:
        """Text a code to the phone (A11). One code a minute per phone: the next request
        within the minute is throttled."""
        phone = normalise_phone(phone_number)

        def issue() -> None:
            now = self.clock.now()
            pending = self._code(Purpose.SMS, phone)
            since = pending.seconds_since_issued(now)
            wait = SMS_RESEND_AFTER.total_seconds()
            if since is not None and since < wait:
                raise Throttled(math.ceil(wait - since))
            code = _new_code()
            pending.issue(self._digest(Purpose.SMS, phone, code), now, now + self.sms_code_lifetime)
            minutes = math.ceil(self.sms_code_lifetime.total_seconds() / 60)
            # Sent before it is saved: a sender that fails leaves no code nobody received.
            self.send_sms(phone, f"WibeStore: your code is {code}. It expires in {minutes} min.")
            self.app.save(pending)

        self.app.retrying(issue)

    def verify_code(self, actor: Actor | None, phone_number: str, code: str) -> None:
        """Check the texted code (A12); on success the caller's account, if its phone number
        is this one, records the phone as verified."""
        try:
            phone = normalise_phone(phone_number)
        except InvalidPhoneNumber as e:
            raise InvalidCode(Purpose.SMS) from e

        def verify() -> None:
            pending = self._used_code(Purpose.SMS, phone, code, self.clock.now())
            holder = self._caller_with_phone(actor, phone)
            if holder is not None:
                holder.verify_phone(phone)
                self.app.save(pending, holder)
            else:
                self.app.save(pending)

        self.app.retrying(verify)

    def _caller_with_phone(self, actor: Actor | None, phone: str) -> User | None:
        if actor is None or actor.user_id is None:
            return None
        user = self.app.find(actor.user_id, User)
        if user is None or not user.is_active or user.phone_number != phone:
            return None
        return user

    # --- codes ----------------------------------------------------------------------------
    def _code(self, purpose: Purpose, phone: str) -> PhoneCode:
        return self.app.find(code_id(purpose, phone), PhoneCode) or PhoneCode(purpose, phone)

    def _used_code(self, purpose: Purpose, phone: str, code: str, now: datetime) -> PhoneCode:
        """The phone's pending code, used by this guess (saved by the caller with what it
        unlocks); a wrong guess is saved here, counted against the code, and refused."""
        pending = self.app.find(code_id(purpose, phone), PhoneCode)
        if pending is None:
            raise InvalidCode(purpose)
        try:
            pending.use(self._digest(purpose, phone, code), now)
        except InvalidCode:
            if pending.pending_events:  # a wrong guess, counted against the code
                self.app.save(pending)
            raise
        return pending

    def _digest(self, purpose: Purpose, phone: str, code: str) -> str:
        message = f"{purpose}:{phone}:{code.strip()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


class BotUnauthorized(Forbidden):
    def __init__(self) -> None:
        super().__init__("Unauthorized: a wrong or missing bot secret.")


__all__ = ["BotUnauthorized", "IssuedCode", "PhoneCodes"]
