"""Password and token hashing: Argon2id (argon2-cffi) for passwords, SHA-256 for tokens.

Passwords are low-entropy secrets, so they get a slow, memory-hard hash with its own salt.
API tokens are 256 random bits: a fast hash is as safe there and lets a request find its token
with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import Any

from mlflowx.exceptions import InvalidParameter

__all__ = ["TOKEN_PREFIX", "hash_password", "hash_token", "new_token", "verify_password"]

#: Tokens start with this, so that secret scanners and people can tell what they are.
TOKEN_PREFIX = "mlx_"
MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise InvalidParameter(
            "Authentication needs argon2-cffi: pip install 'mlflowx[server]'"
        ) from exc
    return PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidParameter(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    return str(_hasher().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
