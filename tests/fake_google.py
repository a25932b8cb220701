"""A local stand-in for Google's certificate and userinfo endpoints, with keys made here.

Only Google's network is faked: our GoogleAuthClient adapter and google-auth run for real.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "wibestore-test.apps.googleusercontent.com"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


class FakeGoogle:
    def __init__(self) -> None:
        self.key, self.cert = _key_and_cert()
        self.kid = "test-kid-1"
        self.access_tokens: dict[str, dict[str, Any]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/oauth2/v1/certs"):
                    self._json(200, {fake.kid: fake.cert})
                elif self.path.startswith("/oauth2/v3/userinfo"):
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    profile = fake.access_tokens.get(token)
                    self._json(200, profile) if profile else self._json(
                        401, {"error": "invalid_token"}
                    )
                else:
                    self._json(404, {})

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def certs_url(self) -> str:
        return f"{self.base}/oauth2/v1/certs"

    @property
    def userinfo_url(self) -> str:
        return f"{self.base}/oauth2/v3/userinfo"

    def __enter__(self) -> FakeGoogle:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def id_token(
        self,
        email: str,
        name: str = "",
        *,
        audience: str = CLIENT_ID,
        issuer: str = "https://accounts.google.com",
        expires_in: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
        verified: bool = True,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": f"sub-{email}",
            "email": email,
            "email_verified": verified,
            "name": name,
            "iat": now,
            "exp": now + expires_in,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def grant_access_token(self, token: str, email: str, name: str = "") -> None:
        self.access_tokens[token] = {
            "sub": f"sub-{email}",
            "email": email,
            "email_verified": True,
            "name": name,
        }
