"""Users and tokens: create, authenticate, and turn a user into the Actor services receive."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Delete, delete
from sqlmodel import Session, col, select

from fleet.auth.models import (
    ApiToken,
    ApiTokenCreate,
    LoginAttempt,
    RevokedToken,
    User,
    UserCreate,
    UserUpdate,
)
from fleet.auth.security import (
    API_TOKEN_PREFIX,
    access_token_expiry,
    api_token_hash,
    decode_access_token,
    hash_password,
    new_api_token,
    verify_password,
)
from fleet.core import audit
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import get_settings
from fleet.core.db import dialect_insert, separate_transaction, utcnow
from fleet.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from fleet.core.paging import fetch_page
from fleet.inventory import service as inventory
from fleet.inventory.scope import subtree_ids, visible


def actor_for(session: Session, user: User) -> Actor:
    """The Actor for a logged-in user: their role and their branch subtree (all, for admin)."""
    branches = None if user.role is Role.admin else subtree_ids(session, user.branch_id)
    return Actor(username=user.username, role=user.role, user_id=user.id, branch_ids=branches)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    return visible(actor, session.get(User, user_id), what="user", key=user_id)


def user_by_username(session: Session, actor: Actor, username: str) -> User:
    return inventory.staff_by_username(session, actor, username)


def list_users(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    role: str | None = None,
    branch_id: int | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[User], int]:
    actor.require(Permission.read_users)
    stmt = select(User)
    if actor.branch_ids is not None:
        stmt = stmt.where(User.branch_id.in_(actor.branch_ids))  # type: ignore[attr-defined]
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(User.username.ilike(pattern) | User.full_name.ilike(pattern))  # type: ignore[attr-defined]
    if role:
        stmt = stmt.where(User.role == role)
    if branch_id is not None:
        stmt = stmt.where(User.branch_id == branch_id)
    return fetch_page(
        session,
        stmt,
        model=User,
        sort=sort,
        sortable={"username", "full_name", "role"},
        limit=limit,
        offset=offset,
    )


def _check_grant(actor: Actor, role: Role) -> None:
    if role is Role.admin and actor.role is not Role.admin:
        raise Forbidden("only an admin may grant the admin role")


def create_user(session: Session, actor: Actor, data: UserCreate) -> User:
    actor.require(Permission.write_users)
    _check_grant(actor, data.role)
    if session.execute(select(User.id).where(User.username == data.username)).first():
        raise Conflict("user {username} already exists", username=data.username)
    branch = inventory.branch_by_code(session, actor, data.branch_code)
    user = User(
        **data.model_dump(exclude={"branch_code", "password"}),
        branch_id=branch.id or 0,
        hashed_password=hash_password(data.password) if data.password else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=user.username,
        branch_id=user.branch_id,
        changes=data.model_dump(exclude={"password"}) | {"password_set": bool(data.password)},
    )
    return user


def update_user(session: Session, actor: Actor, user: User, data: UserUpdate) -> User:
    actor.require(Permission.write_users)
    if data.role is not None:
        _check_grant(actor, data.role)
    if user.role is Role.admin and actor.role is not Role.admin:
        raise Forbidden("only an admin may change an admin")
    updates = data.model_dump(exclude_unset=True, exclude={"branch_code", "password"})
    if data.branch_code:
        updates["branch_id"] = inventory.branch_by_code(session, actor, data.branch_code).id
    changed = audit.diff(user, updates)
    if data.password:
        user.hashed_password = hash_password(data.password)
        changed["password"] = "changed"
    if changed:
        user.updated_at = utcnow()
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="user",
            entity_id=user.username,
            branch_id=user.branch_id,
            changes=changed,
        )
    return user


WRONG = "wrong username or password"


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; one message for every failure.

    login_max_failures failures within login_failure_window_minutes lock the account for
    login_lock_minutes: while locked even the right password is refused, with the same message
    (an attacker learns nothing), and the failure is counted on its own connection so that the
    request's rollback cannot undo it.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = utcnow()
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    good = verify_password(password, user.hashed_password if user else None)
    if user is None or locked or not good:
        if user is not None and not locked:
            _count_failure(session, user.id or 0)
        raise Unauthorized(WRONG)
    if not user.is_active:
        raise Unauthorized("this account is disabled")
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
        session.add(user)
    return user


def throttle_sign_in(session: Session, client_ip: str | None) -> None:
    """Counts a sign-in attempt from `client_ip`; past login_rate_per_ip attempts within
    login_rate_window_seconds, TooManyRequests with the seconds until the oldest one ages out.

    On its own connection and committed at once (a refused sign-in rolls its request back, and
    must still count), in the database so that every app worker shares one count. Two workers
    racing at the limit may each let one more through: a limit, not an exact quota.
    """
    settings = get_settings()
    limit = settings.login_rate_per_ip
    if limit <= 0 or not client_ip:
        return
    now = utcnow()
    window = timedelta(seconds=settings.login_rate_window_seconds)
    retry_after = 0
    with separate_transaction(session.get_bind().engine) as own:
        # Attempts older than the window count for nobody: forget them as we go.
        own.execute(delete(LoginAttempt).where(col(LoginAttempt.at) <= now - window))
        recent = own.execute(
            select(LoginAttempt.at)
            .where(col(LoginAttempt.client_ip) == client_ip[:64])
            .order_by(col(LoginAttempt.at))
        ).scalars()
        times = list(recent)
        if len(times) >= limit:
            retry_after = max(1, math.ceil((times[0] + window - now).total_seconds()))
        else:
            own.add(LoginAttempt(client_ip=client_ip[:64], at=now))
    if retry_after:
        raise TooManyRequests(
            "too many sign-in attempts from this address; try again in {seconds} s",
            retry_after=retry_after,
            seconds=retry_after,
        )


def _count_failure(session: Session, user_id: int) -> None:
    """Counts a failed sign-in (committed at once) and locks the account at the limit."""
    settings = get_settings()
    now = utcnow()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    with separate_transaction(session.get_bind().engine) as own:
        user = own.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one()
        if user.first_failed_at is None or user.first_failed_at < now - window:
            user.failed_logins, user.first_failed_at = 1, now
        else:
            user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins, user.first_failed_at = 0, None
            audit.record(
                own,
                actor=actor_for(own, user),
                action="lock",
                entity="user",
                entity_id=user.username,
                branch_id=user.branch_id,
                changes={"locked_until": user.locked_until, "reason": "repeated sign-in failures"},
            )
        own.add(user)


def active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("this account no longer exists or is disabled")
    return user


def user_for_access_token(session: Session, user_id: int, version: int, jti: str | None) -> User:
    """The user of a signed access token (the claims of decode_access_token), unless the token
    was signed out, or they signed out everywhere since it was made. A token without an id
    (made before tokens had one) cannot have been signed out: it works until it expires."""
    if jti is not None and session.get(RevokedToken, jti) is not None:
        raise Unauthorized("invalid or expired token")  # the same answer as an expired one
    user = active_user(session, user_id)
    if version != user.token_version:
        raise Unauthorized("invalid or expired token")
    return user


# App workers' clocks may differ a little: a signed-out token's row outlives its expiry by this.
REVOKED_KEPT_PAST_EXPIRY = timedelta(minutes=5)


def expired_revocations() -> Delete:
    """Deletes the rows of signed-out tokens that have expired since (and the margin): run on
    each sign-out and by the clean-up job."""
    return delete(RevokedToken).where(
        col(RevokedToken.expires_at) < utcnow() - REVOKED_KEPT_PAST_EXPIRY
    )


def sign_out(session: Session, token: str) -> bool:
    """Signs this one access token out: it is refused from now on, as if it had expired; the
    user's other sessions stay (logout_all ends them all). Rows of signed-out tokens that
    have expired since are purged on the way. False for a token without an id (made before
    tokens carried one): it runs out on its own."""
    if token.startswith(API_TOKEN_PREFIX):
        raise Invalid("this is an API token: revoke it with DELETE /api/v1/auth/api-tokens/{id}")
    user_id, _, jti = decode_access_token(token)
    now = utcnow()
    session.execute(expired_revocations())
    if jti is None:
        return False
    values = {
        "jti": jti,
        "user_id": user_id,
        "expires_at": access_token_expiry(token),
        "revoked_at": now,
    }
    insert = dialect_insert(session)
    # Two sign-outs of one token at once (a double click) must not fail on the key.
    session.execute(insert(RevokedToken).values(**values).on_conflict_do_nothing())
    return True


def logout_all(
    session: Session, user: User, *, api_tokens: bool = False, actor: Actor | None = None
) -> int:
    """Ends every session of `user` (their access tokens stop working at once); with
    `api_tokens`, revokes their API tokens too. Returns how many API tokens were revoked.

    The user themselves by default; an `actor` who manages users (an admin) may do it for them,
    and is the one recorded in the audit log."""
    if actor is not None and actor.user_id != user.id:
        actor.require(Permission.write_users)
        get_user(session, actor, user.id or 0)  # in the actor's branch scope
    user.token_version += 1
    session.add(user)
    revoked = 0
    if api_tokens:
        now = utcnow()
        for row in list_api_tokens(session, user):
            if row.revoked_at is None:
                row.revoked_at = now
                session.add(row)
                revoked += 1
    session.flush()
    audit.record(
        session,
        actor=actor or actor_for(session, user),
        action="logout_all",
        entity="user",
        entity_id=user.username,
        branch_id=user.branch_id,
        changes={"token_version": user.token_version, "api_tokens_revoked": revoked},
    )
    return revoked


def create_api_token(session: Session, user: User, data: ApiTokenCreate) -> tuple[ApiToken, str]:
    """A long-lived token for scripts; returns the row and the token text (shown once)."""
    token = new_api_token()
    days = data.days or get_settings().api_token_days
    row = ApiToken(
        user_id=user.id or 0,
        name=data.name,
        token_hash=api_token_hash(token),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor_for(session, user),
        action="create",
        entity="api_token",
        entity_id=row.id,
        branch_id=user.branch_id,
        changes={"name": data.name, "days": days},
    )
    return row, token


def user_for_api_token(session: Session, token: str) -> User:
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == api_token_hash(token))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("invalid, expired or revoked API token")
    row.last_used_at = now
    session.add(row)
    return active_user(session, row.user_id)


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)  # type: ignore[arg-type]
    return list(session.execute(stmt).scalars())


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("API token {token_id} not found", token_id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=actor_for(session, user),
            action="revoke",
            entity="api_token",
            entity_id=row.id,
            branch_id=user.branch_id,
        )
    return row


LANGUAGES = ("zh", "en")


def set_own_language(session: Session, user: User, language: str) -> User:
    """Every user chooses their own page language (no user-admin right needed)."""
    if language not in LANGUAGES:
        raise Invalid("language must be one of {choices}", choices=", ".join(LANGUAGES))
    if user.language != language:
        user.language, user.updated_at = language, utcnow()
        session.add(user)
    return user


def full_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """{username: full name} of the given users who have one, in one query (people are shown
    by name, their username after it: `core.names`)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    stmt = select(User.username, User.full_name).where(col(User.username).in_(wanted))
    return {username: full for username, full in session.execute(stmt) if full}
