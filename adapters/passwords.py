"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, fast: bool = False) -> None:
        # The cheapest profile is for the test suite only: it keeps hypothesis runs quick.
        params = profiles.CHEAPEST if fast else profiles.RFC_9106_LOW_MEMORY
        self._hasher = PasswordHasher.from_parameters(params)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def matches(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def matches_any(self, hashes: Iterable[str], password: str) -> bool:
        return any(self.matches(h, password) for h in hashes)
