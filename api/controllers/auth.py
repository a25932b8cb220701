"""CONTRACT §2.1: registration, sign-in, tokens, the caller's own account."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import msgspec
from anyio.to_thread import run_sync
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.datastructures import Cookie, UploadFile
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody

from api.auth import client_address, container_of
from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.errors import ApiError
from api.schemas import (
    AuthData,
    AuthResponse,
    DeleteAccountBody,
    EmailVerifyBody,
    GoogleBody,
    LoginBody,
    LogoutBody,
    Message,
    OtpRequestBody,
    OtpVerifyBody,
    PasswordChangeBody,
    PasswordResetBody,
    PasswordResetConfirmBody,
    ProfileBody,
    RefreshBody,
    RegisterBody,
    TelegramCode,
    TelegramCodeBody,
    TelegramSignInBody,
    Tokens,
    User,
    UserPublic,
    public_user_from_row,
    user_from_row,
)
from application.accounts import Accounts, Profile, TokenPair
from application.actor import Actor
from application.phone_codes import PhoneCodes
from application.ports import MAX_IMAGE_BYTES as MAX_BYTES
from application.ports import Clock
from projections.freshness import Written
from projections.sessions import record_revocation
from projections.users import active_user_row, user_row

Req = Request[Any, Any, Any]
JSON_OR_MULTIPART = {"json": True, "multipart": True}


def _mismatch(field: str, message: str = "Passwords do not match.") -> ApiError:
    return ApiError(400, "INVALID", message, {field: [message]})


def current_user(
    request: Req, accounts: Accounts, user_id: UUID, written: Written | None = None
) -> User:
    """The caller's User from the users read model; when the command just run did not reach
    it in time (``written``), from what that command saved instead."""
    with container_of(request).store.reader.connect() as conn:
        row = user_row(conn, user_id)
    if written is not None and not written.caught_up:
        return saved_user(request, accounts, user_id, row)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "User not found.")
    return user_from_row(row, str(request.base_url))


DERIVED_DEFAULTS = {  # what the users projector starts a new user with
    "rating_cents": 500,
    "total_sales": 0,
    "total_purchases": 0,
    "balance_minor": 0,
    "plan": "free",
}


def saved_user(request: Req, accounts: Accounts, user_id: UUID, row: Any | None) -> User:
    """The User's own fields as saved; the numbers other aggregates feed it (rating, sales,
    balance, plan) as the read model last had them, or a new user's."""
    own: Profile = accounts.profile(user_id)
    derived = {k: getattr(row, k) if row is not None else v for k, v in DERIVED_DEFAULTS.items()}
    fields = msgspec.structs.asdict(own)
    return user_from_row(SimpleNamespace(**fields, **derived), str(request.base_url))


def auth_response(
    request: Req,
    accounts: Accounts,
    user_id: UUID,
    tokens: TokenPair,
    message: str | None = None,
    written: Written | None = None,
) -> AuthResponse:
    data = AuthData(
        user=current_user(request, accounts, user_id, written),
        tokens=Tokens(access=tokens.access, refresh=tokens.refresh),
    )
    if message is None:
        return AuthResponse(success=True, data=data)
    return AuthResponse(success=True, data=data, message=message)


