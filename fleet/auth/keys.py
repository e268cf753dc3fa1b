"""The key that signs access tokens, session cookies, CSRF tokens and pending forms.

FLEET_SECRET_KEY when it is set (production requires it, 32 bytes or more). Otherwise a random
key that the database keeps (table app_secret), made by the migration that adds the table, or
on first use for a database without it: tokens survive restarts, every worker on the database
signs with the same key, and there is no public default that could forge an admin's token.
"""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.auth.models import AppSecret
from fleet.core.config import get_settings
from fleet.core.db import dialect_insert, get_engine, separate_transaction, utcnow

SIGNING_KEY = "signing_key"
# Per database URL: the stored key never changes while the app runs (read once per process).
_stored: dict[str, str] = {}


def new_key() -> str:
    """64 random bytes, as URL-safe text."""
    return secrets.token_urlsafe(64)


def signing_key() -> str:
    """FLEET_SECRET_KEY, or the database's own key."""
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key
    key = _stored.get(settings.database_url)
    if key is None:
        key = _stored[settings.database_url] = stored_key(get_engine())
    return key


def stored_key(engine: Engine) -> str:
    """The database's signing key, made now when it has none. Two workers starting at once
    both try to insert one; the database keeps the first (ON CONFLICT DO NOTHING) and both
    read back that one. Its own short transaction: the key must outlive the request that
    happened to need it first."""
    with separate_transaction(engine) as session:
        found = session.execute(
            select(AppSecret.value).where(AppSecret.name == SIGNING_KEY)
        ).scalar_one_or_none()
        if found is not None:
            return found
        insert = dialect_insert(session)
        session.execute(
            insert(AppSecret)
            .values(name=SIGNING_KEY, value=new_key(), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        return session.execute(
            select(AppSecret.value).where(AppSecret.name == SIGNING_KEY)
        ).scalar_one()


def forget() -> None:
    """Drops the keys read so far (tests that change databases or settings)."""
    _stored.clear()
