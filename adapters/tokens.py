"""JSON Web Tokens (PyJWT): short-lived access tokens and rotating refresh tokens (HS256,
pinned). The TokenIssuer port (application/ports.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from application.errors import TokenInvalid
from application.ports import Claims

ALGORITHM = "HS256"
ISSUER = "wibestore"
LEEWAY = 5  # seconds of clock skew between API hosts
VERIFIED_KEPT = 10_000  # verified tokens remembered per process (a few MB at most)


class Tokens:
    def __init__(
        self,
        secret: str,
        access_minutes: int,
        refresh_minutes: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("JWT secret must be at least 32 characters")
        self._secret = secret
        self._now = now
        # (token, type) -> (claims, exp) of tokens whose signature and claims were checked: a
        # client sends the same access token for its whole life, and checking it again cost
        # ~45 us twice a request. Only the expiry can change, and it is checked at every use.
        self._verified: dict[tuple[str, str], tuple[Claims, float]] = {}
        self._access = timedelta(minutes=access_minutes)
        self._refresh = timedelta(minutes=refresh_minutes)

    @staticmethod
    def new_token_id() -> str:
        return secrets.token_hex(16)

    def access(
        self,
        user_id: UUID,
        at: datetime,
        extra: dict[str, Any] | None = None,
        session_id: UUID | None = None,
    ) -> str:
        """An access token; ``sid`` names its session, so revoking the session revokes it."""
        claims = {**(extra or {}), "user_id": str(user_id), "token_type": "access"}
        if session_id is not None:
            claims["sid"] = str(session_id)
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
        key = (token, token_type)
        known = self._verified.get(key)
        if known is not None:
            claims, expires = known
            if self._now() < expires + LEEWAY:  # PyJWT's test: exp <= now - leeway is expired
                return claims
            self._verified.pop(key, None)
            raise TokenInvalid("Token is expired")
        claims, expires = self._verify(token, token_type)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[key] = (claims, expires)
        return claims

    def _verify(self, token: str, token_type: str) -> tuple[Claims, float]:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=f"{ISSUER}:{token_type}",
                issuer=ISSUER,
                options={"require": ["exp", "iat", "jti", "aud", "iss"]},
                leeway=LEEWAY,
            )
            if payload.get("token_type") != token_type:
                raise TokenInvalid("Token has wrong type")
            claims = Claims(
                user_id=UUID(payload["user_id"]),
                token_type=token_type,
                jti=str(payload["jti"]),
                issued_at=float(payload["iat"]),
                session_id=UUID(payload["sid"]) if "sid" in payload else None,
                expires_at=float(payload["exp"]),
            )
            return claims, float(payload["exp"])
        except jwt.ExpiredSignatureError as e:
            raise TokenInvalid("Token is expired") from e
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as e:
            raise TokenInvalid("Token is invalid or expired") from e