def token_cookies(request: Req, tokens: TokenPair) -> list[Cookie]:
    """The httpOnly cookies A14 sets beside its body (CONTRACT §1.2). Nothing reads them back:
    the API authenticates by the Authorization header only, so they cannot be used for CSRF."""
    settings = container_of(request).settings
    common = {"httponly": True, "samesite": "lax", "secure": settings.is_production}
    return [
        Cookie(
            key="access_token",
            value=tokens.access,
            path="/",
            max_age=settings.access_minutes * 60,
            **common,  # type: ignore[arg-type]
        ),
        Cookie(
            key="refresh_token",
            value=tokens.refresh,
            path="/api/v1/auth/refresh/",
            max_age=settings.refresh_minutes * 60,
            **common,  # type: ignore[arg-type]
        ),
    ]


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/register/", status_code=201, operation_id="register", sync_to_thread=True)
    def register(
        self,
        request: Req,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[RegisterBody],
    ) -> AuthResponse:
        if data.password_confirm is not None and data.password_confirm != data.password:
            raise _mismatch("password_confirm")
        with read_your_writes() as written:
            user_id = accounts.register(
                data.email,
                data.password,
                username=data.username,
                full_name=data.full_name or data.name or "",
                phone_number=data.phone_number or data.phone,
                language=data.language,
                referral_code=data.referral_code or data.ref,
            )
            tokens = accounts.start_session(user_id)
        return auth_response(
            request,
            accounts,
            user_id,
            tokens,
            "Registration successful. Please verify your email.",
            written,
        )

    @post("/login/", status_code=200, operation_id="login", sync_to_thread=True)
    def login(
        self,
        request: Req,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[LoginBody],
    ) -> AuthResponse:
        with read_your_writes() as written:
            signed = accounts.log_in(data.email, data.password, client_address(request))
        return auth_response(request, accounts, signed.user_id, signed.tokens, written=written)

    @post("/google/", status_code=200, operation_id="google_sign_in", sync_to_thread=True)
    def google(
        self,
        request: Req,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[GoogleBody],
    ) -> AuthResponse:
        google = container_of(request).google
        if data.credential or data.id_token:
            account = google.from_id_token(data.credential or data.id_token or "")
        elif data.access_token:
            account = google.from_access_token(data.access_token)
        else:
            raise ApiError(
                400,
                "INVALID",
                "access_token: This field is required.",
                {"access_token": ["This field is required."]},
            )
        with read_your_writes() as written:
            signed = accounts.sign_in_with_google(account)
        return auth_response(request, accounts, signed.user_id, signed.tokens, written=written)

    @post(
        "/telegram/otp/create/",
        status_code=200,
        operation_id="telegram_code_create",
        sync_to_thread=True,
    )
    def telegram_code(
        self,
        phone_codes: Inject[PhoneCodes],
        clock: Inject[Clock],
        data: JSONBody[TelegramCodeBody],
    ) -> TelegramCode:
        """A13: the Telegram bot asks for a sign-in code for its user's phone."""
        issued = phone_codes.issue_telegram_code(
            data.secret_key, data.telegram_id, data.phone_number, data.full_name
        )
        remaining = (issued.expires_at - clock.now()).total_seconds()
        return TelegramCode(
            success=True,
            code=issued.code,
            expires_at=issued.expires_at.isoformat(),
            remaining_seconds=max(0, round(remaining)),
            code_length=len(issued.code),
            expire_minutes=max(1, round(issued.lifetime.total_seconds() / 60)),
        )

    @post(
        "/register/telegram/",
        status_code=201,
        operation_id="telegram_sign_in",
        sync_to_thread=True,
    )
    def telegram_sign_in(
        self,
        request: Req,
        accounts: Inject[Accounts],
        phone_codes: Inject[PhoneCodes],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[TelegramSignInBody],
    ) -> Response[AuthResponse]:
        """A14: phone + the bot's code -> tokens; the first sign-in creates the user."""
        with read_your_writes() as written:
            signed = phone_codes.sign_in_with_telegram(data.phone, data.code)
        body = auth_response(
            request,
            accounts,
            signed.user_id,
            signed.tokens,
            "Telegram orqali muvaffaqiyatli kirdingiz.",
            written,
        )
        return Response(body, status_code=201, cookies=token_cookies(request, signed.tokens))

    @post("/email/verify/", status_code=200, operation_id="email_verify", sync_to_thread=True)
    def email_verify(
        self,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[EmailVerifyBody],
    ) -> Message:
        """A9: the link mailed at registration (or by A10), once, within 24 hours."""
        with read_your_writes():
            accounts.verify_email(data.token)
        return Message(success=True, message="Email verified successfully.")

    @post(
        "/email/resend/",
        status_code=200,
        operation_id="email_resend",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def email_resend(self, actor: Inject[Actor], accounts: Inject[Accounts]) -> Message:
        """A10: a new verification link (the earlier one stops working); one a minute."""
        accounts.resend_verification(actor)
        return Message(success=True, message="Verification email sent.")

    @post("/otp/request/", status_code=200, operation_id="otp_request", sync_to_thread=True)
    def otp_request(
        self, phone_codes: Inject[PhoneCodes], data: JSONBody[OtpRequestBody]
    ) -> Message:
        """A11: text a code to the phone (a development sender: no SMS provider yet)."""
        phone_codes.request_code(data.phone_number)
        return Message(success=True, message="OTP sent to your phone.")

    @post("/otp/verify/", status_code=200, operation_id="otp_verify", sync_to_thread=True)
    def otp_verify(
        self,
        phone_codes: Inject[PhoneCodes],
        optional_caller: Inject[Caller | None],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[OtpVerifyBody],
    ) -> Message:
        """A12: check the texted code; a signed-in caller with this phone gets it verified."""
        actor = optional_caller.actor if optional_caller is not None else None
        with read_your_writes():
            phone_codes.verify_code(actor, data.phone_number, data.otp)
        return Message(success=True, message="OTP verified successfully.")

    @post("/refresh/", status_code=200, operation_id="refresh_token", sync_to_thread=True)
    def refresh(
        self,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[RefreshBody],
    ) -> Tokens:
        # A reuse revokes the family: its tokens are 401 from the next request on. A rotation
        # changes nothing the caller reads next, so it answers without waiting.
        with read_your_writes(refusals_only=True):
            pair = accounts.refresh(data.refresh)
        return Tokens(access=pair.access, refresh=pair.refresh)

    @post(
        "/logout/",
        status_code=200,
        operation_id="logout",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def logout(
        self,
        request: Req,
        caller: Inject[Caller],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[LogoutBody | None] = None,
    ) -> Message:
        with read_your_writes() as written:  # its access tokens: 401 from now on
            ended = accounts.log_out(
                caller.actor, data.refresh if data else None, caller.session_id
            )
        if ended is not None and not written.caught_up:
            # The sessions read model has not caught up (a projector down): write the row
            # through, so that every process refuses the session's tokens from now on.
            with container_of(request).store.engine.begin() as conn:
                record_revocation(conn, ended.session_id, "logout", ended.at)
        return Message(success=True, message="Logged out successfully.")

    @post("/password/reset/", status_code=200, operation_id="password_reset", sync_to_thread=True)
    def password_reset(
        self, accounts: Inject[Accounts], data: JSONBody[PasswordResetBody]
    ) -> Message:
        accounts.request_password_reset(data.email)
        return Message(
            success=True,
            message="If an account with this email exists, a reset link has been sent.",
        )

    @post(
        "/password/reset/confirm/",
        status_code=200,
        operation_id="password_reset_confirm",
        sync_to_thread=True,
    )
    def password_reset_confirm(
        self,
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[PasswordResetConfirmBody],
    ) -> Message:
        password = data.password or data.new_password
        if not password:
            raise ApiError(
                400,
                "INVALID",
                "password: This field is required.",
                {"password": ["This field is required."]},
            )
        if data.password_confirm is not None and data.password_confirm != password:
            raise _mismatch("password_confirm")
        with read_your_writes():
            accounts.reset_password(data.token, password)
        return Message(success=True, message="Password reset successfully.")

    @post(
        "/password/change/",
        status_code=200,
        operation_id="password_change",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def password_change(
        self,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[PasswordChangeBody],
    ) -> Message:
        old = data.old_password or data.current_password
        if not old:
            raise ApiError(
                400,
                "INVALID",
                "old_password: This field is required.",
                {"old_password": ["This field is required."]},
            )
        if data.new_password_confirm is not None and data.new_password_confirm != data.new_password:
            raise _mismatch("new_password_confirm")
        with read_your_writes():
            accounts.change_password(actor, old, data.new_password)
        return Message(success=True, message="Password changed successfully.")

    @get("/me/", operation_id="me", sync_to_thread=False, guards=[signed_in])
    def me(self, request: Req, caller: Inject[Caller]) -> User:
        return user_from_row(caller.row, str(request.base_url))

    @patch("/me/", operation_id="update_me", opt=JSON_OR_MULTIPART, guards=[signed_in])
    async def update_me(
        self,
        request: Req,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
    ) -> User:
        return await update_profile(request, actor, accounts, read_your_writes)

    @put("/me/", operation_id="replace_me", opt=JSON_OR_MULTIPART, guards=[signed_in])
    async def replace_me(
        self,
        request: Req,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
    ) -> User:
        return await update_profile(request, actor, accounts, read_your_writes)

    @post(
        "/account/delete/",
        status_code=200,
        operation_id="delete_account",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def delete_account(
        self,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[DeleteAccountBody],
    ) -> Message:
        with read_your_writes():
            accounts.delete_account(actor, data.password)
        return Message(success=True, message="Account deleted successfully.")

    @get("/users/{user_id:uuid}/", operation_id="public_profile", sync_to_thread=True)
    def public_profile(self, request: Req, user_id: FromPath[UUID]) -> UserPublic:
        with container_of(request).store.reader.connect() as conn:
            row = active_user_row(conn, user_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", "User not found.")
        return public_user_from_row(row, str(request.base_url))


async def update_profile(
    request: Req, actor: Actor, accounts: Accounts, read_your_writes: ReadYourWrites
) -> User:
    """PATCH/PUT of the caller's profile: JSON, or multipart with an ``avatar`` file (A15)."""
    avatar: bytes | None = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("avatar")
        if isinstance(upload, UploadFile):
            avatar = await upload.read(MAX_BYTES + 1)
        fields = {k: v for k, v in form.items() if k != "avatar" and isinstance(v, str)}
        data = _decode(lambda: msgspec.convert(fields, ProfileBody, strict=False))
    else:
        raw = await request.body()
        data = _decode(lambda: msgspec.json.decode(raw or b"{}", type=ProfileBody))

    def apply() -> User:
        with read_your_writes() as written:
            if avatar is None:
                accounts.update_profile(actor, data.changes())
            else:
                accounts.change_avatar(actor, avatar, data.changes())
        return current_user(request, accounts, actor.id(), written)

    return await run_sync(apply)


def _decode(parse: Callable[[], ProfileBody]) -> ProfileBody:
    try:
        return parse()
    except msgspec.DecodeError as e:  # ValidationError is a DecodeError
        key = "" if isinstance(e, msgspec.ValidationError) else "body"
        raise ValidationException(detail=str(e), extra=[{"message": str(e), "key": key}]) from e
