"""Users (staff) and long-lived API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from fleet.core.access import Role
from fleet.core.db import UTCDateTime, enum_type, utcnow


class UserBase(SQLModel):
    username: str = Field(max_length=60, min_length=1)
    full_name: str = Field(default="", max_length=100)
    role: Role = Field(default=Role.field, sa_type=enum_type(Role))
    phone: str | None = Field(default=None, max_length=40)
    language: str = Field(default="zh", max_length=5)
    is_active: bool = True


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True, index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    hashed_password: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Sign-in failures since first_failed_at; enough of them lock the account until locked_until.
    failed_logins: int = 0
    first_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Carried in every access token; "sign out everywhere" bumps it, refusing older tokens.
    token_version: int = 0


class UserCreate(UserBase):
    branch_code: str
    password: str | None = Field(default=None, min_length=8, max_length=200)


class UserUpdate(SQLModel):
    full_name: str | None = Field(default=None, max_length=100)
    role: Role | None = None
    phone: str | None = None
    language: str | None = Field(default=None, max_length=5)
    is_active: bool | None = None
    branch_code: str | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)


class UserPublic(UserBase):
    id: int
    branch_id: int
    branch_code: str | None = None


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    # Only a SHA-256 of the token is kept; the token itself is shown once, at creation.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiTokenCreate(SQLModel):
    name: str = Field(max_length=100, min_length=1)
    days: int | None = Field(default=None, ge=1, le=3650)


class ApiTokenPublic(SQLModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenPublic):
    token: str


class AccessToken(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt let through, by client address: the per-IP rate limit counts these
    (in the database, so that every app worker sees the same count)."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    client_ip: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class RevokedToken(SQLModel, table=True):
    """A signed-out access token, by its id (jti): refused until it would have expired anyway,
    then purged. Every request with a signed access token looks its jti up here (by key)."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id")
    # The token's own expiry: past it the token is refused regardless, and the row can go.
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    revoked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppSecret(SQLModel, table=True):
    """A secret the app makes for itself and keeps with its data: the key that signs tokens
    when FLEET_SECRET_KEY is not set (fleet.auth.keys). One row per name, never changed."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
