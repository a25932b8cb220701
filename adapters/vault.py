"""Sealing secrets at rest (account credentials) with AES-256-GCM.

The key is derived (HKDF-SHA256) from CREDENTIALS_KEY, so any long random string works as the
setting. A sealed value is ``v1.<base64(nonce | ciphertext+tag)>``; the aggregate id is bound in
as associated data, so a sealed value copied onto another listing or escrow does not open.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."


class Vault:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("CREDENTIALS_KEY must be at least 16 characters")
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"wibestore-credentials",
            info=b"aes-256-gcm v1",
        ).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, value: dict[str, Any], bound_to: UUID) -> str:
        nonce = os.urandom(12)
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plaintext, bound_to.bytes)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, bound_to: UUID) -> dict[str, Any]:
        if not sealed.startswith(PREFIX):
            raise ValueError("unknown sealed format")
        raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
        try:
            plaintext = self._aead.decrypt(raw[:12], raw[12:], bound_to.bytes)
        except InvalidTag as e:
            raise ValueError("sealed value does not open with this key") from e
        value: dict[str, Any] = json.loads(plaintext)
        return value
