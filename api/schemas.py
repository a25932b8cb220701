"""Wire schemas (msgspec Structs, snake_case as in CONTRACT.md) and their builders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET, Meta, UnsetType

from domain.money import format_amount
from domain.user import PROFILE_FIELDS, Language, display_name
from projections.users import as_utc

SERVER_TZ = ZoneInfo("Asia/Tashkent")

Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, Meta(min_length=1, max_length=128)]
Token = Annotated[str, Meta(min_length=1, max_length=4096)]
Username = Annotated[str, Meta(max_length=50, pattern=r"^[\w.@+-]*$")]
FullName = Annotated[str, Meta(max_length=150)]
Phone = Annotated[str, Meta(max_length=20)]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies reject fields they do not know, so a typo never passes silently."""


ReferralCode = Annotated[str, Meta(max_length=32)]


class RegisterBody(Body):
    email: Email
    password: Password
    password_confirm: Password | None = None
    username: Username | None = None
    full_name: FullName | None = None
    name: FullName | None = None
    phone_number: Phone | None = None
    phone: Phone | None = None
    language: Language = "ru"
    referral_code: ReferralCode | None = None  # from the referral link's ?ref=
    ref: ReferralCode | None = None


class LoginBody(Body):
    email: Email
    password: Password


class RefreshBody(Body):
    refresh: Token


class LogoutBody(Body):
    refresh: Token | None = None


class GoogleBody(Body):
    access_token: Token | None = None
    credential: Token | None = None
    id_token: Token | None = None


class EmailVerifyBody(Body):
    token: Token


class PasswordResetBody(Body):
    email: Email


class PasswordResetConfirmBody(Body):
    token: Token
    uid: Annotated[str, Meta(max_length=100)] | None = None
    password: Password | None = None
    password_confirm: Password | None = None
    new_password: Password | None = None


class PasswordChangeBody(Body):
    new_password: Password
    old_password: Password | None = None
    current_password: Password | None = None
    new_password_confirm: Password | None = None


EDITABLE = sorted(PROFILE_FIELDS - {"avatar"})  # the avatar arrives as a file (multipart)


class ProfileBody(Body):
    username: Username | UnsetType | None = UNSET
    full_name: FullName | UnsetType = UNSET
    phone_number: Phone | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    language: Language | UnsetType = UNSET
    timezone: Annotated[str, Meta(max_length=64)] | UnsetType = UNSET
    bio: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    telegram_username: Annotated[str, Meta(max_length=64)] | UnsetType | None = UNSET
    avatar: Any = UNSET  # a file arrives by multipart; a non-file value in JSON is ignored

    def changes(self) -> dict[str, Any]:
        """The profile fields sent, of those the domain lets a user edit."""
        out = {f: getattr(self, f) for f in EDITABLE if getattr(self, f) is not UNSET}
        if "phone_number" not in out and self.phone is not UNSET:
            out["phone_number"] = self.phone
        return out


class DeleteAccountBody(Body):
    password: Annotated[str, Meta(max_length=128)] = ""


class TelegramCodeBody(msgspec.Struct, kw_only=True):
    """A13, from the bot; fields the contract does not name are ignored (the bot is not ours
    to change), a missing secret is a 403 like a wrong one."""

    secret_key: Annotated[str, Meta(max_length=256)] = ""
    telegram_id: Annotated[int, Meta(ge=1)]
    phone_number: Annotated[str, Meta(max_length=20)]
    full_name: Annotated[str, Meta(max_length=150)] = ""


class TelegramCode(msgspec.Struct):
    success: bool
    code: str
    expires_at: str
    remaining_seconds: int
    code_length: int
    expire_minutes: int


class TelegramSignInBody(msgspec.Struct, kw_only=True):
    phone: Annotated[str, Meta(max_length=20)]
    code: Annotated[str, Meta(min_length=4, max_length=6)]
    mode: Annotated[str, Meta(max_length=20)] | None = None  # the later revision's "login"


class OtpRequestBody(Body):
    phone_number: Annotated[str, Meta(max_length=20)]


class OtpVerifyBody(Body):
    phone_number: Annotated[str, Meta(max_length=20)]
    otp: Annotated[str, Meta(min_length=1, max_length=6)]


class Tokens(msgspec.Struct):
    access: str
    refresh: str


class User(msgspec.Struct):
    id: UUID
    email: str
    username: str | None
    full_name: str
    display_name: str
    phone_number: str | None
    telegram_id: int | None
    telegram_username: str | None
    avatar: str | None
    avatar_url: str | None
    bio: str
    is_verified: bool
    rating: str
    total_sales: int
    total_purchases: int
    balance: str
    language: str
    timezone: str
    created_at: str
    last_login: str | None
    is_staff: bool
    is_premium: bool
    is_pro: bool
    plan: str


class UserPublic(msgspec.Struct):
    id: UUID
    display_name: str
    avatar: str | None
    rating: str
    total_sales: int
    created_at: str
    plan: str
    is_premium: bool
    is_pro: bool
    username: str | None


class AuthData(msgspec.Struct):
    user: User
    tokens: Tokens


class AuthResponse(msgspec.Struct):
    success: bool
    data: AuthData
    message: msgspec.UnsetType | str = UNSET


class Message(msgspec.Struct):
    success: bool
    message: str


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.astimezone(SERVER_TZ).isoformat() if value is not None else None


class _Unprefixed:
    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def absolute(url: str | None, base: str) -> str | None:
    if not url or url.startswith(("http://", "https://")):
        return url
    return base.rstrip("/") + url


def user_from_row(row: Any, base_url: str) -> User:
    avatar = absolute(row.avatar, base_url)
    return User(
        id=row.id,
        email=row.email,
        username=row.username,
        full_name=row.full_name,
        display_name=display_name(row.full_name, row.username, row.email),
        phone_number=row.phone_number,
        telegram_id=row.telegram_id,
        telegram_username=row.telegram_username,
        avatar=avatar,
        avatar_url=avatar,
        bio=row.bio,
        is_verified=row.is_verified,
        rating=format_amount(row.rating_cents),  # hundredths, written as amounts are
        total_sales=row.total_sales,
        total_purchases=row.total_purchases,
        balance=format_amount(row.balance_minor),
        language=row.language,
        timezone=row.timezone,
        created_at=iso(row.created_at) or "",
        last_login=iso(row.last_login),
        is_staff=row.is_staff,
        is_premium=row.plan in ("premium", "pro"),
        is_pro=row.plan == "pro",
        plan=row.plan,
    )


def public_user_from_row(row: Any, base_url: str, prefix: str = "") -> UserPublic:
    """UserPublic from a users row, or from a joined row whose user columns carry ``prefix``
    (listings label their seller's columns ``seller_*``)."""
    if prefix:
        row = _Unprefixed(row, prefix)
    return UserPublic(
        id=row.id,
        display_name=display_name(row.full_name, row.username, row.email),
        avatar=absolute(row.avatar, base_url),
        rating=format_amount(row.rating_cents),
        total_sales=row.total_sales,
        created_at=iso(row.created_at) or "",
        plan=row.plan,
        is_premium=row.plan in ("premium", "pro"),
        is_pro=row.plan == "pro",
        username=row.username,
    )
