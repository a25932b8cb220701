"""Google sign-in through google-auth: ID tokens (verified locally against Google's certificates)
and OAuth access tokens (checked at Google's userinfo endpoint)."""

from __future__ import annotations

from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import id_token

from application.errors import GoogleRejected
from application.ports import GoogleAccount

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})


class GoogleAuthClient:
    def __init__(self, client_ids: tuple[str, ...], certs_url: str, userinfo_url: str) -> None:
        self.client_ids = client_ids
        self.certs_url = certs_url
        self.userinfo_url = userinfo_url
        self._session = requests.Session()
        self._request = google.auth.transport.requests.Request(session=self._session)

    def from_id_token(self, credential: str) -> GoogleAccount:
        if not self.client_ids:
            raise GoogleRejected("Google sign-in is not configured.")
        try:
            claims = id_token.verify_token(
                credential,
                self._request,
                audience=list(self.client_ids),
                certs_url=self.certs_url,
                clock_skew_in_seconds=10,
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as e:
            raise GoogleRejected("Invalid Google credential.") from e
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise GoogleRejected("Invalid Google credential.")
        return self._account(claims)

    def from_access_token(self, access_token: str) -> GoogleAccount:
        try:
            response = self._session.get(
                self.userinfo_url,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=5,
            )
        except requests.RequestException as e:
            raise GoogleRejected() from e
        if response.status_code != 200:
            raise GoogleRejected()
        try:
            return self._account(response.json())
        except ValueError as e:
            raise GoogleRejected() from e

    @staticmethod
    def _account(claims: Any) -> GoogleAccount:
        email = claims.get("email") if isinstance(claims, dict) else None
        verified = claims.get("email_verified") in (True, "true") if email else False
        if not email or not verified:
            raise GoogleRejected("Google account has no verified email.")
        return GoogleAccount(
            email=str(email).lower(),
            name=str(claims.get("name") or ""),
            email_verified=True,
            subject=str(claims.get("sub") or ""),
        )
