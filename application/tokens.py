"""JSON Web Tokens: short-lived access tokens and rotating refresh tokens (HS256, pinned)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
import msgspec

ALGORITHM = "HS256"
ISSUER = "wibestore"


class TokenInvalid(Exception):
    """The token is missing, malformed, tampered with, expired, of the wrong type or revoked."""

    def __init__(self, message: str = "Token is invalid or expired") -> None:
        super().__init__(message)
        self.message = message


class Claims(msgspec.Struct, frozen=True):
    user_id: UUID
    token_type: str
    jti: str
    issued_at: float
    session_id: UUID | None = None


class Tokens:
    def __init__(self, secret: str, access_minutes: int, refresh_minutes: int) -> None:
        if len(secret) < 32:
            raise ValueError("JWT secret must be at least 32 characters")
        self._secret = secret
        self._access = timedelta(minutes=access_minutes)
        self._refresh = timedelta(minutes=refresh_minutes)

    @staticmethod
    def new_token_id() -> str:
        return secrets.token_hex(16)

    def access(self, user_id: UUID, at: datetime, extra: dict[str, Any] | None = None) -> str:
        claims = {**(extra or {}), "user_id": str(user_id), "token_type": "access"}
        return self._encode(claims, at, self._access, self.new_token_id())

    def refresh(self, user_id: UUID, session_id: UUID, token_id: str, at: datetime) -> str:
        claims = {"user_id": str(user_id), "token_type": "refresh", "sid": str(session_id)}
        return self._encode(claims, at, self._refresh, token_id)

    def _encode(self, claims: dict[str, Any], at: datetime, life: timedelta, jti: str) -> str:
        payload = {
            **claims,
            "iss": ISSUER,
            "aud": f"{ISSUER}:{claims['token_type']}",
            "iat": at.timestamp(),
            "exp": int((at + life).timestamp()),
            "jti": jti,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, token_type: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=f"{ISSUER}:{token_type}",
                issuer=ISSUER,
                options={"require": ["exp", "iat", "jti", "aud", "iss"]},
                leeway=5,  # seconds of clock skew between API hosts
            )
            if payload.get("token_type") != token_type:
                raise TokenInvalid("Token has wrong type")
            return Claims(
                user_id=UUID(payload["user_id"]),
                token_type=token_type,
                jti=str(payload["jti"]),
                issued_at=float(payload["iat"]),
                session_id=UUID(payload["sid"]) if "sid" in payload else None,
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenInvalid("Token is expired") from e
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as e:
            raise TokenInvalid("Token is invalid or expired") from e
