"""Password hashing (argon2) and signed access tokens (JWT, HS256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from fleet.auth.keys import signing_key
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Unauthorized


def _password_hasher() -> PasswordHash:
    """argon2id with pwdlib's recommended cost (~0.1 s a hash, by design); the test suite
    (FLEET_ENVIRONMENT=test), which makes thousands of users, uses argon2id at its lowest cost."""
    if get_settings().environment == "test":
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


_hasher = _password_hasher()
API_TOKEN_PREFIX = "flt_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        # Spend the same time as a real check so absent users cannot be told apart.
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, hashed)


_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccessClaims(NamedTuple):
    """Who a valid access token speaks for: the user, their token version when it was made,
    and the token's own id (None in tokens made before they carried one)."""

    user_id: int
    version: int
    jti: str | None


def create_access_token(user_id: int, version: int = 0) -> tuple[str, int]:
    """A signed token for `user_id` and its lifetime in seconds. `version` is the user's token
    version: signing out everywhere bumps it, and older tokens are refused. Each token has its
    own id (jti), by which signing out refuses this one token."""
    settings = get_settings()
    lifetime = settings.access_token_minutes * 60
    claims = {
        "sub": str(user_id),
        "ver": version,
        "jti": secrets.token_urlsafe(16),
        "exp": utcnow() + timedelta(seconds=lifetime),
    }
    return jwt.encode(claims, signing_key(), algorithm="HS256"), lifetime


def _claims(token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, signing_key(), algorithms=["HS256"], options={"require": ["exp"]}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid or expired token") from exc
    return claims


def decode_access_token(token: str) -> AccessClaims:
    """The claims of a valid, unexpired token (signed-out ones are the service's to refuse)."""
    claims = _claims(token)
    try:
        jti = claims.get("jti")
        return AccessClaims(
            int(claims["sub"]), int(claims.get("ver", 0)), None if jti is None else str(jti)
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("invalid or expired token") from exc


def access_token_expiry(token: str) -> datetime:
    """When a valid token expires (to keep a signed-out token's id no longer than that)."""
    return datetime.fromtimestamp(int(_claims(token)["exp"]), UTC)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
