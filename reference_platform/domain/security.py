"""Passwords (argon2id), opaque tokens stored hashed, and CSRF tokens for the HTML forms."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from reference_platform.settings import PasswordCost


class Passwords:
    """Hash with the account's cost; verify whatever cost a stored hash carries."""

    def __init__(self, real: PasswordCost, synthetic: PasswordCost) -> None:
        self._real = _hasher(real)
        self._synthetic = _hasher(synthetic)
        # At the real accounts' cost, the highest an account can have: an unknown identifier must take
        # as long as any account whose password is wrong.
        self._dummy = self._real.hash("dummy-password")

    def hash(self, password: str, *, synthetic: bool) -> str:
        return (self._synthetic if synthetic else self._real).hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._real.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def dummy_verify(self) -> None:
        """Spend a verification's time when the account does not exist (no user enumeration)."""
        self.verify(self._dummy, "x")


def _hasher(cost: PasswordCost) -> PasswordHasher:
    return PasswordHasher(
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost_kib,
        parallelism=cost.parallelism,
        type=Type.ID,
    )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored only as their SHA-256: a stolen table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, nonce: str) -> str:
    """The form token bound to the browser's CSRF cookie (signed double submit)."""
    return hmac.new(secret_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret_key, nonce), submitted)
