"""Sign-in, API tokens and user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlmodel import Session

from fleet.auth import security
from fleet.auth import service as auth
from fleet.auth.dependencies import ActorDep, CallerDep, oauth2
from fleet.auth.models import (
    AccessToken,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    User,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from fleet.core.access import Permission, Role
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch

router = APIRouter()


def users_public(session: Session, rows: list[User]) -> list[UserPublic]:
    branches = inventory.codes(session, Branch, {u.branch_id for u in rows})
    return [
        UserPublic.model_validate(u, update={"branch_code": branches.get(u.branch_id)})
        for u in rows
    ]


@router.post(
    "/auth/token",
    response_model=AccessToken,
    tags=["auth"],
    responses={
        429: {"description": "Too many sign-in attempts from your address; see Retry-After"}
    },
)
def sign_in(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> AccessToken:
    """OAuth2 password flow: username and password in, a bearer token out. At most
    FLEET_LOGIN_RATE_PER_IP attempts per FLEET_LOGIN_RATE_WINDOW_SECONDS from one address
    (429 with Retry-After beyond), and repeated failures lock the account for a while."""
    auth.throttle_sign_in(session, request.client.host if request.client else None)
    user = auth.authenticate(session, form.username, form.password)
    token, lifetime = security.create_access_token(user.id or 0, user.token_version)
    return AccessToken(access_token=token, expires_in=lifetime)


@router.get("/auth/me", response_model=UserPublic, tags=["auth"])
def me(session: SessionDep, caller: CallerDep) -> UserPublic:
    """The signed-in user."""
    return users_public(session, [caller.user])[0]


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(
    session: SessionDep, caller: CallerDep, token: Annotated[str | None, Depends(oauth2)]
) -> Response:
    """Signs out the access token sent with this request: from now on it is refused (401, as
    if it had expired), also where it was copied to. Your other sign-ins stay (see
    `logout-all`). An API token is not signed out here (422): revoke it with
    `DELETE /auth/api-tokens/{token_id}`."""
    # `caller` has checked the token: present, valid, not signed out already.
    auth.sign_out(session, token or "")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout-all", tags=["auth"])
def logout_all(
    session: SessionDep,
    caller: CallerDep,
    api_tokens: Annotated[
        bool, Query(description="Revoke your API tokens as well, not only sign-ins.")
    ] = False,
) -> dict[str, int]:
    """Signs you out everywhere: every access token issued to you so far stops working at once
    (sign in again for a new one). API tokens stay unless `api_tokens=true`."""
    revoked = auth.logout_all(session, caller.user, api_tokens=api_tokens)
    return {"api_tokens_revoked": revoked}


@router.post(
    "/auth/api-tokens",
    response_model=ApiTokenCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["auth"],
)
def create_api_token(
    session: SessionDep, caller: CallerDep, data: ApiTokenCreate
) -> ApiTokenCreated:
    """A long-lived token for scripts, acting as you. The token is shown only in this answer."""
    row, token = auth.create_api_token(session, caller.user, data)
    return ApiTokenCreated.model_validate(row, update={"token": token})


@router.get("/auth/api-tokens", response_model=list[ApiTokenPublic], tags=["auth"])
def list_api_tokens(session: SessionDep, caller: CallerDep) -> list[ApiTokenPublic]:
    """Your API tokens (without the secrets)."""
    return [ApiTokenPublic.model_validate(t) for t in auth.list_api_tokens(session, caller.user)]


@router.delete("/auth/api-tokens/{token_id}", response_model=ApiTokenPublic, tags=["auth"])
def revoke_api_token(session: SessionDep, caller: CallerDep, token_id: int) -> ApiTokenPublic:
    """Revokes one of your API tokens at once."""
    return ApiTokenPublic.model_validate(auth.revoke_api_token(session, caller.user, token_id))


@router.get("/users", response_model=Page[UserPublic], tags=["users"])
def list_users(
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[str | None, Query(description="Text in username or name.")] = None,
    role: Role | None = None,
    branch_id: int | None = None,
    sort: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[UserPublic]:
    """Staff of your subtree (branch operations and admins)."""
    rows, total = auth.list_users(
        session, actor, q=q, role=role, branch_id=branch_id, sort=sort, limit=limit, offset=offset
    )
    return Page(items=users_public(session, rows), total=total, limit=limit, offset=offset)


@router.post(
    "/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, tags=["users"]
)
def create_user(session: SessionDep, actor: ActorDep, data: UserCreate) -> UserPublic:
    """Adds a staff member to a branch of your subtree."""
    return users_public(session, [auth.create_user(session, actor, data)])[0]


@router.get("/users/{user_id}", response_model=UserPublic, tags=["users"])
def get_user(session: SessionDep, actor: ActorDep, user_id: int) -> UserPublic:
    """One staff member; 404 when outside your subtree."""
    actor.require(Permission.read_users)
    return users_public(session, [auth.get_user(session, actor, user_id)])[0]


@router.patch("/users/{user_id}", response_model=UserPublic, tags=["users"])
def update_user(session: SessionDep, actor: ActorDep, user_id: int, data: UserUpdate) -> UserPublic:
    """Changes a staff member's details, role, branch, password or active flag."""
    user = auth.get_user(session, actor, user_id)
    return users_public(session, [auth.update_user(session, actor, user, data)])[0]
